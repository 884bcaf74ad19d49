"""Undo mojibake: UTF-8 text that was once decoded with the wrong 8-bit code page.

Two damages occur in real checklists:

* **Mac Roman** (``🚀`` became ``üöÄ``, ``✅`` became ``‚úÖ``, ``→`` became ``‚Üí``): the
  UTF-8 bytes were read as Mac OS Roman. ftfy does not undo this, so we do it here,
  exactly: every suspicious run of characters is encoded back to Mac Roman bytes and
  decoded as UTF-8, one complete UTF-8 sequence at a time. A sequence is only replaced
  when it decodes strictly to a plausible character, and a document is only touched when
  it shows unmistakable evidence (a 3- or 4-byte sequence such as an emoji or arrow, or
  the ``√``/``¬`` lead characters of accented Latin letters). Legitimate text such as
  ``“Über”``, ``≥ 3`` or ``café`` never qualifies.
* **Windows-1252** (``ðŸš€``, ``â€™``): handled by ftfy, configured to keep typographic
  quotes, ligatures and widths exactly as the author wrote them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import ftfy

_MAC_HIGH = bytes(range(0x80, 0x100)).decode("mac_roman")
_MAC_HIGH_SET = frozenset(_MAC_HIGH)
# Mac Roman characters whose byte is a UTF-8 lead byte for a 2-byte Latin-1 letter
# (0xC2 "¬" and 0xC3 "√"); followed by a continuation they are never real prose.
_LATIN_LEADS = frozenset("¬√")
# Combining marks that legitimately appear in emoji sequences.
_ALLOWED_MARKS = frozenset("\ufe0e\ufe0f\u20e3")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=False,
    decode_inconsistent_utf8=True,
    fix_c1_controls=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


@dataclass(frozen=True, slots=True)
class MojibakeFix:
    """One line whose mojibake was undone."""

    line: int
    """1-based line number."""
    before: str
    """The damaged characters as found (first damaged run on the line)."""
    after: str
    """What they were repaired to."""


def _sequence_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _plausible(char: str, length: int) -> bool:
    category = unicodedata.category(char)
    if category in {"Cc", "Co", "Cn", "Cs"}:
        return False
    if category in {"Mn", "Me"} and char not in _ALLOWED_MARKS:
        return False
    if length == 2:
        # 2-byte mojibake in Western text is accented Latin; anything else (Cyrillic,
        # IPA, Hebrew…) is far more likely a legitimate pair of Mac Roman symbols.
        return 0xA0 <= ord(char) <= 0x17F
    return True


def _decode_run(run: str) -> tuple[str, int, bool]:
    """Decode one run of Mac-Roman-high characters.

    Returns the repaired run, how many sequences were decoded, and whether any of them
    was strong evidence of Mac Roman damage.
    """
    raw = run.encode("mac_roman")
    out: list[str] = []
    fixed = 0
    strong = False
    i = 0
    while i < len(raw):
        length = _sequence_length(raw[i])
        if length and i + length <= len(raw):
            try:
                char = raw[i : i + length].decode("utf-8")
            except UnicodeDecodeError:
                char = ""
            if char and _plausible(char, length):
                out.append(char)
                fixed += 1
                strong = strong or length >= 3 or run[i] in _LATIN_LEADS
                i += length
                continue
        out.append(run[i])
        i += 1
    return "".join(out), fixed, strong


def _runs(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = -1
    for index, char in enumerate(line):
        if char in _MAC_HIGH_SET:
            if start < 0:
                start = index
        elif start >= 0:
            spans.append((start, index))
            start = -1
    if start >= 0:
        spans.append((start, len(line)))
    return [(a, b) for a, b in spans if b - a >= 2]


def _fix_mac_roman_line(line: str) -> tuple[str, bool, str, str]:
    pieces: list[str] = []
    last = 0
    strong = False
    first_before = first_after = ""
    for a, b in _runs(line):
        run = line[a:b]
        repaired, fixed, run_strong = _decode_run(run)
        if not fixed:
            continue
        strong = strong or run_strong
        pieces.append(line[last:a])
        pieces.append(repaired)
        last = b
        if not first_before:
            first_before, first_after = run, repaired
    if not pieces:
        return line, False, "", ""
    pieces.append(line[last:])
    return "".join(pieces), strong, first_before, first_after


def _prose_segments(text: str) -> list[list[tuple[bool, str]]]:
    """Each line split into (is_prose, piece): code fences and code spans are not prose.

    Code is left exactly as written: a document *about* mojibake may quote it there.
    """
    result: list[list[tuple[bool, str]]] = []
    fence = ""
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if fence:
            result.append([(False, line)])
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = ""
            continue
        if marker:
            fence = marker.group(1)
            result.append([(False, line)])
            continue
        pieces: list[tuple[bool, str]] = []
        last = 0
        for span in _CODE_SPAN.finditer(line):
            pieces.append((True, line[last : span.start()]))
            pieces.append((False, span.group(0)))
            last = span.end()
        pieces.append((True, line[last:]))
        result.append(pieces)
    return result


def _apply(text: str, fix_line: Callable[[str], tuple[str, bool, str, str]]) -> tuple[str, list[MojibakeFix], bool]:
    lines: list[str] = []
    fixes: list[MojibakeFix] = []
    evidence = False
    for number, pieces in enumerate(_prose_segments(text), start=1):
        out: list[str] = []
        first: tuple[str, str] | None = None
        for prose, piece in pieces:
            if not prose or piece.isascii():
                out.append(piece)
                continue
            repaired, strong, before, after = fix_line(piece)
            evidence = evidence or strong
            out.append(repaired)
            if repaired != piece and first is None:
                first = (before, after)
        lines.append("".join(out))
        if first is not None:
            fixes.append(MojibakeFix(number, *first))
    return "\n".join(lines), fixes, evidence


def fix_mac_roman(text: str) -> tuple[str, list[MojibakeFix]]:
    """Undo Mac Roman mojibake; return the text unchanged when there is no evidence."""
    repaired, fixes, evidence = _apply(text, _fix_mac_roman_line)
    if not evidence:
        return text, []
    return repaired, fixes


def _fix_cp1252_piece(piece: str) -> tuple[str, bool, str, str]:
    repaired = ftfy.fix_text(piece, _FTFY_CONFIG)
    if repaired == piece:
        return piece, False, "", ""
    return (repaired, True, *_first_difference(piece, repaired))


def fix_cp1252(text: str) -> tuple[str, list[MojibakeFix]]:
    """Undo Windows-1252/Latin-1 mojibake with ftfy, quotes and code untouched."""
    repaired, fixes, _ = _apply(text, _fix_cp1252_piece)
    return repaired, fixes


def _first_difference(before: str, after: str) -> tuple[str, str]:
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end_b, end_a = len(before), len(after)
    while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
        end_b -= 1
        end_a -= 1
    return before[start:end_b], after[start:end_a]
