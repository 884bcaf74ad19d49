"""Site configuration (``content/site.yml``) as a declared, validated schema.

Validation collects every problem and reports them together; unknown keys are warnings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from generator.core.errors import ConfigError
from generator.core.files import regular_file
from generator.core.diagnostics import Diagnostic

CONFIG_NAME = "site.yml"
_KEYS = ("base_url", "description", "junit", "language", "nav", "theme", "timestamp_url", "title", "trust")


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
    """RFC 3161 timestamp authority for sealing reports (PAdES B-T); empty for B-B."""
    warnings: tuple[Diagnostic, ...] = ()
    """Unknown keys."""


def load_config(content_dir: Path, shown: str) -> SiteConfig:
    """Read ``site.yml`` from ``content_dir`` (defaults when absent)."""
    path = content_dir / CONFIG_NAME
    where = f"{shown}/{CONFIG_NAME}"
    if not os.path.lexists(path):
        return SiteConfig()
    regular_file(path, content_dir, shown=where, links=True)  # nothing from outside content/ is read
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise ConfigError("not valid UTF-8", where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}", where, mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of settings", where, 1)
    lines = path.read_text(encoding="utf-8").split("\n")
    return _validate(data, where, lines, content_dir)


def _line_of(key: str, lines: list[str]) -> int | None:
    for number, line in enumerate(lines, start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def _validate(data: dict[Any, Any], where: str, lines: list[str], base: Path) -> SiteConfig:
    problems: list[str] = []
    warnings: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key in sorted(data, key=str):
        value = data[key]
        line = _line_of(str(key), lines)
        if key not in _KEYS:
            warnings.append(Diagnostic(where, line, f"unknown setting {str(key)!r}"))
        elif key == "nav":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"line {line}: 'nav' must be a list of content paths")
            else:
                values["nav"] = tuple(v.strip("/") for v in value)
        elif key == "trust":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"line {line}: 'trust' must be a list of certificate files (PEM)")
            else:
                values["trust"] = tuple((base / v).resolve() for v in value)
        elif key == "junit":
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                problems.append(f"line {line}: 'junit' must map test names to item IDs")
            else:
                values["junit"] = tuple(sorted(value.items()))
        elif not isinstance(value, str):
            problems.append(f"line {line}: {key!r} must be text")
        elif key in ("base_url", "timestamp_url") and value and not value.startswith(("http://", "https://")):
            problems.append(f"line {line}: {key!r} must start with http:// or https://")
        elif key == "theme" and (not value or "/" in value or "\\" in value or value.startswith(".")):
            problems.append(f"line {line}: 'theme' must be a folder name under themes/")
        else:
            values[key] = value.rstrip("/") + "/" if key == "base_url" and value else value
    if problems:
        raise ConfigError("; ".join(problems), where)
    return SiteConfig(**values, warnings=tuple(warnings))


def build_datetime() -> datetime | None:
    """The build time that may reach output: ``SOURCE_DATE_EPOCH`` or ``None``.

    Without ``SOURCE_DATE_EPOCH`` no wall-clock time is written, so the same input always
    gives the same bytes.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=timezone.utc)
    except (ValueError, OverflowError):
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}") from None
