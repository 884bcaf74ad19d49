"""The lint rules: codes, names, and the checks that need a parsed document.

Most problems are found by the parser itself (repairs, empty items, bad IDs, unknown
front matter keys) and carry their code on the :class:`Diagnostic`; the checks here look
at the parsed document as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.core.diagnostics import Diagnostic
from generator.model import Checklist, Document
from generator.sources.ids import normalise
from generator.sources.tasklines import text_follows


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    summary: str
    fixable: bool = False


RULES: dict[str, Rule] = {rule.code: rule for rule in (
    Rule("LB001", "unreadable", "the file cannot be parsed (bad bytes, front matter …)"),
    Rule("LB002", "bad-config", "content/site.yml is invalid or names a missing theme (the build stops)"),
    Rule("LB003", "bad-record", "a run record cannot be read or is invalid (the build stops)"),
    Rule("LB101", "byte-order-mark", "the file starts with a UTF-8 byte order mark", True),
    Rule("LB102", "crlf", "Windows (CRLF) line endings", True),
    Rule("LB103", "escaped-export", "Markdown escaped by an exporter (\\#, \\- \\[ \\], \\*\\*)", True),
    Rule("LB104", "nbsp-indent", "&nbsp; used for indentation", True),
    Rule("LB105", "mojibake", "text decoded with the wrong code page (Windows-1252, Mac Roman)", True),
    Rule("LB201", "empty-item", "a checklist item with no text"),
    Rule("LB202", "duplicate-item", "the same item text twice in one section"),
    Rule("LB203", "bad-id", "a malformed or duplicate explicit ID"),
    Rule("LB204", "heading-item", "a checklist item that is a heading in disguise"),
    Rule("LB205", "lost-item", "a line that looks like a task item but did not become one (GitHub may show it "
                               "as one)"),
    Rule("LB206", "too-deep", "lists nested too deeply to parse, flattened to the deepest level kept"),
    Rule("LB207", "renamed-id", "run records name a checklist by its old file-name ID (IDs now default to the path)"),
    Rule("LB301", "broken-link", "an internal link to a page, file or anchor that does not exist"),
    Rule("LB302", "unknown-key", "an unknown front matter key or site.yml setting"),
    Rule("LB303", "unknown-optional", "front matter 'optional' names an item that does not exist"),
    Rule("LB401", "signoff-without-roles", "a sign-off section in which no role was recognised"),
)}

_BARE_BOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[ xX~]?\]\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SIGNOFF_HEADING = re.compile(r"\b(sign[- ]?offs?|approvals?)\b", re.IGNORECASE)
_WHOLLY_STRONG = re.compile(r"^<(strong|b)>.*</\1>:?$", re.DOTALL)


def document_problems(document: Document) -> list[Diagnostic]:
    """Problems found by looking at a parsed document as a whole."""
    problems: list[Diagnostic] = []
    if isinstance(document, Checklist):
        problems += _malformed_ids(document)
        problems += _duplicate_items(document)
        problems += _heading_items(document)
    problems += _signoff_sections(document)
    return problems


def bare_boxes(text: str, source: str) -> list[Diagnostic]:
    """Lines that are only a checkbox (``- [ ]``): Markdown does not make them items at all.
    One with text on the next line is LB205 (the text was meant to be the item's)."""
    problems = []
    fenced = False
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _BARE_BOX.match(line) and not text_follows(lines[number] if number < len(lines) else ""):
            problems.append(Diagnostic(source, number, "empty checklist item (a checkbox with no text is not "
                                                       "an item at all)", "LB201"))
    return problems


_ID_LIKE = re.compile(r"\{#([^}]*)\}\s*$")


def _malformed_ids(checklist: Checklist) -> list[Diagnostic]:
    problems = []
    for item in checklist.items:
        match = _ID_LIKE.search(item.text)
        if match:
            problems.append(Diagnostic(checklist.source, item.line,
                                       f"{match.group(0).strip()!r} is not a valid item ID (letters, digits and "
                                       "- _ . : only), so it shows as text and the item gets a generated ID",
                                       "LB203"))
    return problems


def _duplicate_items(checklist: Checklist) -> list[Diagnostic]:
    first: dict[tuple[tuple[str, ...], str | None, str], int] = {}
    problems = []
    for item in checklist.items:
        if not item.text:
            continue
        key = (item.section, item.parent, normalise(item.text))
        if key in first:
            where = " › ".join(item.section) or "the top of the page"
            problems.append(Diagnostic(checklist.source, item.line,
                                       f"item {item.text!r} appears twice in {where} (first on line {first[key]})",
                                       "LB202"))
        else:
            first[key] = item.line
    return problems


def _heading_items(checklist: Checklist) -> list[Diagnostic]:
    parents = {item.parent for item in checklist.items if item.parent}
    problems = []
    for item in checklist.items:
        text = item.text.strip()
        letters = [c for c in text if c.isalpha()]
        reason = ""
        if text.startswith("#"):
            reason = "starts with '#'"
        elif item.id in parents and _WHOLLY_STRONG.match(item.html.strip()):
            reason = "is all bold and has items under it"
        elif item.id in parents and text.endswith(":"):
            reason = "ends with ':' and has items under it"
        elif len(letters) >= 6 and text.upper() == text and len(text.split()) >= 2:
            reason = "is written in capitals"
        if reason:
            problems.append(Diagnostic(checklist.source, item.line,
                                       f"item {text!r} {reason}: make it a heading (## …) if it names a section",
                                       "LB204"))
    return problems


def _signoff_sections(document: Document) -> list[Diagnostic]:
    roles = document.signoffs if isinstance(document, Checklist) else ()
    problems = []
    for heading in document.headings:
        if heading.level > 1 and _SIGNOFF_HEADING.search(heading.text) and not roles:
            problems.append(Diagnostic(document.source, heading.line,
                                       f"section {heading.text!r} looks like a sign-off section but no role was "
                                       "recognised (use a table with a Role column or lines like 'Role: ____')",
                                       "LB401"))
    return problems
