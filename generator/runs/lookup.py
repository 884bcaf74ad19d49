"""Find one checklist by ID without parsing the whole site (``run start``, ``run import``, ``run close``).

The IDs come from :class:`~generator.sources.scan.IdScan`: a walk of ``content/`` (the
build's), the checklist index for files unchanged since it was written, front matter for the
rest. Only the files that claim the ID are loaded in full (from the document store, or
parsed). Two checklists claiming it is the build's error, named the same way. So after a
build, finding a checklist costs a walk (stats), one small index file and the checklist.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from generator.core.errors import SourceError
from generator.model import Checklist
from generator.sources.collect import check_unique_ids
from generator.sources.ids import document_id
from generator.sources.scan import IdScan


def lookup_checklist(project: Path, checklist_id: str, scan: IdScan | None = None) -> Checklist | None:
    """The checklist with this ID (case-sensitive), ``None`` if there is none; an error if
    two checklists claim it."""
    own = scan is None
    scan = scan if scan is not None else IdScan(project)
    try:
        found: list[tuple[str, Checklist]] = []
        for index, (source, known) in enumerate(scan.entries):
            if known.id != checklist_id or known.kind == "page":
                continue
            document = scan.document(index)
            if isinstance(document, Checklist) and document.id == checklist_id:
                found.append((source.shown, document))
        check_unique_ids([(shown, checklist.id) for shown, checklist in found])
        return found[0][1] if found else None
    finally:
        if own:
            scan.save()


def find_checklist(project: Path, checklist_id: str) -> Checklist:
    """The checklist with this ID; an unknown ID gets the closest known ones suggested.

    Costs a walk of ``content/``, the front matter of files the checklist index does not vouch
    for, and the checklist (plus each suggestion whose kind is not known yet, to be sure it
    is a checklist): never a parse of the whole site."""
    scan = IdScan(project)
    try:
        checklist = lookup_checklist(project, checklist_id, scan)
        if checklist is not None:
            return checklist
        raise _unknown(scan, checklist_id)
    finally:
        scan.save()


def _unknown(scan: IdScan, checklist_id: str) -> SourceError:
    """The error for an ID no checklist has, with the closest ones that are checklists."""
    renamed = next((known.id for source, known in scan.entries
                    if known.id != checklist_id and document_id(source.rel) == checklist_id), None)
    if renamed is not None:
        return SourceError(f"unknown checklist {checklist_id!r}; that file's front matter sets its ID: did you mean "
                           f"{renamed}?")
    by_id = {known.id: index for index, (source, known) in enumerate(scan.entries)}

    def is_checklist(doc_id: str) -> bool:
        known = scan.entries[by_id[doc_id]][1]
        if known.kind is not None:
            return known.kind == "checklist"
        return isinstance(scan.document(by_id[doc_id]), Checklist)

    close = [c for c in difflib.get_close_matches(checklist_id, list(by_id), n=6, cutoff=0.4) if is_checklist(c)][:3]
    if close:
        hint = f"; did you mean {', '.join(close)}?"
    elif len(by_id) <= 20:
        hint = f"; known: {', '.join(sorted(i for i in by_id if is_checklist(i))) or 'none'}"
    else:
        hint = f"; {len(by_id)} documents, no checklist ID close (IDs default to the path under content/, without .md)"
    return SourceError(f"unknown checklist {checklist_id!r}{hint}")
