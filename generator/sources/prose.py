"""Which parts of Markdown text are prose and which are code, line by line.

Repairs work on prose only: fenced code blocks and inline code spans are left exactly as
written (a document *about* mojibake or ``&nbsp;`` may quote them there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")

Piece = tuple[bool, str]
"""``(is_prose, text)``: one piece of a line."""


@dataclass(frozen=True, slots=True)
class Fence:
    """One fenced code block: ``lines[start]`` opens it, ``lines[start + 1 : body_end]`` is its
    content, ``lines[body_end : end]`` its closing fence (empty when the file ends first)."""

    start: int
    body_end: int
    end: int


def fences(lines: list[str]) -> list[Fence]:
    """The fenced code blocks of a document, in order."""
    found: list[Fence] = []
    opening, fence = -1, ""
    for index, line in enumerate(lines):
        marker = _FENCE.match(line)
        if not fence:
            if marker:
                opening, fence = index, marker.group(1)
            continue
        if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
            found.append(Fence(opening, index, index + 1))
            fence = ""
    if fence:
        found.append(Fence(opening, len(lines), len(lines)))
    return found


def fenced_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it belongs to a fenced code block (fence lines included)."""
    result = [False] * len(lines)
    for block in fences(lines):
        result[block.start : block.end] = [True] * (block.end - block.start)
    return result


def prose_segments(text: str, *, split_ascii: bool = True) -> list[list[Piece]]:
    """Each line split into ``(is_prose, piece)``: code fences and code spans are not prose.

    With ``split_ascii=False`` an all-ASCII line outside fences is one piece, its code spans
    not split off (for callers that only look at non-ASCII prose: most lines, at no cost).
    """
    lines = text.split("\n")
    result: list[list[Piece]] = []
    for line, code in zip(lines, fenced_lines(lines), strict=True):
        if code:
            result.append([(False, line)])
        elif not split_ascii and line.isascii():
            result.append([(True, line)])
        else:
            result.append(split_code_spans(line))
    return result


def split_code_spans(line: str) -> list[Piece]:
    """One prose line split around its inline code spans."""
    pieces: list[Piece] = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        pieces.append((True, line[last : span.start()]))
        pieces.append((False, span.group(0)))
        last = span.end()
    pieces.append((True, line[last:]))
    return pieces
