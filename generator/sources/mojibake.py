"""Undo mojibake: UTF-8 text that was once decoded with the wrong 8-bit code page.

Two damages occur in real checklists:

* **Mac Roman** (``🚀`` became ``üöÄ``, ``✅`` became ``‚úÖ``, ``→`` became ``‚Üí``): the
  UTF-8 bytes were read as Mac OS Roman. ftfy does not undo this, so we do it here,
  exactly: every suspicious run of characters is encoded back to Mac Roman bytes and
  decoded as UTF-8, one complete UTF-8 sequence at a time.
* **Windows-1252** (``ðŸš€``, ``â€™``): handled by ftfy, configured to keep typographic
  quotes, ligatures and widths exactly as the author wrote them.

Neither repair touches a document without evidence, judged on its prose (code is never
evidence and never repaired). Evidence is a run of characters that decodes into an emoji
or symbol (``ðŸš€`` -> ``🚀``) or into part of a word (``cafÃ©``, ``donâ€™t``). A document
is repaired only when such runs outnumber the runs of non-ASCII letters written correctly
(the ``é`` of ``café``, ``ß``, ``中文``): a file read with the wrong code page has all of its
letters damaged, while clean text that quotes mojibake (a troubleshooting note about
``â€™``) or happens to pair symbols (``√•``, ``¬∂``, ``≈°``) proves nothing: a sequence that
stands alone decodes into neither an emoji nor a word, and correct words outvote the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import ftfy
import ftfy.bad_codecs  # registers the "sloppy-windows-1252" codec

from generator.sources.prose import prose_segments

MAC_ROMAN = "mac_roman"
CP1252 = "sloppy-windows-1252"
_HIGH = {codec: frozenset(bytes(range(0x80, 0x100)).decode(codec)) for codec in (MAC_ROMAN, CP1252)}
# Combining marks that legitimately appear in emoji sequences.
_ALLOWED_MARKS = frozenset("\ufe0e\ufe0f\u20e3")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

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


def _decode_run(run: str, codec: str = MAC_ROMAN) -> tuple[str, int]:
    """Decode one run of code-page-high characters, one UTF-8 sequence at a time.

    Returns the repaired run and how many sequences were decoded.
    """
    raw = run.encode(codec)
    out: list[str] = []
    fixed = 0
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
                i += length
                continue
        out.append(run[i])
        i += 1
    return "".join(out), fixed


def _runs(line: str, codec: str = MAC_ROMAN) -> list[tuple[int, int]]:
    high = _HIGH[codec]
    spans: list[tuple[int, int]] = []
    start = -1
    for index, char in enumerate(line):
        if char in high:
            if start < 0:
                start = index
        elif start >= 0:
            spans.append((start, index))
            start = -1
    if start >= 0:
        spans.append((start, len(line)))
    return [(a, b) for a, b in spans if b - a >= 2]


def _fix_mac_roman_line(line: str) -> tuple[str, str, str]:
    pieces: list[str] = []
    last = 0
    first_before = first_after = ""
    for a, b in _runs(line):
        run = line[a:b]
        repaired, fixed = _decode_run(run)
        if not fixed:
            continue
        pieces.append(line[last:a])
        pieces.append(repaired)
        last = b
        if not first_before:
            first_before, first_after = run, repaired
    if not pieces:
        return line, "", ""
    pieces.append(line[last:])
    return "".join(pieces), first_before, first_after


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a document's prose says about one code page."""

    damaged: int
    """Runs that decode into an emoji or symbol, or into part of a word."""
    clean: int
    """Runs of non-ASCII letters in which nothing decodes: written correctly (the ``é`` of ``café``)."""

    @property
    def convincing(self) -> bool:
        return self.damaged > self.clean

    def describe(self) -> str:
        return (f"{self.damaged} run{'s' if self.damaged != 1 else ''} decoded into emoji or words, "
                f"{self.clean} accented letter{'s' if self.clean != 1 else ''} written correctly")


def evidence(text: str, codec: str) -> Evidence:
    """Count, in prose only, the runs that are mojibake of ``codec`` and the runs that are clean."""
    damaged = clean = 0
    if text.isascii():
        return Evidence(0, 0)
    for pieces in prose_segments(text, split_ascii=False):
        for prose, piece in pieces:
            if not prose or piece.isascii():
                continue
            for match in _NON_ASCII_RUN.finditer(piece):
                verdict = _judge(piece, match.start(), match.end(), codec)
                damaged += verdict is True
                clean += verdict is None and any(char.isalpha() for char in match.group(0))
    return Evidence(damaged, clean)


def _judge(piece: str, start: int, end: int, codec: str) -> bool | None:
    """``True``: the run is mojibake that makes an emoji, a symbol or a word; ``False``: it
    decodes but proves nothing (a quoted sequence on its own); ``None``: nothing decodes."""
    run = piece[start:end]
    decoded = ""
    for a, b in _runs(run, codec):
        repaired, fixed = _decode_run(run[a:b], codec)
        if fixed:
            decoded += repaired
    if not decoded:
        return None
    if any(_is_emoji(char) for char in decoded):
        return True
    before = piece[start - 1] if start else ""
    after = piece[end] if end < len(piece) else ""
    letters = any(char.isalpha() for char in decoded)
    return (before.isalpha() and after.isalpha()) or (letters and (before.isalpha() or after.isalpha()))


def _is_emoji(char: str) -> bool:
    """An emoji, arrow or other symbol: three or more bytes in UTF-8, never a Latin pair."""
    return ord(char) >= 0x2000 and unicodedata.category(char) in {"So", "Sm"}


def _apply(text: str, fix_line: Callable[[str], tuple[str, str, str]]) -> tuple[str, list[MojibakeFix]]:
    lines: list[str] = []
    fixes: list[MojibakeFix] = []
    for number, pieces in enumerate(prose_segments(text, split_ascii=False), start=1):
        out: list[str] = []
        first: tuple[str, str] | None = None
        for prose, piece in pieces:
            if not prose or piece.isascii():
                out.append(piece)
                continue
            repaired, before, after = fix_line(piece)
            out.append(repaired)
            if repaired != piece and first is None:
                first = (before, after)
        lines.append("".join(out))
        if first is not None:
            fixes.append(MojibakeFix(number, *first))
    return "\n".join(lines), fixes


def fix_mac_roman(text: str, found: Evidence | None = None) -> tuple[str, list[MojibakeFix]]:
    """Undo Mac Roman mojibake; the text is unchanged unless the evidence (``found``, when
    already counted) is convincing."""
    if not (found or evidence(text, MAC_ROMAN)).convincing:
        return text, []
    return _apply(text, _fix_mac_roman_line)


def _fix_cp1252_piece(piece: str) -> tuple[str, str, str]:
    repaired = ftfy.fix_text(piece, _FTFY_CONFIG)
    if repaired == piece:
        return piece, "", ""
    return (repaired, *_first_difference(piece, repaired))


def fix_cp1252(text: str, found: Evidence | None = None) -> tuple[str, list[MojibakeFix]]:
    """Undo Windows-1252/Latin-1 mojibake with ftfy, quotes and code untouched, only on evidence
    (``found``, when already counted)."""
    if not (found or evidence(text, CP1252)).convincing:
        return text, []
    return _apply(text, _fix_cp1252_piece)


def _first_difference(before: str, after: str) -> tuple[str, str]:
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end_b, end_a = len(before), len(after)
    while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
        end_b -= 1
        end_a -= 1
    return before[start:end_b], after[start:end_a]
