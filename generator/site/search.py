"""The offline search index: a JavaScript file, so it loads from ``file://`` too.

Browsers refuse ``fetch()`` of local JSON from ``file://`` pages, but a plain
``<script src>`` works everywhere; the index assigns one global the search UI reads.
Entries are sorted and keys written sorted, so the file is byte-stable.
"""

from __future__ import annotations

import json
from typing import Any

from generator.model import Checklist, Document
from generator.site.nav import output_path

_PAGE_TEXT_LIMIT = 20_000


def search_index(documents: list[Document]) -> dict[str, list[Any]]:
    """The index as compact arrays (a 10,000-page site has millions of item entries).

    ``d``: documents ``[kind, title, url, text]``; ``p``: distinct paths shown under
    results; ``e``: headings and items ``[kind, title, document, path, anchor]`` where
    document and path are indexes into ``d`` and ``p``.
    """
    docs: list[list[Any]] = []
    paths: dict[str, int] = {}
    entries: list[list[Any]] = []

    def path_index(text: str) -> int:
        return paths.setdefault(text, len(paths))

    for number, document in enumerate(documents):
        url = output_path(document.rel_path)
        kind = "checklist" if isinstance(document, Checklist) else "page"
        body = " ".join(part for part in (document.description, document.plain_text) if part)
        docs.append([kind, document.title, url, body[:_PAGE_TEXT_LIMIT]])
        title_path = path_index(document.title)
        for heading in document.headings:
            entries.append(["s", heading.text, number, title_path, heading.anchor])
        if isinstance(document, Checklist):
            sections: dict[tuple[str, ...], int] = {}
            for item in document.items:
                where = sections.get(item.section)
                if where is None:
                    where = sections[item.section] = path_index(" › ".join((document.title, *item.section)))
                entries.append(["i", item.text, number, where, item.id])
    return {"d": docs, "p": list(paths), "e": entries}


def search_index_js(documents: list[Document]) -> str:
    """The contents of ``assets/search-index.js``."""
    payload = json.dumps(search_index(documents), ensure_ascii=False, separators=(",", ":"))
    # "</" cannot close a script element if the file is ever inlined.
    payload = payload.replace("</", "<\\/")
    return f"window.LAUNCHBOOK_SEARCH = {payload};\n"
