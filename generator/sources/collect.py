"""Walk ``content/``: Markdown documents, static files, and nothing else.

Listings are sorted; ``runs/`` (run records) and ``site.yml`` are left to their own stage;
names starting with ``.`` or ``_`` are skipped unless ``site.yml``'s ``include:`` names
them (``.github/**`` and ``.gitlab/**`` by default), ``exclude:`` leaves more out
(``node_modules/`` and ``vendor/`` by default), and what was skipped is listed once per
build; backups and editor leftovers are skipped, and a symbolic link that leads out of the
content folder is an error (links that stay inside are followed, their targets published as
copies). A private key among the files is an error: everything here is published.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.config import CONFIG_NAME, DEFAULT_MAX_DOCUMENT_SIZE
from generator.core import watched
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import SourceError
from generator.core.files import FileHash, inside_folder
from generator.core.keyfiles import file_private_key_kind
from generator.core.selection import Selection, hidden, is_leftover
from generator.model import Document, DocumentSummary
from generator.parallel import Progress
from generator.sources.bounds import check_document_size
from generator.sources.cache import DocumentStore, Summarize, index_all
from generator.sources.index import Stamp, built_entries, save_index

RUNS_DIR = "runs"
_SKIPPED_SHOWN = 8


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file found under ``content/``."""

    path: Path
    """Absolute path on disk."""
    rel: str
    """Path relative to ``content/`` with ``/`` separators."""
    shown: str
    """Path as printed in messages (``content/ops/deploy.md``)."""


@dataclass(frozen=True, slots=True)
class SourceTree:
    """Everything ``collect_sources`` found."""

    documents: tuple[SourceFile, ...]
    """Markdown files, sorted by path."""
    assets: tuple[SourceFile, ...]
    """Other files, copied to the site as they are."""
    skipped: tuple[str, ...] = ()
    """Content-relative folders (ending in ``/``) and Markdown files left out by the
    hidden-name rule or ``exclude:``, sorted."""

    def skipped_note(self, shown_root: str) -> Diagnostic | None:
        """One line saying what was left out (an info, not a warning), or ``None``."""
        if not self.skipped:
            return None
        listed = ", ".join(self.skipped[:_SKIPPED_SHOWN])
        more = f" and {len(self.skipped) - _SKIPPED_SHOWN} more" if len(self.skipped) > _SKIPPED_SHOWN else ""
        return Diagnostic(shown_root, None, f"skipped {listed}{more} (site.yml 'include'/'exclude' decide; "
                          "names starting with . or _ are skipped unless included)", severity=Severity.INFO)


def collect_sources(content_dir: Path, shown_root: str, selection: Selection | None = None, *,
                    with_assets: bool = True) -> SourceTree:
    """List the Markdown documents and static files under ``content_dir`` that ``selection``
    (``site.yml``'s ``include``/``exclude``; the defaults when ``None``) keeps. ``with_assets=False``
    lists the documents alone (no asset is opened to check it is not a private key)."""
    if not content_dir.is_dir():
        raise SourceError("content folder not found (expected Markdown sources here)", shown_root)
    selection = selection or Selection()
    start = watched.mark(content_dir)
    memo_key = (str(content_dir), shown_root, selection, with_assets)
    known = _trees.get(memo_key)
    if start is not None and known is not None and (
            modified := watched.modified_since(known[0], content_dir)) is not None:
        tree = known[1]  # only files' contents changed: the same files, and no key among them now
        for entry in tree.assets:
            if str(entry.path) in modified:
                _not_a_private_key(entry)
    else:
        tree, plain = _collect(content_dir, shown_root, selection, with_assets, watching=start is not None)
        _trees.pop(memo_key, None)
        if start is None or not plain:
            return tree
    _trees[memo_key] = (start, tree)
    return tree


_trees: dict[tuple[str, str, Selection, bool], tuple[int, SourceTree]] = {}
"""Under a watcher (``serve``), the last tree of each walk, with the watcher's mark taken before it
(see :mod:`generator.core.watched`): when files were only modified since, the walk is not repeated."""


def _collect(content_dir: Path, shown_root: str, selection: Selection, with_assets: bool, *,
             watching: bool) -> tuple[SourceTree, bool]:
    """The tree, and (``watching`` only) whether it is plain: no link and no file with a second
    name, so a watcher reports every change under the one path the tree lists."""
    root = content_dir.resolve()
    documents: list[SourceFile] = []
    assets: list[SourceFile] = []
    skipped: list[str] = []
    plain = [watching]
    for rel_parts, path in sorted(_walk(content_dir, root, shown_root, selection, skipped, plain)):
        rel = "/".join(rel_parts)
        if rel == CONFIG_NAME:
            continue
        entry = SourceFile(path, rel, f"{shown_root}/{rel}")
        if path.suffix.lower() == ".md":
            documents.append(entry)
        elif with_assets:
            _not_a_private_key(entry)
            assets.append(entry)
    return SourceTree(tuple(documents), tuple(assets), tuple(sorted(skipped))), plain[0]


def _walk(content_dir: Path, root: Path, shown_root: str, selection: Selection,
          skipped: list[str], plain: list[bool]) -> Iterator[tuple[tuple[str, ...], Path]]:
    """(relative parts, path) of every file to publish: ``runs/``, backups and editor
    leftovers left out, hidden and ``_`` names unless included, excluded ones never (the
    folders and Markdown files left out go to ``skipped``). A link that leads out of the
    content folder is an error (it would publish a file from elsewhere); links that stay
    inside are followed."""
    pending: list[tuple[Path, tuple[str, ...]]] = [(content_dir, ())]
    while pending:
        folder, parts = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if (not parts and name == RUNS_DIR) or is_leftover(name):
                continue
            here = (*parts, name)
            is_dir = entry.is_dir()
            if is_dir:
                unwanted = selection.excluded_folder(here) or (hidden(name) and not selection.may_include(here))
            else:
                unwanted = selection.excluded(here) or (_hidden_path(here) and not selection.included(here))
            if unwanted:
                if is_dir or name.lower().endswith(".md"):
                    skipped.append("/".join(here) + ("/" if is_dir else ""))
                continue
            path = Path(entry.path)
            shown = "/".join((shown_root, *here))
            if entry.is_symlink():
                plain[0] = False
                inside_folder(path, root, shown=shown)
                if is_dir and folder.resolve().is_relative_to(path.resolve()):
                    raise SourceError("is a symbolic link to a folder that contains it (a loop)", shown)
            if is_dir:
                pending.append((path, here))
            elif entry.is_file():
                if plain[0] and entry.stat().st_nlink > 1:
                    plain[0] = False
                yield here, path


def published(parts: tuple[str, ...], selection: Selection) -> bool:
    """Whether the file at ``parts`` (relative to ``content/``) is one :func:`collect_sources`
    publishes or reads as a document, by the same rules as its walk (links aside): no part a
    leftover, not under the top-level ``runs/``, no folder above it left out, the file itself
    not excluded and not hidden unless included. ``serve`` asks it of a change whose name looks
    like an editor's temporary file."""
    if not parts or parts[0] == RUNS_DIR or any(is_leftover(part) for part in parts):
        return False
    for depth in range(1, len(parts)):
        folder = parts[:depth]
        if selection.excluded_folder(folder) or (hidden(folder[-1]) and not selection.may_include(folder)):
            return False
    return not (selection.excluded(parts) or (_hidden_path(parts) and not selection.included(parts)))


def _hidden_path(parts: tuple[str, ...]) -> bool:
    return any(hidden(part) for part in parts)


def _not_a_private_key(entry: SourceFile) -> None:
    """Everything under ``content/`` is published: a private key there is an error."""
    try:
        kind = file_private_key_kind(entry.path)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", entry.shown) from None
    if kind is not None:
        raise SourceError(f"is a {kind}; everything under content/ is published, so keep keys elsewhere "
                          "(the default is .launchbook/keys/)", entry.shown)


def index_sources(tree: SourceTree, folder: Path, summarize: Summarize, progress: Progress | None = None,
                  file_hash: FileHash | None = None, max_size: int = DEFAULT_MAX_DOCUMENT_SIZE,
                  ) -> tuple[list[DocumentSummary], DocumentStore]:
    """Summaries of every document (parsed in parallel, only when not already in ``folder``)
    and the store their full documents load from; checklist IDs must be unique.

    ``file_hash`` gives a file's sha256 without reading it when it is known unchanged (the
    up-to-date check's remembered hashes); by default every source is read and hashed. A
    source larger than ``max_size`` bytes is an error, before it is read (or found in a cache).
    The checklist index (``sources/index.py``) is written beside ``folder`` from the summaries.
    """

    jobs = []
    stamps: dict[str, tuple[Stamp, int]] = {}
    for entry in tree.documents:
        try:
            hashed_ns = time.time_ns()
            info = file_hash.stat(entry.path) if file_hash else os.stat(entry.path)
            check_document_size(info.st_size, entry.shown, max_size)
            digest = file_hash(entry.path, info) if file_hash else hashlib.sha256(entry.path.read_bytes()).hexdigest()
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", entry.shown) from None
        jobs.append((entry.path, entry.shown, entry.rel, digest))
        stamps[entry.rel] = (Stamp.of(info), hashed_ns)
    summaries, store = index_all(jobs, folder, summarize, progress)
    facts = {entry.rel: (s.sha256, s.id, s.kind) for entry, s in zip(tree.documents, summaries, strict=True)}
    save_index(folder.parent, lambda: built_entries(stamps, facts))
    _unique_ids(tree, summaries)
    return summaries, store


def _unique_ids(tree: SourceTree, documents: Sequence[Document | DocumentSummary]) -> None:
    check_unique_ids([(entry.shown, document.id) for entry, document in zip(tree.documents, documents, strict=True)
                      if document.kind == "checklist"])


def check_unique_ids(checklists: Sequence[tuple[str, str]]) -> None:
    """``(shown path, ID)`` of every checklist: one error naming every ID used more than once."""
    users: dict[str, list[str]] = {}
    for shown, doc_id in checklists:
        users.setdefault(doc_id, []).append(shown)
    clashes = [(doc_id, paths) for doc_id, paths in users.items() if len(paths) > 1]
    if not clashes:
        return
    lines = [f"{paths[1]}:1: checklist ID {doc_id!r} is already used by {', '.join(paths[:1] + paths[2:])}"
             for doc_id, paths in sorted(clashes, key=lambda clash: clash[1][1])]
    first = lines[0].split(": ", 1)[1]
    raise SourceError(
        first + "".join(f"\n{line}" for line in lines[1:]) + "\n(IDs default to the path under content/; "
        "give one of each pair a different 'id' in its front matter)",
        lines[0].split(":", 1)[0], 1)
