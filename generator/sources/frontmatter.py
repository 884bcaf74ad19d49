"""YAML front matter: split it off, validate the known keys, report the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError
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


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """Validated front matter of one document."""

    title: str = ""
    """Document title."""
    id: str = ""
    """Explicit document ID."""
    owner: str = ""
    """Owning team or person."""
    tags: tuple[str, ...] = ()
    """Free-form tags."""
    description: str = ""
    """One-paragraph summary."""
    type: str = ""
    """``checklist`` or ``page`` to override detection; empty to detect."""
    nav_order: int | None = None
    """Position in navigation (lower first)."""
    optional: tuple[str, ...] = ()
    """Item IDs to mark optional."""
    warnings: tuple[Diagnostic, ...] = field(default=())
    """Unknown keys and similar problems."""


def split_front_matter(text: str, path: str) -> tuple[FrontMatter, str, int]:
    """Return (front matter, body, number of lines the front matter took)."""
    if not text.startswith("---\n") and text.rstrip("\n") != "---":
        return FrontMatter(), text, 0
    lines = text.split("\n")
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise SourceError("front matter starts with '---' but never ends", path, 1)
    raw = "\n".join(lines[1:end])
    data = load_yaml(raw, path, SETTINGS_LIMITS, first_line=2, what="YAML front matter") if raw.strip() else YamlMap(2)
    if not isinstance(data, YamlMap):
        raise SourceError("front matter must be a mapping of keys to values", path, 2)
    body = "\n".join(lines[end + 1 :])
    return _validate(data, path), body, end + 1


def _type(value: str) -> str:
    return "" if value in ("checklist", "page") else "front matter 'type' must be 'checklist' or 'page'"


def _list_of_text(key: str) -> Field:
    return Field(key, Kind.TEXT_LIST, single=True, message=f"front matter {key!r} must be a list of strings")


_SCHEMA = Schema("front matter", (
    Field("title"), Field("id"), Field("owner"), _list_of_text("tags"), Field("description"),
    Field("type", check=_type), Field("nav_order", Kind.INT, message="front matter 'nav_order' must be a whole number"),
    _list_of_text("optional"),
), unknown=Unknown.WARNING, unknown_message="unknown front matter key {key!r}", unknown_code="LB302",
   prefix="front matter ")


def _validate(data: YamlMap, path: str) -> FrontMatter:
    problems = Problems(path)
    values = problems.read(data, _SCHEMA)
    problems.raise_errors()
    for key in ("title", "id", "owner", "description", "type"):
        values[key] = values[key].strip()
    return FrontMatter(**values, warnings=tuple(problems.warnings))
