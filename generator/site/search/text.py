"""Words as the search index and the search box see them.

:func:`fold` is the twin of ``fold()`` in the theme's ``launchbook.js`` (NFD, combining
diacritics U+0300–U+036F removed, lower case), and :func:`words` splits folded text into
runs of letters and digits the way the script splits a query (``/[\\p{L}\\p{N}]+/gu``):
what a page is indexed under is exactly what a query for it looks up.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORD = 32
"""Longer words are indexed by their first 32 characters (the script cuts query words alike):
a base64 blob or a hash in a page cannot make one huge index key."""

_DIACRITICS = dict.fromkeys(range(0x300, 0x370))
_WORD = re.compile(r"[^\W_]+")  # letters and digits: str.isalnum, i.e. Unicode L* and N*


def fold(text: str) -> str:
    """``text`` without diacritics, in lower case (as the search box compares)."""
    return unicodedata.normalize("NFD", text).translate(_DIACRITICS).lower()


def words(text: str) -> set[str]:
    """The distinct folded words of ``text`` (each cut to :data:`MAX_WORD` characters)."""
    return {word[:MAX_WORD] for word in _WORD.findall(fold(text))}
