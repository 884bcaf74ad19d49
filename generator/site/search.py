"""The offline search index: a JavaScript file, so it loads from ``file://`` too.

Browsers refuse ``fetch()`` of local JSON from ``file://`` pages, but a plain
``<script src>`` works everywhere; the index assigns one global the search UI reads.
Entries are sorted and keys written sorted, so the file is byte-stable.
"""

from __future__ import annotations

import json

from generator.model import Checklist, Document
from generator.site.nav import output_path

_PAGE_TEXT_LIMIT = 20_000


def search_entries(documents: list[Document]) -> list[dict[str, str]]:
    """One entry per document, section heading and checklist item."""
    entries: list[dict[str, str]] = []
    for document in documents:
        url = output_path(document.rel_path)
        kind = "checklist" if isinstance(document, Checklist) else "page"
        body = " ".join(part for part in (document.description, document.plain_text) if part)
        entries.append({"k": kind, "t": document.title, "u": url, "p": "", "x": body[:_PAGE_TEXT_LIMIT]})
        for heading in document.headings:
            entries.append({"k": "section", "t": heading.text, "u": f"{url}#{heading.anchor}", "p": document.title, "x": ""})
        if isinstance(document, Checklist):
            for item in document.items:
                where = " › ".join((document.title, *item.section))
                entries.append({"k": "item", "t": item.text, "u": f"{url}#{item.id}", "p": where, "x": ""})
    return entries


def search_index_js(documents: list[Document]) -> str:
    """The contents of ``assets/search-index.js``."""
    payload = json.dumps(search_entries(documents), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # "</" cannot close a script element if the file is ever inlined.
    payload = payload.replace("</", "<\\/")
    return f"window.LAUNCHBOOK_SEARCH = {payload};\n"
