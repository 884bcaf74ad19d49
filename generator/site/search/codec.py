"""Posting lists as short strings (decoded by ``postings()`` in the theme's ``launchbook.js``).

A number is written in base 32, most significant digit first: every digit but the last is
one of ``MORE`` (``w``–``z``, ``A``–``Z``, ``-``, ``_``), the last one of ``LAST``
(``0``–``9``, ``a``–``v``). Nothing needs escaping in JSON or in a script.

A word's postings are the documents holding it, by number, each with the word's level in
it (:mod:`.document`). Numbers are grouped in blocks of ``2**bits``; each block is written
as ``~`` + its block number, then per document ``(number - previous - 1) * 3 + level``,
``previous`` starting one below the block's first number. A block depends only on the
documents in its range, so a changed page re-encodes one block of each word it touches.
"""

from __future__ import annotations

from collections.abc import Iterable

LAST = "0123456789abcdefghijklmnopqrstuv"
MORE = "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
BLOCK = "~"
LEVELS = 3


def number(value: int) -> str:
    """``value`` (>= 0) in the index's base 32."""
    text = LAST[value & 31]
    value >>= 5
    while value:
        text = MORE[value & 31] + text
        value >>= 5
    return text


_NUMBERS = tuple(number(value) for value in range(1024))
_DIGITS = {digit: value for value, digit in enumerate(LAST + MORE)}


def numbers(values: Iterable[int]) -> str:
    """Every value of ``values``, one after the other."""
    return "".join(_NUMBERS[value] if value < 1024 else number(value) for value in values)


def read_numbers(text: str) -> list[int]:
    """The numbers written by :func:`numbers` (``ValueError`` on anything else)."""
    values: list[int] = []
    value, pending = 0, False
    for char in text:
        digit = _DIGITS.get(char)
        if digit is None:
            raise ValueError(f"not a digit of the index: {char!r}")
        if digit >= 32:
            value, pending = value * 32 + digit - 32, True
        else:
            values.append(value * 32 + digit)
            value, pending = 0, False
    if pending:
        raise ValueError("a number is cut short")
    return values


def encode_block(postings: Iterable[tuple[int, int]], start: int) -> str:
    """``(document number, level)`` pairs in ascending order, all in the block from ``start``."""
    parts = []
    previous = start - 1
    for doc, level in postings:
        value = (doc - previous - 1) * LEVELS + level
        parts.append(_NUMBERS[value] if value < 1024 else number(value))
        previous = doc
    return "".join(parts)


def decode_block(text: str, start: int) -> dict[int, int]:
    """Document number -> level, from a block written by :func:`encode_block`."""
    postings: dict[int, int] = {}
    previous = start - 1
    for value in read_numbers(text):
        previous += value // LEVELS + 1
        postings[previous] = value % LEVELS
    return postings


def encode_codes(codes: list[int], bits: int) -> dict[int, str]:
    """Block number -> encoded block, from ascending ``number * LEVELS + level`` codes."""
    blocks: dict[int, str] = {}
    parts: list[str] = []
    current, previous = -1, 0
    for code in codes:
        doc, level = divmod(code, LEVELS)
        block = doc >> bits
        if block != current:
            if parts:
                blocks[current] = "".join(parts)
            current, previous, parts = block, (block << bits) - 1, []
        value = (doc - previous - 1) * LEVELS + level
        parts.append(_NUMBERS[value] if value < 1024 else number(value))
        previous = doc
    if parts:
        blocks[current] = "".join(parts)
    return blocks


def word_code(blocks: dict[int, str]) -> str:
    """A word's whole posting list, as a shard file holds it."""
    return "".join(BLOCK + number(block) + blocks[block] for block in sorted(blocks))


def read_word_code(code: str) -> dict[int, str]:
    """Block number -> encoded block, from a list written by :func:`word_code`."""
    blocks: dict[int, str] = {}
    for segment in code.split(BLOCK)[1:]:
        end = next((at for at, char in enumerate(segment) if char in LAST), -1) + 1
        if not end:
            raise ValueError(f"a block without its number: {segment!r}")
        blocks[read_numbers(segment[:end])[0]] = segment[end:]
    return blocks
