"""A content-addressed cache of parsed documents, and parallel parsing.

A cache entry's key is the sha256 of everything the parse depends on: the source bytes,
its path (paths appear in messages and IDs), and the parser's own code. So a stale entry
can never be used: change any of them and the key changes. Entries live in
``PROJECT/.launchbook-cache/`` (safe to delete at any time).

Documents not in the cache are parsed on every core (``fork`` workers, results merged in
source order, so the outcome does not depend on scheduling).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

from generator import __version__
from generator.model import Document
from generator.sources.checklist import parse_document

CACHE_DIR = ".launchbook-cache"
PARALLEL_FROM = 48  # below this, starting workers costs more than it saves


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of the code that turns bytes into a Document (any edit invalidates the cache)."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted([*package.joinpath("sources").glob("*.py"), package / "model.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(data: bytes, shown: str, rel: str) -> str:
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(shown.encode() + b"\0" + rel.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """Parsing makes millions of short-lived tokens; the cyclic GC only slows it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_one(job: tuple[bytes, str, str]) -> Document:
    return parse_document(*job)


def _parse_chunk(jobs: list[tuple[bytes, str, str]]) -> list[Document]:
    with quiet_gc():
        return [parse_document(*job) for job in jobs]


def parse_all(jobs: list[tuple[bytes, str, str]], cache_root: Path | None) -> list[Document]:
    """Parse ``(bytes, shown, rel)`` jobs, using and filling the cache when given."""
    folder = cache_root / CACHE_DIR / "parsed" if cache_root is not None else None
    results: list[Document | None] = [None] * len(jobs)
    keys = [cache_key(*job) for job in jobs] if folder is not None else []
    missing: list[int] = []
    with quiet_gc():
        _load_cached(jobs, keys, folder, results, missing)
    parsed = _parse_many([jobs[i] for i in missing])
    for index, document in zip(missing, parsed):
        results[index] = document
        if folder is not None:
            _store(folder / keys[index][:2] / keys[index], document)
    return [doc for doc in results if doc is not None]


def _load_cached(jobs: list[tuple[bytes, str, str]], keys: list[str], folder: Path | None,
                 results: list[Document | None], missing: list[int]) -> None:
    for index in range(len(jobs)):
        if folder is not None:
            path = folder / keys[index][:2] / keys[index]
            try:
                results[index] = pickle.loads(path.read_bytes())
                continue
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
                pass
        missing.append(index)


def _parse_many(jobs: list[tuple[bytes, str, str]]) -> list[Document]:
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _parse_chunk(jobs)
    size = max(1, len(jobs) // (workers * 4))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [document for chunk in pool.map(_parse_chunk, chunks) for document in chunk]


def _store(path: Path, document: Document) -> None:
    """Write one cache entry (atomic; a failure only means a slower next build)."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temp, path)
