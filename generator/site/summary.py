"""A document's summary: what the whole-site stages need, made once per parse and cached.

Navigation, the home page catalogue, link checks and warnings read summaries (the search
index reads the words cached beside them); only a page's own render loads its full
document (see ``DocumentStore``).
"""

from __future__ import annotations

from generator.model import Checklist, Document, DocumentSummary, ItemState
from generator.site.search.document import search_derived


def checklist_summary(checklist: Checklist) -> dict[str, int]:
    """Counts shown on the home page and checklist header."""
    items = checklist.items
    return {
        "items": len(items),
        "done": sum(item.state is ItemState.DONE for item in items),
        "na": sum(item.state is ItemState.NA for item in items),
        "optional": sum(item.optional for item in items),
        "sections": len({item.section for item in items}),
        "signoffs": len(checklist.signoffs),
    }


def summarize(document: Document, key: str) -> tuple[DocumentSummary, dict[str, str]]:
    """The summary of ``document`` (stored under ``key``) and its search-index data (the
    texts the document store caches beside it, see :mod:`generator.site.search.document`)."""
    summary = DocumentSummary(
        key=key,
        kind=document.kind,
        id=document.id,
        title=document.title,
        source=document.source,
        rel_path=document.rel_path,
        description=document.description,
        tags=document.tags,
        owner=document.owner,
        sha256=document.sha256,
        nav_order=document.nav_order,
        warnings=document.warnings,
        links=document.links,
        counts=checklist_summary(document) if isinstance(document, Checklist) else {},
    )
    return summary, search_derived(document)
