"""YAML front matter: split it off, validate the known keys, report the rest.

A ``---`` block is front matter only when it holds a YAML mapping (or nothing). Other
content is Markdown: ``---`` / ``Foo`` / ``---`` is a thematic break and a setext
heading (CommonMark example 96), a lone ``---`` is a rule. A block that tries to be a
mapping (a ``key:`` line) but is broken YAML, or never ends, is still an error.
GitHub's issue-template keys (``name``, ``about``, ``labels``, ``title``,
``assignees``) are known: ``name`` and ``about`` give the title and description.
"""

from __future__ import annotations

import re
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
    name: str = ""
    """GitHub issue template: the template's name (the document's title)."""
    about: str = ""
    """GitHub issue template: what it is for (the description when there is none)."""
    labels: tuple[str, ...] = ()
    """GitHub issue template: labels of new issues."""
    assignees: tuple[str, ...] = ()
    """GitHub issue template: people new issues are assigned to."""
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
        if _looks_like_keys(lines[1:]):
            raise SourceError("front matter starts with '---' but never ends", path, 1)
        return FrontMatter(), text, 0  # a thematic break at the top
    raw = "\n".join(lines[1:end])
    try:
        if raw.strip():
            data = load_yaml(raw, path, SETTINGS_LIMITS, first_line=2, what="YAML front matter")
        else:
            data = YamlMap(2)
    except SourceError:
        if _looks_like_keys(lines[1:end]):
            raise
        return FrontMatter(), text, 0  # Markdown between two rules, not YAML
    if not isinstance(data, YamlMap):
        return FrontMatter(), text, 0  # a scalar or list: '---' / 'Foo' / '---' is a rule and a heading
    body = "\n".join(lines[end + 1 :])
    return _validate(data, path), body, end + 1


_KEY_LINE = re.compile(r"""^(?:[A-Za-z_][\w.-]*|"[^"]*"|'[^']*')[ \t]*:(?:[ \t]|$)""")


def _looks_like_keys(lines: list[str]) -> bool:
    """Whether the first non-blank line is a ``key:`` (an attempt at front matter)."""
    first = next((line for line in lines if line.strip()), "")
    return bool(_KEY_LINE.match(first)) or first.lstrip().startswith("{")


def _type(value: str) -> str:
    return "" if value in ("checklist", "page") else "front matter 'type' must be 'checklist' or 'page'"


def _list_of_text(key: str) -> Field:
    return Field(key, Kind.TEXT_LIST, single=True, message=f"front matter {key!r} must be a list of strings")


_SCHEMA = Schema("front matter", (
    Field("title"), Field("id"), Field("owner"), _list_of_text("tags"), Field("description"),
    Field("type", check=_type), Field("nav_order", Kind.INT, message="front matter 'nav_order' must be a whole number"),
    _list_of_text("optional"), Field("name"), Field("about"), _list_of_text("labels"), _list_of_text("assignees"),
), unknown=Unknown.WARNING, unknown_message="unknown front matter key {key!r}", unknown_code="LB302",
   prefix="front matter ")


def _validate(data: YamlMap, path: str) -> FrontMatter:
    problems = Problems(path)
    values = problems.read(data, _SCHEMA)
    problems.raise_errors()
    for key in ("title", "id", "owner", "description", "type", "name", "about"):
        values[key] = values[key].strip()
    if values["name"] and values["about"]:  # a GitHub issue template: its 'title' is the new issue's
        values["title"], values["description"] = values["name"], values["description"] or values["about"]
    return FrontMatter(**values, warnings=tuple(problems.warnings))
