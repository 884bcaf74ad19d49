"""``launchbook inspect``: one parsed file as JSON for tools, or an outline for people."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generator.core.errors import SourceError
from generator.core.wording import counted
from generator.model import Checklist, Document, ItemState
from generator.sources.bounds import read_document
from generator.sources.checklist import parse_document

_BOXES = {ItemState.OPEN: "[ ]", ItemState.DONE: "[x]", ItemState.NA: "[~]"}


def inspect_file(path: Path) -> Document:
    """Parse one Markdown file wherever it is; inside a project's ``content/`` folder it gets
    the ID a build gives it (the path under ``content/``), elsewhere its file name's."""
    try:
        data = read_document(path, str(path))
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", path) from None
    return parse_document(data, str(path), content_relative(path))


def content_relative(path: Path) -> str:
    """``ops/deploy.md`` for ``…/content/ops/deploy.md`` (the nearest ``content`` folder
    above it), else the file's name."""
    absolute = Path(os.path.abspath(path))
    for parent in absolute.parents:
        if parent.name == "content":
            return absolute.relative_to(parent).as_posix()
    return absolute.name


def as_json(document: Document) -> dict[str, Any]:
    """The stable ``inspect --json`` shape."""
    checklist = document if isinstance(document, Checklist) else None
    return {
        "id": document.id,
        "title": document.title,
        "kind": "checklist" if checklist else "page",
        "source": document.source,
        "sha256": document.sha256,
        "owner": document.owner,
        "tags": list(document.tags),
        "description": document.description,
        "warnings": [str(w) for w in document.warnings],
        "signoffs": ([{"role": s.role, "line": s.line, "from": s.source} for s in checklist.signoffs]
                     if checklist else []),
        "decisions": [
            {"label": d.label, "options": list(d.options), "line": d.line} for d in checklist.decisions
        ]
        if checklist
        else [],
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "section": list(item.section),
                "depth": item.depth,
                "optional": item.optional,
                "state": item.state.value,
                "line": item.line,
                "parent": item.parent,
                **({"run": {"shell": item.shell, "command": item.command}} if item.command else {}),
            }
            for item in checklist.items
        ]
        if checklist
        else [],
    }


def as_outline(document: Document) -> str:
    """A readable outline: sections, indented items with state and ID."""
    lines = [f"{document.title}  ({document.source})"]
    if isinstance(document, Checklist):
        optional = sum(item.optional for item in document.items)
        lines.append(f"{counted(len(document.items), 'item')}, {optional} optional, "
                     f"{counted(len(document.signoffs), 'sign-off role')}")
        section: tuple[str, ...] = ()
        for item in document.items:
            if item.section != section:
                section = item.section
                lines.append("")
                lines.append(" › ".join(section) if section else "(no section)")
            mark = "  [optional]" if item.optional else ""  # a tag, never repeating "(optional)" in the text
            indent = "  " * item.depth
            lines.append(f"{indent}{_BOXES[item.state]} {item.text}{mark}  #{item.id}  line {item.line}")
        if document.signoffs:
            lines.append("")
            lines.append("Sign-off roles:")
            lines.extend(f"  {role.role}  (line {role.line}, from {role.source})" for role in document.signoffs)
    else:
        lines.append("plain page (no checklist items)")
    if document.warnings:
        lines.append("")
        lines.append("Warnings:")
        lines.extend(f"  {warning}" for warning in document.warnings)
    return "\n".join(lines)
