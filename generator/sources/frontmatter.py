"""YAML front matter: split it off, validate the known keys, report the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.core.errors import SourceError
from generator.core.diagnostics import Diagnostic

KNOWN_KEYS = ("description", "id", "nav_order", "optional", "owner", "tags", "title", "type")


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
    try:
        data = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"invalid YAML front matter: {problem}", path, line) from None
    if not isinstance(data, dict):
        raise SourceError("front matter must be a mapping of keys to values", path, 2)
    body = "\n".join(lines[end + 1 :])
    return _validate(data, path, lines[1:end]), body, end + 1


def _key_line(key: str, raw_lines: list[str]) -> int:
    for index, line in enumerate(raw_lines):
        if line.startswith(f"{key}:"):
            return index + 2
    return 2


def _validate(data: dict[Any, Any], path: str, raw_lines: list[str]) -> FrontMatter:
    warnings: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key in sorted(data, key=str):
        value = data[key]
        line = _key_line(str(key), raw_lines)
        if key not in KNOWN_KEYS:
            warnings.append(Diagnostic(path, line, f"unknown front matter key {str(key)!r}", "LB302"))
            continue
        if key in ("tags", "optional"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
                raise SourceError(f"front matter {key!r} must be a list of strings", path, line)
            values[key] = tuple(str(v) for v in value)
        elif key == "nav_order":
            if not isinstance(value, int) or isinstance(value, bool):
                raise SourceError("front matter 'nav_order' must be a whole number", path, line)
            values[key] = value
        elif key == "type":
            if value not in ("checklist", "page"):
                raise SourceError("front matter 'type' must be 'checklist' or 'page'", path, line)
            values[key] = value
        else:
            if value is None:
                value = ""
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise SourceError(f"front matter {key!r} must be text", path, line)
            values[key] = str(value).strip()
    return FrontMatter(**values, warnings=tuple(warnings))
