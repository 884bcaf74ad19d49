"""Recognise sign-off roles and decision boxes in a checklist's tokens.

Sign-off lines are roles, not work items: ``**Technical Lead:** ____ Date: ___`` as a
task line, or the rows of a ``| Role | Name | Signature | Date |`` table. Decision boxes
are lines such as ``**Ready for Production:** ⬜ YES ⬜ NO``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it.token import Token

from generator.model import Decision, SignoffRole
from generator.sources.markdown import plain_text

# "**Technical Lead:** ____ Date: ___" — a label, then only blanks and field labels.
_SIGNOFF_LINE = re.compile(r"^[*_\s]*(?P<role>[^*_:\n\\][^*:\n]{0,60}?)[*_\s]*:[*_\s]*(?P<rest>.*)$", re.S)
_FIELD_LABEL = re.compile(r"\b(?:date|signature|signed|name|initials|time)\s*:", re.I)
_BLANK_CHARS = re.compile(r"[\\_*\s.…/-]")
_ROLE_HEADERS = {"role", "roles", "function"}
_SIGNATURE_HEADERS = {"name", "signature", "signed", "date", "approval", "approved", "approver", "decision"}
_BOX = "⬜☐□◻▢"
_BOX_SPLIT = re.compile(f"[{_BOX}]")


def signoff_role(raw: str) -> str | None:
    """The role named by a fill-in sign-off line, or ``None`` if it is a work item."""
    match = _SIGNOFF_LINE.match(raw.strip())
    if not match:
        return None
    rest = match.group("rest")
    if rest.count("_") < 3:
        return None
    if _BLANK_CHARS.sub("", _FIELD_LABEL.sub("", rest)):
        return None
    return " ".join(match.group("role").split())


def table_signoffs(tokens: Sequence[Token], line_offset: int) -> list[SignoffRole]:
    """Roles from every sign-off table (a ``Role`` column plus a name/signature/date one)."""
    roles: list[SignoffRole] = []
    index = 0
    while index < len(tokens):
        if tokens[index].type != "table_open":
            index += 1
            continue
        end = index
        while tokens[end].type != "table_close":
            end += 1
        roles.extend(_roles_in_table(tokens[index : end + 1], line_offset))
        index = end + 1
    return roles


def _rows(table: Sequence[Token]) -> list[tuple[int, list[str]]]:
    rows: list[tuple[int, list[str]]] = []
    for position, token in enumerate(table):
        if token.type != "tr_open":
            continue
        cells: list[str] = []
        cursor = position + 1
        while table[cursor].type != "tr_close":
            if table[cursor].type == "inline":
                cells.append(plain_text(table[cursor].children))
            cursor += 1
        rows.append(((token.map or [0])[0], cells))
    return rows


def _roles_in_table(table: Sequence[Token], line_offset: int) -> list[SignoffRole]:
    rows = _rows(table)
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0][1]]
    if not any(cell in _ROLE_HEADERS for cell in header):
        return []
    if not any(cell in _SIGNATURE_HEADERS for cell in header):
        return []
    column = next(i for i, cell in enumerate(header) if cell in _ROLE_HEADERS)
    roles = []
    for line, cells in rows[1:]:
        if column < len(cells) and cells[column].strip():
            roles.append(SignoffRole(cells[column].strip(), line + 1 + line_offset, "table"))
    return roles


def decisions(tokens: Sequence[Token], line_offset: int) -> list[Decision]:
    """Every paragraph line offering boxed choices (``⬜ YES ⬜ NO``)."""
    found: list[Decision] = []
    for token in tokens:
        if token.type != "inline" or not any(box in token.content for box in _BOX):
            continue
        start = (token.map or [0])[0]
        text_lines = plain_text_lines(token)
        for offset, text in enumerate(text_lines):
            parts = _BOX_SPLIT.split(text)
            if len(parts) < 3:
                continue
            label = parts[0].strip(" :*_-").strip()
            options = tuple(part.strip(" /|,*_").strip() for part in parts[1:])
            found.append(Decision(label, tuple(o for o in options if o), start + offset + 1 + line_offset))
    return found


def plain_text_lines(token: Token) -> list[str]:
    """The plain text of an inline token, one entry per source line."""
    lines: list[list[str]] = [[]]
    for child in token.children or ():
        if child.type in ("softbreak", "hardbreak"):
            lines.append([])
        elif child.type in ("text", "code_inline"):
            lines[-1].append(child.content)
    return [" ".join("".join(parts).split()) for parts in lines]
