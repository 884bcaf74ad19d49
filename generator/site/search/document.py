"""What the search index needs of one document, made at parse time and cached with it.

Two cache entries per document (see ``DocumentStore.derived``):

``frag``
    the text of its fragment file, ``assets/search/doc/<name>.js``;
``words``
    the sha256 of that text, then its words by level, one line each: title, headings and
    items, the rest (description and body). A word is listed once, at its highest level.

A rebuild joins these instead of walking 10,000 pages' items and text again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from generator.model import Checklist, Document
from generator.site.search.text import words
from generator.site.urls import output_path, url_path

TITLE, STRONG, BODY = 2, 1, 0
"""Levels of a word in a document: in its title; in a heading or item; only in its text."""


def page_url(rel_path: str) -> str:
    """A document's URL as the index holds it: encoded, so the search UI puts it in an href as it is."""
    return url_path(output_path(rel_path))


def fragment_name(url: str) -> str:
    """The file name (without ``.js``) of the fragment of the page at ``url``: 64 bits of a
    hash of the URL alone, so it never changes when other pages come, go or change."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def script(name: str, data: Any) -> str:
    """A file of the index: ``data`` handed to the search UI under ``name``. Keys sorted,
    compact, and ``</`` escaped so the data can never close a script element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    return f"window.LAUNCHBOOK_SEARCH_PART({json.dumps(name)},{text});\n"


def fragment_data(document: Document) -> list[Any]:
    """``[kind, title, url, paths, entries]``: ``paths`` are the distinct section paths shown
    under results; ``entries`` are headings and items ``[kind, title, path, anchor]`` with
    ``path`` an index into ``paths``."""
    paths: dict[str, int] = {}
    entries: list[list[Any]] = []

    def path_index(text: str) -> int:
        return paths.setdefault(text, len(paths))

    title_path = path_index(document.title)
    for heading in document.headings:
        entries.append(["s", heading.text, title_path, heading.anchor])
    if isinstance(document, Checklist):
        sections: dict[tuple[str, ...], int] = {}
        for item in document.items:
            where = sections.get(item.section)
            if where is None:
                where = sections[item.section] = path_index(" › ".join((document.title, *item.section)))
            entries.append(["i", item.text, where, item.id])
    return [document.kind, document.title, page_url(document.rel_path), list(paths), entries]


def document_words(document: Document) -> dict[str, int]:
    """Every word of the document -> its highest level."""
    levels = dict.fromkeys(words(" ".join((document.description, document.plain_text))), BODY)
    strong = [heading.text for heading in document.headings]
    if isinstance(document, Checklist):
        strong += [item.text for item in document.items]
    levels.update(dict.fromkeys(words("\n".join(strong)), STRONG))
    levels.update(dict.fromkeys(words(document.title), TITLE))
    return levels


def search_derived(document: Document) -> dict[str, str]:
    """The document's cache entries for the index: ``frag`` and ``words`` (see the module)."""
    url = page_url(document.rel_path)
    frag = script(f"doc/{fragment_name(url)}", fragment_data(document))
    levels = document_words(document)
    lines = [" ".join(sorted(word for word, level in levels.items() if level == wanted))
             for wanted in (TITLE, STRONG, BODY)]
    digest = hashlib.sha256(frag.encode("utf-8")).hexdigest()
    return {"frag": frag, "words": "\n".join([digest, *lines])}


@dataclass(frozen=True, slots=True)
class DocWords:
    """A document's ``words`` cache entry, read back."""

    digest: str
    """sha256 of its fragment file's text."""
    levels: dict[str, int]
    """Word -> level."""


def read_words(text: str) -> DocWords | None:
    """The ``words`` entry in ``text``, or ``None`` when it is not one."""
    lines = text.split("\n")
    if len(lines) != 4 or len(lines[0]) != 64:
        return None
    levels: dict[str, int] = {}
    for level, line in zip((BODY, STRONG, TITLE), reversed(lines[1:]), strict=True):
        levels.update(dict.fromkeys(line.split(), level))
    return DocWords(lines[0], levels)
