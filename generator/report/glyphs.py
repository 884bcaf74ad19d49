"""The report's fonts, and a readable stand-in for characters none of them can draw.

The report embeds bundled fonts only (no system fonts, so every machine renders the same
bytes): DejaVu for text, then the monochrome Noto Emoji (OFL 1.1, vendored with the site's
assets) for emoji and symbols DejaVu lacks. A character neither can draw would otherwise
vanish or become a box; it is written as its Unicode name instead: ``U+1FAE8`` ->
``[shaking face]``. The seal stamp is drawn by pyHanko with one font (LBStampSans, DejaVu
Sans rescaled) and no fallback, so emoji in the signer's name keep their names there.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

from generator.core.templating import default_theme_dir

TEXT_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf")
"""Text fonts in themes/default/report/fonts/; a character is drawn as text when all of them have it."""
EMOJI_FONT = "NotoEmoji-Regular.ttf"
"""The complete Noto Emoji (every code point and the ZWJ sequences), in themes/default/report/fonts/: the
TrueType font the site's ``assets/fonts/noto-emoji/noto-emoji-emoji-400-normal.woff2`` decompresses to
(:data:`EMOJI_WOFF2`), byte for byte. Given the WOFF2, WeasyPrint rebuilt those bytes on every report
(fontTools reconstructing 4,890 glyphs: 1.5 s of a 2 s close); given the TrueType font, it reads it."""
EMOJI_WOFF2 = "noto-emoji-emoji-400-normal.woff2"
"""The same font as the site serves it, in themes/default/assets/fonts/noto-emoji/."""
STAMP_FONT = "LBStampSans.ttf"
"""The seal stamp's only font, in themes/default/report/fonts/."""
_INVISIBLE = {"\ufe0e", "\ufe0f", "\u200d", "\u20e3"}
_KEEP = {"\n", "\t"}


def fonts_dir() -> Path:
    return default_theme_dir() / "report" / "fonts"


def stamp_font_file() -> Path:
    return fonts_dir() / STAMP_FONT


def emoji_font() -> Path:
    return fonts_dir() / EMOJI_FONT


def emoji_woff2() -> Path:
    return default_theme_dir() / "assets" / "fonts" / "noto-emoji" / EMOJI_WOFF2


def _cmap(path: Path) -> set[int]:
    font = TTFont(str(path), lazy=True)
    try:
        return set(font.getBestCmap())
    finally:
        font.close()


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """Code points the report can draw: in every text font, or in the emoji font."""
    text = set.intersection(*(_cmap(fonts_dir() / name) for name in TEXT_FONTS))
    return frozenset(text | _cmap(emoji_font()))


@lru_cache(maxsize=1)
def stamp_covered() -> frozenset[int]:
    """Code points the seal stamp's font can draw."""
    return frozenset(_cmap(stamp_font_file()))


def _stand_in(value: str, cmap: frozenset[int]) -> str:
    if all(ord(char) in cmap or char in _KEEP for char in value):
        return value
    out: list[str] = []
    for char in value:
        if ord(char) in cmap or char in _KEEP:
            out.append(char)
        elif char not in _INVISIBLE:
            out.append(f"[{unicodedata.name(char, f'U+{ord(char):04X}').lower()}]")
    return "".join(out)


def printable(text: object) -> str:
    """``text`` with every character the report's fonts (text and emoji) lack replaced by ``[its name]``."""
    return _stand_in(str(text), covered())


def stamp_printable(text: object) -> str:
    """``text`` with every character the stamp's font lacks replaced by ``[its name]``."""
    return _stand_in(str(text), stamp_covered())
