"""The offline search index: a JavaScript file, so it loads from ``file://`` too.

Browsers refuse ``fetch()`` of local JSON from ``file://`` pages, but a plain
``<script src>`` works everywhere; the index assigns one global the search UI reads.
Entries are sorted and keys written sorted, so the file is byte-stable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from generator.model import Checklist, Document, DocumentSummary
from generator.site.urls import output_path, url_path
from generator.sources.cache import DocumentStore

_PAGE_TEXT_LIMIT = 20_000


def search_entry(document: Document) -> str:
    """One document's entry of the index, as compact JSON.

    ``[kind, title, url, text, paths, entries]``: ``paths`` are the distinct section paths
    shown under results; ``entries`` are headings and items ``[kind, title, path, anchor]``
    with ``path`` an index into ``paths``. Entries are made per document (at parse time, and
    cached with it), so a rebuild joins them instead of walking every item of the site.
    """
    url = url_path(output_path(document.rel_path))  # encoded: the search UI puts it in an href as it is
    body = " ".join(part for part in (document.description, document.plain_text) if part)
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
    entry = [document.kind, document.title, url, body[:_PAGE_TEXT_LIMIT], list(paths), entries]
    # "</" cannot close a script element if the file is ever inlined.
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def search_index_parts(summaries: list[DocumentSummary], store: DocumentStore) -> Iterator[str]:
    """The contents of ``assets/search-index.js`` in pieces: the documents' entries, in site
    order (written as they are read, never held whole)."""
    yield "window.LAUNCHBOOK_SEARCH = ["
    for number, summary in enumerate(summaries):
        yield ("," if number else "") + store.search_entry(summary.key)
    yield "];\n"
