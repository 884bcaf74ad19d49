"""A content-addressed cache of parsed documents, and parallel parsing.

A cache entry's key is the sha256 of everything the parse depends on: the source bytes,
its path (paths appear in messages and IDs), and the parser's own code. So a stale entry
can never be used: change any of them and the key changes. Entries live in the code version's
cache folder (:mod:`generator.sources.cachedir`), ``parsed/``.

Documents not in the cache are parsed on every core (or the workers of ``--executor``;
results merged in source order, so the outcome does not depend on scheduling).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

from generator import code_digest
from generator.core.errors import SourceError
from generator.core.files import keeping_in_memory, load_cache_text, load_pickle, store_cache_bytes, store_pickle
from generator.core.quietgc import quiet_gc
from generator.model import Document, DocumentSummary
from generator.parallel import Progress, map_chunks
from generator.sources.checklist import parse_document

SUMMARY_PACK = "summaries.pickle"
"""The last build's summaries in one file (beside the per-document entries): a one-shot
command at 10,000 pages reads one file instead of 10,000."""
PARALLEL_FROM = 48  # below this, starting workers costs more than it saves


def cache_key(data: bytes, shown: str, rel: str) -> str:
    """The key of a source's parse: its bytes, its path and the parser's code."""
    return key_of_digest(hashlib.sha256(data).hexdigest(), shown, rel)


def key_of_digest(source_sha256: str, shown: str, rel: str) -> str:
    """:func:`cache_key` from the sha256 of the bytes (known without reading an unchanged file)."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(shown.encode() + b"\0" + rel.encode() + b"\0" + source_sha256.encode())
    return digest.hexdigest()


def parse_cached(data: bytes, shown: str, rel: str, cache: Path) -> Document:
    """One source's document from the document store in the cache folder ``cache`` (see
    :func:`~generator.sources.cachedir.cache_dir`), else parsed (and stored)."""
    key = cache_key(data, shown, rel)
    path = cache / "parsed" / key[:2] / key
    cached = load_pickle(path)
    if isinstance(cached, Document) and cached.source == shown and cached.rel_path == rel:
        return cached
    document = parse_document(data, shown, rel)
    store_pickle(path, document)
    return document


# -- The site build's view: summaries in memory, full documents on disk -----------------------

Summarize = Callable[[Document, str], tuple[DocumentSummary, dict[str, str]]]
"""Makes a document's summary and the texts derived from it for whole-site stages (given the
document and its key): ``{suffix: text}``, each cached beside the document as ``KEY.suffix``."""


class DocumentStore:
    """The parsed documents of one build, on disk, loaded one at a time by key.

    A 10,000-page site does not fit in memory as full documents (bodies, items); the build
    keeps :class:`DocumentSummary` values and asks the store for a page's document only
    while rendering it. An entry that has gone missing is parsed again from its source.
    """

    def __init__(self, folder: Path, jobs: dict[str, tuple[Path, str, str]], summarize: Summarize) -> None:
        self.folder = folder
        self.jobs = jobs  # key -> (source path, shown, rel)
        self.summarize = summarize
        self._used: set[str] = set()

    def use(self, keys: Iterable[str]) -> None:
        """Note keys besides its documents' that this build keeps entries under (runs' search words)."""
        self._used.update(keys)

    def in_use(self) -> set[str]:
        """Every key this build reads or keeps an entry under: what pruning must leave."""
        return self._used | set(self.jobs)

    def load(self, key: str) -> Document:
        """The full document with this key."""
        cached = load_pickle(self.folder / key[:2] / key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        path, shown, rel = self.jobs[key]
        document = _parse_source(path, shown, rel, key)
        store_pickle(self.folder / key[:2] / key, document)
        return document

    def cached(self, key: str, suffix: str, *, remember: bool = False) -> str | None:
        """A text derived from the document with this key (see :data:`Summarize`), when the
        cache holds it; the key need not be one of this build's."""
        return load_cache_text(f"{self.folder}/{key[:2]}/{key}.{suffix}", remember=remember)

    def derived(self, key: str, suffix: str, *, remember: bool = False, fresh: bool = False) -> str:
        """A text derived from the document with this key, made again (and stored) when the
        cache does not hold it or ``fresh`` says its copy is unusable."""
        text = None if fresh else self.cached(key, suffix, remember=remember)
        if text is None:
            derived = self.summarize(self.load(key), key)[1]
            for name, value in derived.items():
                store_cache_bytes(self.folder / key[:2] / f"{key}.{name}", value.encode("utf-8"))
            text = derived[suffix]
        return text


def _parse_source(path: Path, shown: str, rel: str, key: str) -> Document:
    """Read and parse a source whose key is known; refuses bytes that no longer match it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", shown) from None
    if cache_key(data, shown, rel) != key:
        raise SourceError("changed while the site was being built; build again", shown)
    return parse_document(data, shown, rel)


def _index_chunk(shared: tuple[Path, Summarize],
                 work: list[tuple[tuple[Path, str, str], str]]) -> list[DocumentSummary]:
    folder, summarize = shared
    summaries = []
    with quiet_gc():
        for (path, shown, rel), key in work:
            document = _parse_source(path, shown, rel, key)
            summary, derived = summarize(document, key)
            store_pickle(folder / key[:2] / key, document)
            for suffix, text in derived.items():
                store_cache_bytes(folder / key[:2] / f"{key}.{suffix}", text.encode("utf-8"))
            store_pickle(folder / key[:2] / f"{key}.sum", summary, remember=True)
            summaries.append(summary)
    return summaries


def _load_pack(folder: Path) -> dict[str, object]:
    """The summaries the last one-shot build left (none in a process that keeps them in memory)."""
    if keeping_in_memory():
        return {}
    packed = load_pickle(folder / SUMMARY_PACK)
    return packed if isinstance(packed, dict) else {}


def index_all(jobs: list[tuple[Path, str, str, str]], folder: Path, summarize: Summarize,
              progress: Progress | None = None) -> tuple[list[DocumentSummary], DocumentStore]:
    """Summaries of ``(path, shown, rel, sha256 of the bytes)`` sources in order, parsing (on
    every core) only those whose summary is not in ``folder`` yet; and the store of their full
    documents. Unchanged sources are not read at all."""
    keys = [key_of_digest(sha, shown, rel) for _, shown, rel, sha in jobs]
    results: list[DocumentSummary | None] = [None] * len(jobs)
    missing: list[int] = []
    base = f"{folder}/"  # plain strings: at 10,000 pages, Path joins cost more than the lookups
    packed = _load_pack(folder)
    unpacked = 0
    with quiet_gc():
        for index, key in enumerate(keys):
            cached = packed.get(key)
            if not isinstance(cached, DocumentSummary):
                unpacked += 1
                cached = load_pickle(f"{base}{key[:2]}/{key}.sum", remember=True)
            if isinstance(cached, DocumentSummary):
                results[index] = cached
            else:
                missing.append(index)
    work = [(jobs[i][:3], keys[i]) for i in missing]
    made = map_chunks(_index_chunk, work, shared=(folder, summarize), parallel_from=PARALLEL_FROM,
                      progress=progress, label="Parsing")
    for index, summary in zip(missing, made, strict=True):
        results[index] = summary
    if not keeping_in_memory() and unpacked + len(packed) - (len(keys) - unpacked) > len(keys) // 20:
        # Rewritten once more than 5 % of it is missing or stale (not after every edit: at
        # 10,000 pages writing it costs more than reading a few entries one by one).
        store_pickle(folder / SUMMARY_PACK, dict(zip(keys, results, strict=True)))
    store = DocumentStore(folder, {key: job[:3] for key, job in zip(keys, jobs, strict=True)}, summarize)
    return [summary for summary in results if summary is not None], store
