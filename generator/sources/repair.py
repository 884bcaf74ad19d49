"""Repair damaged checklist text before it is parsed, reporting every repair.

Repairs keep the line structure intact, so line numbers in later errors and in the
model still point at the user's file. Each kind of repair produces one warning naming
the first line it touched, how many lines it changed and the evidence it acted on.

Every repair but BOM and CRLF is decided per document, on evidence found in prose
(never in fenced code or code spans, which are never changed either):

* **Escaped export**: at least 3 lines outside code begin with an escaped block marker
  (``\\#``, ``\\-``, ``\\*``, ``\\+``, ``\\>``, ``1\\.``), of at least two kinds (headings,
  bullets, numbers, quotes), and they make up at least half of all heading, list and quote
  lines. A few legitimate escapes (``2019\\.``, ``\\*not bold\\*``, a literal
  ``\\- \\[ \\]`` example) never qualify.
* **&nbsp; indentation**: only a run of ``&nbsp;``/U+00A0 that indents a list item directly
  under another list item; indented prose keeps its non-breaking spaces.
* **Mojibake**: see :mod:`generator.sources.mojibake`.

Repairs run until nothing is left to repair, so the repaired text is a fixed point:
``lint --fix`` writes exactly what the parser reads, and a second ``--fix`` changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError
from generator.sources.mojibake import CP1252, MAC_ROMAN, MojibakeFix, evidence, fix_cp1252, fix_mac_roman
from generator.sources.prose import fenced_lines, fences, split_code_spans

_BOM = "\ufeff"
_INDENT = r"(?:&nbsp;|&#160;|&#xa0;|[ \t\u00a0])*"
# A heading, list or quote marker at the start of a line, escaped ("\#", "\-", "1\.") or not.
_BLOCK_MARKER = re.compile(rf"^{_INDENT}(\\?#{{1,6}}|\\?[-*+]|\\?>|\d{{1,9}}\\?[.)])(?=[ \t]|$)", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&|>~<])")
# An escape outside code, or an unescaped character an exporter would have escaped.
_BARE_SPECIAL = re.compile(r"(?<!\\)[_*]")
# One entity per nesting level, as exporters write it, with or without spaces between them.
_NBSP_INDENT = re.compile(r"^[ \t]*(?:(?:&nbsp;|&#160;|&#xa0;|\u00a0)[ \t]*)+", re.IGNORECASE)
_NBSP = re.compile(r"&nbsp;|&#160;|&#xa0;|\u00a0", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# A line that unescaping would turn into a code fence or an HTML block start, which swallows the lines below it.
_OPENS_BLOCK = re.compile(r"^ {0,3}(?:`{3,}|~{3,}|<[A-Za-z/!?])")
_EXPORT_MIN_LINES = 3
_EXPORT_MIN_KINDS = 2
_EXPORT_MIN_SHARE = 0.5
_MAX_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class Repaired:
    """Source text after repair, with the warnings describing what was changed."""

    text: str
    """Repaired text, ``\\n`` line endings, no BOM."""
    warnings: tuple[Diagnostic, ...]
    """One warning per kind of repair applied."""


def decode_source(data: bytes, path: str) -> tuple[str, list[Diagnostic]]:
    """Decode UTF-8 bytes (with or without BOM); undecodable bytes are an error."""
    warnings: list[Diagnostic] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        warnings.append(Diagnostic(path, 1, "removed a UTF-8 byte order mark", "LB101"))
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"not valid UTF-8: byte 0x{data[exc.start]:02X} at column {column}; "
            "save the file as UTF-8",
            path,
            line,
        ) from None


def repair_text(text: str, path: str) -> Repaired:
    """Apply every repair, until none applies, and describe each one as a warning."""
    warnings: list[Diagnostic] = []
    if text.startswith(_BOM):
        text = text[1:]
        warnings.append(Diagnostic(path, 1, "removed a UTF-8 byte order mark", "LB101"))
    if "\r" in text:
        first = text[: text.index("\r")].count("\n") + 1
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        warnings.append(Diagnostic(path, first, "converted CRLF line endings to LF", "LB102"))
    for _ in range(_MAX_ROUNDS):  # each round that changes the text shortens it or removes a U+00A0
        text, found = _repair_round(text, path)
        if not found:
            break
        warnings.extend(found)
    return Repaired(text, tuple(warnings))


def _repair_round(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    warnings: list[Diagnostic] = []
    text, warning = _unescape_export(text, path)
    warnings.extend(warning)
    text, warning = _nbsp_indentation(text, path)
    warnings.extend(warning)
    for codec, name, fix in ((MAC_ROMAN, "Mac Roman", fix_mac_roman), (CP1252, "Windows-1252", fix_cp1252)):
        found = evidence(text, codec)
        text, fixes = fix(text, found)
        warnings.extend(_mojibake_warning(fixes, path, name, found.describe()))
    return text, warnings


@dataclass(frozen=True, slots=True)
class ExportEvidence:
    """Heading, list and quote lines outside code, and how many of them an exporter escaped."""

    markers: int
    escaped: int
    kinds: frozenset[str]

    @property
    def convincing(self) -> bool:
        return (self.escaped >= _EXPORT_MIN_LINES and len(self.kinds) >= _EXPORT_MIN_KINDS
                and self.escaped >= _EXPORT_MIN_SHARE * self.markers)


def export_evidence(text: str) -> ExportEvidence:
    """How much of the document's block structure is escaped (fenced code not counted)."""
    lines = text.split("\n")
    markers = escaped = 0
    kinds: set[str] = set()
    for line, code in zip(lines, fenced_lines(lines), strict=True):
        match = None if code else _BLOCK_MARKER.match(line)
        if match is None:
            continue
        markers += 1
        marker = match.group(1)
        if "\\" in marker:
            escaped += 1
            kinds.add("heading" if "#" in marker else "quote" if ">" in marker
                      else "number" if marker[0].isdigit() else "bullet")
    return ExportEvidence(markers, escaped, frozenset(kinds))


def _unescape_export(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    if "\\" not in text:  # no escaped line, so no evidence (most files: no line walk)
        return text, []
    found = export_evidence(text)
    if not found.convincing:
        return text, []
    lines = text.split("\n")
    changed = 0
    first: int | None = None
    for index, new in enumerate(_unescaped_lines(lines)):
        line = lines[index]
        if _OPENS_BLOCK.match(new) and not _OPENS_BLOCK.match(line):
            continue  # "\`\`\`" was text in the export; unescaped it would hide everything after it
        if new != line:
            changed += 1
            first = index + 1 if first is None else first
            lines[index] = new
    if not changed:
        return text, []
    message = (
        f"undid Markdown escaping from an export (\\#, \\- \\[ \\], \\*\\* …) "
        f"on {changed} line{'s' if changed != 1 else ''}: {found.escaped} of {found.markers} heading, list and "
        f"quote lines were escaped"
    )
    return "\n".join(lines), [Diagnostic(path, first, message, "LB103")]


def _unescaped_lines(lines: list[str]) -> list[str]:
    """Prose unescaped outside code spans; a fenced block only when the exporter escaped it too
    (it has escapes and no bare ``_`` or ``*``); fence lines never."""
    result = ["".join(_ESCAPE.sub(r"\1", piece) if prose else piece for prose, piece in split_code_spans(line))
              for line in lines]
    for block in fences(lines):
        body = lines[block.start + 1 : block.body_end]
        joined = "\n".join(body)
        escaped = bool(_ESCAPE.search(joined)) and not _BARE_SPECIAL.search(_ESCAPE.sub("", joined))
        result[block.start : block.end] = [
            lines[block.start],
            *(_ESCAPE.sub(r"\1", line) if escaped else line for line in body),
            *lines[block.body_end : block.end],
        ]
    return result


def _nbsp_indentation(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    """``&nbsp;`` (or U+00A0) before a list marker, under a list item, becomes spaces."""
    if _NBSP.search(text) is None:  # nothing to replace (most files: no line walk)
        return text, []
    lines = text.split("\n")
    code = fenced_lines(lines)
    changed = 0
    first: int | None = None
    previous = ""  # the last non-blank line outside code, after repair
    for index, line in enumerate(lines):
        if code[index]:
            previous = ""
            continue
        match = _NBSP_INDENT.match(line)
        if match and _NBSP.search(match.group(0)) and _LIST_ITEM.match(line[match.end() :]) \
                and _LIST_ITEM.match(previous):
            spaces = len(_NBSP.sub(" ", match.group(0)).expandtabs(4))
            lines[index] = line = " " * spaces + line[match.end() :]
            changed += 1
            first = index + 1 if first is None else first
        if line.strip():
            previous = line
    if not changed:
        return text, []
    message = (f"replaced &nbsp; indentation with spaces on {changed} line{'s' if changed != 1 else ''}: "
               "each indents a list item under a list item")
    return "\n".join(lines), [Diagnostic(path, first, message, "LB104")]


def _mojibake_warning(fixes: list[MojibakeFix], path: str, codepage: str, found: str) -> list[Diagnostic]:
    if not fixes:
        return []
    sample = fixes[0]
    lines = len(fixes)
    message = (
        f"repaired {codepage} mojibake on {lines} line{'s' if lines != 1 else ''} "
        f"(e.g. {sample.before!r} -> {sample.after!r}; {found})"
    )
    return [Diagnostic(path, sample.line, message, "LB105")]
