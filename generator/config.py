"""Site configuration (``content/site.yml``) as a declared, validated schema.

Validation collects every problem and reports them together; unknown keys are warnings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.core.diagnostics import Diagnostic
from generator.core.errors import ConfigError
from generator.core.files import regular_file
from generator.core.selection import DEFAULT_INCLUDE, Selection, check_glob
from generator.core.yamlload import (
    SETTINGS_LIMITS,
    Field,
    Kind,
    Problems,
    Schema,
    Unknown,
    YamlMap,
    load_yaml,
)

CONFIG_NAME = "site.yml"
DEFAULT_MAX_DOCUMENT_SIZE = 4 * 1024 * 1024
"""Largest Markdown source in bytes unless ``site.yml`` sets ``max_document_size``."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Settings for one site."""

    title: str = "Runbooks"
    """Site title shown in the header and page titles."""
    description: str = ""
    """Short description for the home page and meta tags."""
    base_url: str = ""
    """Absolute URL the site is published at; enables ``sitemap.xml``."""
    theme: str = "default"
    """Theme name: ``themes/<name>/`` in the project, falling back to the default theme."""
    language: str = "en"
    """``lang`` attribute of every page."""
    nav: tuple[str, ...] = ()
    """Explicit navigation order: content-relative paths of files or folders."""
    junit: tuple[tuple[str, str], ...] = ()
    """JUnit test-case pattern (``classname.name``, globs allowed) -> checklist item ID."""
    trust: tuple[Path, ...] = ()
    """Trusted signer certificates (PEM), resolved against the content folder."""
    timestamp_url: str = ""
    """RFC 3161 timestamp authority for sealing (PAdES B-LT/B-T) and ``launchbook timestamp`` (B-LTA);
    empty for B-B."""
    selection: Selection = Selection()
    """``include:``/``exclude:`` globs: which files under ``content/`` are sources."""
    max_document_size: int = DEFAULT_MAX_DOCUMENT_SIZE
    """Largest Markdown source in bytes; a larger one is an error (parsing costs ~75-700 bytes of memory per byte)."""
    warnings: tuple[Diagnostic, ...] = ()
    """Unknown keys."""


def load_config(content_dir: Path, shown: str) -> SiteConfig:
    """Read ``site.yml`` from ``content_dir`` (defaults when absent); every problem in one error."""
    config, problems = check_config(content_dir, shown)
    problems.raise_errors()
    assert config is not None
    return config


def check_config(content_dir: Path, shown: str) -> tuple[SiteConfig | None, Problems]:
    """``site.yml`` and every problem found in it (``None`` when it has errors), without raising."""
    path = content_dir / CONFIG_NAME
    where = f"{shown}/{CONFIG_NAME}"
    problems = Problems(where, ConfigError)
    if not os.path.lexists(path):
        return SiteConfig(), problems
    regular_file(path, content_dir, shown=where, links=True)  # nothing from outside content/ is read
    try:
        data = load_yaml(path.read_bytes().decode("utf-8"), where, SETTINGS_LIMITS, error=ConfigError)
    except UnicodeDecodeError:
        problems.error("not valid UTF-8", None)
        return None, problems
    except OSError as exc:
        problems.error(f"cannot read: {exc.strerror}", None)
        return None, problems
    except ConfigError as exc:
        problems.error(exc.reason, exc.line)
        return None, problems
    if data is None:
        data = YamlMap(1)
    if not isinstance(data, YamlMap):
        problems.error("must be a mapping of settings", 1)
        return None, problems
    values = problems.read(data, _SCHEMA)
    junit = values["junit"]
    for pattern, item in junit.items():
        if not isinstance(pattern, str) or not isinstance(item, str):
            problems.error("'junit' must map test names to item IDs", junit.line_of(pattern))
    for key in ("include", "exclude"):
        for glob in values[key]:
            if problem := check_glob(glob):
                problems.error(f"{key!r}: {glob!r} {problem}", data.line_of(key))
    if problems.errors:
        return None, problems
    config = SiteConfig(
        title=values["title"], description=values["description"],
        base_url=values["base_url"].rstrip("/") + "/" if values["base_url"] else "",
        theme=values["theme"], language=values["language"], nav=tuple(v.strip("/") for v in values["nav"]),
        junit=tuple(sorted(junit.items())), trust=tuple((content_dir / v).resolve() for v in values["trust"]),
        timestamp_url=values["timestamp_url"], max_document_size=values["max_document_size"],
        warnings=tuple(problems.warnings),
        selection=Selection(tuple(values["include"]), tuple(values["exclude"])),
    )
    return config, problems


def _http(key: str) -> Callable[[Any], str]:
    def check(value: str) -> str:
        return "" if value.startswith(("http://", "https://")) else f"{key!r} must start with http:// or https://"

    return check


def _theme(value: str) -> str:
    if "/" in value or "\\" in value or value.startswith("."):
        return "'theme' must be a folder name under themes/"
    return ""


_SCHEMA = Schema("site.yml", (
    Field("title", Kind.STRING, default="Runbooks"), Field("description", Kind.STRING),
    Field("base_url", Kind.STRING, check=_http("base_url")),
    Field("theme", Kind.STRING, default="default", check=_theme), Field("language", Kind.STRING, default="en"),
    Field("nav", Kind.TEXT_LIST, message="'nav' must be a list of content paths"),
    Field("junit", Kind.MAP, message="'junit' must map test names to item IDs"),
    Field("trust", Kind.TEXT_LIST, message="'trust' must be a list of certificate files (PEM)"),
    Field("timestamp_url", Kind.STRING, check=_http("timestamp_url")),
    Field("include", Kind.TEXT_LIST, single=True, default=DEFAULT_INCLUDE,
          message="'include' must be a list of content-relative globs"),
    Field("exclude", Kind.TEXT_LIST, single=True,
          message="'exclude' must be a list of content-relative globs"),
    Field("max_document_size", Kind.INT, default=DEFAULT_MAX_DOCUMENT_SIZE, minimum=1024),
), unknown=Unknown.WARNING, unknown_message="unknown setting {key!r}", unknown_code="LB302")


def build_datetime() -> datetime | None:
    """The build time that may reach output: ``SOURCE_DATE_EPOCH`` or ``None``.

    Without ``SOURCE_DATE_EPOCH`` no wall-clock time is written, so the same input always
    gives the same bytes.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError):
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}") from None
