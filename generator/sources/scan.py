"""Every document's ID at the cost of a walk: the checklist index vouches for unchanged files,
front matter is read for the rest (``run start``, ``run import``, ``run close``, ``list``).

The walk of ``content/`` is the build's (same ``include``/``exclude``, same refusal of links
that lead out of ``content/``), with one stat per document and no reads. A document whose
stamp matches its index entry has the ID, kind and sha256 recorded there; any other is read,
and its ID taken from its front matter (YAML only, no Markdown) or, when that cannot tell,
from a full parse. A full document is loaded from the document store
(``.launchbook-cache/parsed/``, by the key of its path, bytes and the parser's code) or
parsed from its file, and stored. What a scan learns is written back to the index.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from generator.config import SiteConfig, load_config
from generator.core.errors import LaunchbookError, SourceError
from generator.core.files import load_pickle, store_pickle
from generator.model import Document
from generator.sources.bounds import check_document_size, read_document
from generator.sources.cache import key_of_digest
from generator.sources.cachedir import cache_dir
from generator.sources.checklist import parse_document
from generator.sources.collect import SourceFile, collect_sources
from generator.sources.frontmatter import split_front_matter
from generator.sources.ids import document_id
from generator.sources.index import IndexEntry, Stamp, load_index, save_index

_BOM = b"\xef\xbb\xbf"
_FRONT_END = re.compile(rb"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


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


class IdScan:
    """The documents of a project's ``content/`` with their IDs; loads full documents on demand.

    ``entries`` holds, in walk order, each document with what is known of it (its stamp as
    seen by this scan; its sha256, ID and kind). :meth:`save` writes the index back when the
    scan learnt something.
    """

    def __init__(self, project: Path) -> None:
        content = project / "content"
        self.config: SiteConfig = load_config(content, "content")
        self.cache = cache_dir(project)
        self.read: list[str] = []
        """Content-relative paths whose bytes this scan read (the rest came from the index)."""
        self._old = load_index(self.cache)
        self._data: dict[str, bytes] = {}
        self._settled: set[str] = set()
        self.entries: list[tuple[SourceFile, IndexEntry]] = []
        clock = time.time_ns()
        for source in collect_sources(content, "content", self.config.selection, with_assets=False).documents:
            self.entries.append((source, self._entry(source, clock)))

    def _entry(self, source: SourceFile, clock: int) -> IndexEntry:
        try:
            stamp = Stamp.of(os.stat(source.path))
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", source.shown) from None
        check_document_size(stamp.size, source.shown, self.config.max_document_size)
        known = self._old.get(source.rel)
        if known is not None and known.stamp == stamp:
            self._settled.add(source.rel)
            return known
        try:
            data = read_document(source.path, source.shown, self.config.max_document_size)
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", source.shown) from None
        self.read.append(source.rel)
        if stamp.settled(clock):
            self._settled.add(source.rel)
        sha256 = hashlib.sha256(data).hexdigest()
        self._data[source.rel] = data
        doc_id = scanned_id(source, data)
        if doc_id is not None:
            return IndexEntry(stamp, sha256, doc_id, None)
        document = self._parse(source, data, sha256)
        return IndexEntry(stamp, sha256, document.id, document.kind)

    def document(self, index: int) -> Document:
        """The full document of ``entries[index]``: from the document store, else parsed (and stored).
        Its kind is remembered for the index."""
        source, known = self.entries[index]
        key = key_of_digest(known.sha256, source.shown, source.rel)
        cached = load_pickle(self._store_path(key))
        if isinstance(cached, Document) and cached.sha256 == known.sha256 and cached.rel_path == source.rel:
            document = cached
        else:
            data = self._data.get(source.rel)
            if data is None:
                data = self._reread(source, known)
            document = self._parse(source, data, known.sha256)
        if known.kind is None or known.id != document.id:
            self.entries[index] = (source, IndexEntry(known.stamp, known.sha256, document.id, document.kind))
        return document

    def _reread(self, source: SourceFile, known: IndexEntry) -> bytes:
        try:
            data = read_document(source.path, source.shown, self.config.max_document_size)
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", source.shown) from None
        self.read.append(source.rel)
        if hashlib.sha256(data).hexdigest() != known.sha256:
            raise SourceError("changed while it was being read; run the command again", source.shown)
        return data

    def _parse(self, source: SourceFile, data: bytes, sha256: str) -> Document:
        document = parse_document(data, source.shown, source.rel)
        store_pickle(self._store_path(key_of_digest(sha256, source.shown, source.rel)), document)
        return document

    def _store_path(self, key: str) -> Path:
        return self.cache / "parsed" / key[:2] / key

    def save(self) -> None:
        """Write what this scan knows to the index, when it differs from what was there."""
        entries = {source.rel: known for source, known in self.entries if source.rel in self._settled}
        if entries != self._old:
            save_index(self.cache, entries)
