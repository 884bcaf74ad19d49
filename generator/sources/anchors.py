"""Heading anchors as GitHub makes them, so ``#anchor`` links written for GitHub keep working.

GitHub's rule (html-pipeline's TableOfContentsFilter, replicated by the ``github-slugger``
npm package): lower-case the heading's text, delete every character that is not a letter,
mark, decimal digit, connector (``_``), ``-`` or space, turn each space into ``-``; the second
heading with the same slug gets ``-1``, the third ``-2``. Nothing is trimmed or collapsed, so
``🚀 Launch`` is ``-launch`` and ``A / B -> C`` is ``a--b---c``. Item IDs are not headings:
they are reserved first, and a heading whose slug equals one gets the next ``-N``.
"""

from __future__ import annotations

import unicodedata

_KEPT_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "Pc"})
# Symbols that are Alphabetic in Unicode (GitHub's \p{Word} keeps them): circled and squared letters.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
FALLBACK = "section"


def _kept(ch: str) -> bool:
    if ch in "- " or unicodedata.category(ch) in _KEPT_CATEGORIES:
        return True
    point = ord(ch)
    return any(low <= point <= high for low, high in _ALPHABETIC_SYMBOLS)


def github_slug(text: str) -> str:
    """One heading text -> GitHub's slug, before de-duplication (may be empty)."""
    return "".join(ch for ch in text.lower() if _kept(ch)).replace(" ", "-")


class GithubAnchors:
    """Unique heading anchors for one page, de-duplicated the way GitHub does it."""

    def __init__(self, reserved: set[str] | None = None) -> None:
        self._occurrences: dict[str, int] = dict.fromkeys(reserved or (), 0)

    def take(self, text: str) -> str:
        base = github_slug(text) or FALLBACK
        anchor = base
        while anchor in self._occurrences:
            self._occurrences[base] = self._occurrences.get(base, 0) + 1
            anchor = f"{base}-{self._occurrences[base]}"
        self._occurrences[anchor] = 0
        return anchor
