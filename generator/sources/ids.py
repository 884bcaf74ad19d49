"""Stable identifiers: slugs for headings and documents, IDs for checklist items.

A document's ID defaults to its path under ``content/`` without ``.md``, slugged per
segment (``Payments/Go Live.md`` is ``payments/go-live``), so same-named files in
different folders never collide; an explicit ``id:`` (no ``/``) replaces it.

An item's ID depends only on its section path and its own text (plus an occurrence
number for exact duplicates within one section), so adding, removing, rewording or
reordering *other* items never changes it. The readable part is a slug of the text;
the 6-hex-digit suffix is a hash of section path + text, so two items with the same
text in different sections still differ.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

EXPLICIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
CHECKLIST_ID = re.compile(r"^(?:[a-z0-9][a-z0-9-]{0,99}/){0,31}[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
"""A checklist ID: an explicit ID, or a path ID (slugged folders, then a slug)."""
_NON_WORD = re.compile(r"[^a-z0-9]+")
_MAX_SLUG_WORDS = 6
_MAX_SLUG_CHARS = 48


def slugify(text: str, fallback: str = "section") -> str:
    """ASCII, lower-case, hyphen-separated slug; ``fallback`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub("-", ascii_text.lower()).strip("-")
    return slug or fallback


def document_id(rel_path: str) -> str:
    """The default ID of ``content/<rel_path>``: its path without the suffix, each segment
    slugged (``payments/go-live.md`` -> ``payments/go-live``)."""
    parts = rel_path.split("/")
    stem = parts[-1].rsplit(".", 1)[0] if "." in parts[-1][1:] else parts[-1]
    return "/".join(slugify(part, "page") for part in (*parts[:-1], stem))


def _short_slug(text: str) -> str:
    words = slugify(text, "item").split("-")[:_MAX_SLUG_WORDS]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > _MAX_SLUG_CHARS:
            break
        slug = candidate
    return slug or words[0][:_MAX_SLUG_CHARS]


def normalise(text: str) -> str:
    """The form of a text that IDs are computed from: NFC, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def item_id(section: tuple[str, ...], text: str, occurrence: int = 1) -> str:
    """The stable ID of an item with this section path and text.

    ``occurrence`` counts exact duplicates (same section, same text) from 1.
    """
    key = "\x1f".join(normalise(part) for part in (*section, text))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    base = f"{_short_slug(text)}-{digest}"
    return base if occurrence == 1 else f"{base}-{occurrence}"


class AnchorSet:
    """Hands out unique HTML anchors within one page (``x``, ``x-2``, ``x-3`` …)."""

    def __init__(self, reserved: set[str] | None = None) -> None:
        self._used: set[str] = set(reserved or ())

    def take(self, text: str) -> str:
        base = slugify(text)
        anchor, counter = base, 1
        while anchor in self._used:
            counter += 1
            anchor = f"{base}-{counter}"
        self._used.add(anchor)
        return anchor
