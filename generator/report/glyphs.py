"""Characters the bundled report fonts cannot draw get a readable stand-in.

The report embeds DejaVu fonts only (no system fonts, so every machine renders the same
bytes). Emoji and other characters outside DejaVu would otherwise vanish or become
boxes; instead they are written as their Unicode name: ``🚀`` -> ``[rocket]``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

from generator.core.templating import default_theme_dir

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
_INVISIBLE = {"\ufe0e", "\ufe0f", "\u200d", "\u20e3"}


def fonts_dir() -> Path:
    return default_theme_dir() / "report" / "fonts"


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """Code points every bundled font can draw."""
    sets = []
    for name in FONT_FILES:
        font = TTFont(str(fonts_dir() / name), lazy=True)
        sets.append(set(font.getBestCmap()))
        font.close()
    return frozenset(set.intersection(*sets))


def printable(text: object) -> str:
    """``text`` with every character the report fonts lack replaced by ``[its name]``."""
    value = str(text)
    cmap = covered()
    if all(ord(char) in cmap or char in "\n\t" for char in value):
        return value
    out: list[str] = []
    for char in value:
        if ord(char) in cmap or char in "\n\t":
            out.append(char)
        elif char in _INVISIBLE:
            continue
        else:
            name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
            out.append(f"[{name}]")
    return "".join(out)
