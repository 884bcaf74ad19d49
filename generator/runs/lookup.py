"""Find one checklist by ID without parsing the whole site (``run start``, ``run import``, ``run close``).

The walk of ``content/`` is the build's (same ``include``/``exclude``). A document's ID is
its path ID unless its front matter says ``id:``, so only front matter is read (YAML, no
Markdown): files whose front matter cannot be read that way are parsed in full, as are the
files that claim the ID. Two checklists claiming it is the build's error, named the same way.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from generator.config import load_config
from generator.core.errors import LaunchbookError, SourceError
from generator.model import Checklist
from generator.sources.bounds import read_document
from generator.sources.checklist import parse_document
from generator.sources.collect import SourceFile, check_unique_ids, collect_sources, parse_sources
from generator.sources.frontmatter import split_front_matter
from generator.sources.ids import document_id

_BOM = b"\xef\xbb\xbf"
_FRONT_END = re.compile(rb"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def _read(entry: SourceFile, limit: int) -> bytes:
    try:
        return read_document(entry.path, entry.shown, limit)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", entry.shown) from None


def scanned_id(entry: SourceFile, data: bytes) -> str | None:
    """The document's ID from its path and front matter alone; ``None`` when only a full parse can tell."""
    body = data.removeprefix(_BOM).replace(b"\r\n", b"\n")
    if not body.startswith(b"---\n"):
        return document_id(entry.rel)
    end = _FRONT_END.search(body, 4)
    head = body[: end.end()] if end else body  # the body's bytes do not matter here
    try:
        front, _, _ = split_front_matter(head.decode("utf-8"), entry.shown)
    except (UnicodeDecodeError, LaunchbookError):
        return None
    return front.id or document_id(entry.rel)


def _parse(entry: SourceFile, data: bytes) -> Checklist | None:
    document = parse_document(data, entry.shown, entry.rel)
    return document if isinstance(document, Checklist) else None


def _candidates(project: Path) -> list[tuple[SourceFile, bytes, str | None]]:
    """Every document with its bytes and the ID its path and front matter give (``None``: needs a parse)."""
    content = project / "content"
    config = load_config(content, "content")
    tree = collect_sources(content, "content", config.selection)
    found = []
    for entry in tree.documents:
        data = _read(entry, config.max_document_size)
        found.append((entry, data, scanned_id(entry, data)))
    return found


def lookup_checklist(project: Path, checklist_id: str,
                     candidates: list[tuple[SourceFile, bytes, str | None]] | None = None) -> Checklist | None:
    """The checklist with this ID (case-sensitive), ``None`` if there is none; an error if
    two checklists claim it."""
    found: list[tuple[SourceFile, Checklist]] = []
    for entry, data, scanned in candidates if candidates is not None else _candidates(project):
        if scanned is not None and scanned != checklist_id:
            continue
        checklist = _parse(entry, data)
        if checklist is not None and checklist.id == checklist_id:
            found.append((entry, checklist))
    check_unique_ids([(entry.shown, checklist.id) for entry, checklist in found])
    return found[0][1] if found else None


def all_checklists(project: Path) -> dict[str, Checklist]:
    """Every checklist of the project by ID (parses the whole site: for drift of many runs)."""
    content = project / "content"
    config = load_config(content, "content")
    documents = parse_sources(collect_sources(content, "content", config.selection), max_size=config.max_document_size)
    return {d.id: d for d in documents if isinstance(d, Checklist)}


def find_checklist(project: Path, checklist_id: str) -> Checklist:
    """The checklist with this ID; an unknown ID gets the closest known ones suggested.

    Costs one read of each document's front matter and one parse of the checklist (plus a parse
    of each suggestion, to be sure it is a checklist): never a parse of the whole site."""
    candidates = _candidates(project)
    checklist = lookup_checklist(project, checklist_id, candidates)
    if checklist is not None:
        return checklist
    renamed = next((scanned for entry, data, scanned in candidates
                    if scanned and scanned != checklist_id and document_id(entry.rel) == checklist_id), None)
    if renamed is not None:
        raise SourceError(f"unknown checklist {checklist_id!r}; that file's front matter sets its ID: did you mean "
                          f"{renamed}?")
    by_id = {scanned: (entry, data) for entry, data, scanned in candidates if scanned is not None}
    for entry, data, scanned in candidates:
        if scanned is None and (parsed := _parse(entry, data)) is not None:
            by_id[parsed.id] = (entry, data)
    close = [c for c in difflib.get_close_matches(checklist_id, list(by_id), n=6, cutoff=0.4)
             if _parse(*by_id[c]) is not None][:3]
    if close:
        hint = f"; did you mean {', '.join(close)}?"
    elif len(by_id) <= 20:
        known = sorted(i for i, (entry, data) in by_id.items() if _parse(entry, data) is not None)
        hint = f"; known: {', '.join(known) or 'none'}"
    else:
        hint = f"; {len(by_id)} documents, no checklist ID close (IDs default to the path under content/, without .md)"
    raise SourceError(f"unknown checklist {checklist_id!r}{hint}")
