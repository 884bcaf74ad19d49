"""A document's summary: what the whole-site stages need, made once per parse and cached.

Navigation, the home page catalogue, link checks, warnings and the search index all read
summaries; only a page's own render loads its full document (see ``DocumentStore``).
"""

from __future__ import annotations

from generator.model import Checklist, Document, DocumentSummary, ItemState
from generator.site.search import search_entry


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


def summarize(document: Document, key: str) -> tuple[DocumentSummary, str]:
    """The summary of ``document`` (stored under ``key``) and its search-index entry."""
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
    return summary, search_entry(document)
