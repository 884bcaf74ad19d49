"""Repair damaged checklist text before it is parsed, reporting every repair.

Repairs keep the line structure intact, so line numbers in later errors and in the
model still point at the user's file. Each kind of repair produces one warning naming
the first line it touched and how many lines it changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.core.errors import SourceError
from generator.core.diagnostics import Diagnostic
from generator.sources.mojibake import MojibakeFix, fix_cp1252, fix_mac_roman

_BOM = "\ufeff"
# A line that an exporter escaped: "\# Title", "\- \[ ] item", "\*\*bold\*\*", "1\. step".
_ESCAPED_LINE = re.compile(r"^(?:&nbsp;|\s)*(?:\\[#>+*-]|\d+\\\.)")
_ESCAPED_TASK = re.compile(r"^(?:&nbsp;|\s)*\\[-*+] \\\[[ xX~]?\\?\]")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&|>~<])")
# One entity per nesting level, as exporters write it, with or without spaces between them.
_NBSP_INDENT = re.compile(r"^[ \t]*(?:(?:&nbsp;|&#160;|&#xa0;|\u00a0)[ \t]*)+", re.IGNORECASE)
# A line that unescaping would turn into a code fence or an HTML block start, which swallows the lines below it.
_OPENS_BLOCK = re.compile(r"^ {0,3}(?:`{3,}|~{3,}|<[A-Za-z/!?])")


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
    """Apply every repair to decoded text and describe each one as a warning."""
    warnings: list[Diagnostic] = []
    if text.startswith(_BOM):
        text = text[1:]
        warnings.append(Diagnostic(path, 1, "removed a UTF-8 byte order mark", "LB101"))
    if "\r" in text:
        first = text[: text.index("\r")].count("\n") + 1
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        warnings.append(Diagnostic(path, first, "converted CRLF line endings to LF", "LB102"))
    text, warning = _unescape_export(text, path)
    warnings.extend(warning)
    text, warning = _nbsp_indentation(text, path)
    warnings.extend(warning)
    text, fixes = fix_mac_roman(text)
    warnings.extend(_mojibake_warning(fixes, path, "Mac Roman"))
    text, fixes = fix_cp1252(text)
    warnings.extend(_mojibake_warning(fixes, path, "Windows-1252"))
    return Repaired(text, tuple(warnings))


def _unescape_export(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    lines = text.split("\n")
    escaped = [i for i, line in enumerate(lines) if _ESCAPED_LINE.match(line)]
    has_task = any(_ESCAPED_TASK.match(line) for line in lines)
    if len(escaped) < 3 and not has_task:
        return text, []
    changed = 0
    first: int | None = None
    for index, line in enumerate(lines):
        new = _ESCAPE.sub(r"\1", line)
        if _OPENS_BLOCK.match(new) and not _OPENS_BLOCK.match(line):
            continue  # "\`\`\`" was text in the export; unescaped it would hide everything after it
        if new != line:
            changed += 1
            first = index + 1 if first is None else first
            lines[index] = new
    message = (
        f"undid Markdown escaping from an export (\\#, \\- \\[ \\], \\*\\* …) "
        f"on {changed} line{'s' if changed != 1 else ''}"
    )
    return "\n".join(lines), [Diagnostic(path, first, message, "LB103")]


def _nbsp_indentation(text: str, path: str) -> tuple[str, list[Diagnostic]]:
    lines = text.split("\n")
    changed = 0
    first: int | None = None
    for index, line in enumerate(lines):
        match = _NBSP_INDENT.match(line)
        if not match:
            continue
        spaces = len(re.sub(r"&nbsp;|&#160;|&#xa0;|\u00a0", " ", match.group(0), flags=re.IGNORECASE).expandtabs(4))
        lines[index] = " " * spaces + line[match.end() :]
        changed += 1
        first = index + 1 if first is None else first
    if not changed:
        return text, []
    message = f"replaced &nbsp; indentation with spaces on {changed} line{'s' if changed != 1 else ''}"
    return "\n".join(lines), [Diagnostic(path, first, message, "LB104")]


def _mojibake_warning(fixes: list[MojibakeFix], path: str, codepage: str) -> list[Diagnostic]:
    if not fixes:
        return []
    sample = fixes[0]
    lines = len(fixes)
    message = (
        f"repaired {codepage} mojibake on {lines} line{'s' if lines != 1 else ''} "
        f"(e.g. {sample.before!r} -> {sample.after!r})"
    )
    return [Diagnostic(path, sample.line, message, "LB105")]
