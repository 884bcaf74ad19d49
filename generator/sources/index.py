"""The checklist index: every Markdown document's ID, kept in the cache beside the parsed documents.

``PROJECT/.launchbook-cache/checklist-index.json`` records, for each document under
``content/`` (by its content-relative path): the stamp it had when its bytes were hashed
(size, mtime_ns, inode), the sha256 of those bytes, its ID, and its kind (``checklist``,
``page``, or unknown when only its front matter was read). The build writes it from the
summaries it made; a command that had to read files writes what it learnt. With it, finding
a checklist by ID costs a walk of ``content/`` (stats, no reads) and the one file.

A cache is trusted only as far as its stamps prove: an entry counts only for a file the walk
of ``content/`` finds now, with the same stamp, and an entry is written only when the file
had not changed for :data:`RACY_NS` before it was hashed (git's "racy" rule: a file changed
within the timestamp granularity of its hashing may change again without its stamp
changing). An index that is missing, not a regular file, malformed, or written by other code
is no index. Paths in it are never opened: they only name the files the walk found.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import code_digest
from generator.core.files import read_cache_bytes, store_cache_later

INDEX_NAME = "checklist-index.json"
FORMAT = 1
RACY_NS = 3_000_000_000
"""A hash counts for a stamp only when the file was last changed this long before it was hashed."""
MAX_INDEX_BYTES = 256 << 20
"""An index larger than this is not read (10,000 documents take about 2 MB)."""
KINDS = ("checklist", "page", None)
"""A document's kind; ``None``: not parsed yet (its ID came from its front matter)."""

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a stat tells of a file's bytes without reading them (like git's index)."""

    size: int
    """Size in bytes."""
    mtime_ns: int
    """Last change, in nanoseconds since the epoch."""
    inode: int
    """Inode number (a file replaced by another with the same size and time still differs)."""

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ino)

    def settled(self, hashed_ns: int) -> bool:
        """Whether a hash taken at ``hashed_ns`` (or later) may be remembered for this stamp."""
        return hashed_ns - self.mtime_ns > RACY_NS


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index remembers of one document."""

    stamp: Stamp
    """The file's stamp when ``sha256`` was taken."""
    sha256: str
    """sha256 of the file's bytes (with the path and code, the key of its parse in the document store)."""
    id: str
    """The document's ID."""
    kind: str | None
    """``checklist``, ``page``, or ``None`` when only its front matter was read."""


def index_path(cache: Path) -> Path:
    """Where the index of the project whose cache folder is ``cache`` lives."""
    return cache / INDEX_NAME


def load_index(cache: Path) -> dict[str, IndexEntry]:
    """The remembered entries by content-relative path; empty when there is no usable index.

    Only a regular file is read, opened without following a link and without waiting on a
    FIFO; anything that is not exactly what :func:`save_index` writes for this code counts
    as no index."""
    raw = read_cache_bytes(index_path(cache), MAX_INDEX_BYTES)
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("code") != code_digest()
            or not isinstance(data.get("files"), dict)):
        return {}
    entries: dict[str, IndexEntry] = {}
    for rel, value in data["files"].items():
        entry = _entry(value)
        if entry is None:
            return {}  # one bad entry: the file was not written by us
        entries[rel] = entry
    return entries


def _entry(value: Any) -> IndexEntry | None:
    if not isinstance(value, list) or len(value) != 6:
        return None
    size, mtime_ns, inode, sha256, doc_id, kind = value
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (size, mtime_ns, inode)):
        return None
    if not isinstance(sha256, str) or not _SHA256.match(sha256) or not isinstance(doc_id, str) or not doc_id:
        return None
    if kind not in KINDS:
        return None
    return IndexEntry(Stamp(size, mtime_ns, inode), sha256, doc_id, kind)


def save_index(cache: Path, entries: Mapping[str, IndexEntry] | Callable[[], Mapping[str, IndexEntry]]) -> None:
    """Write the index atomically (a link or FIFO at its path is replaced, never written through;
    a failure only costs the next command a scan). ``entries`` may be a function making them:
    under ``serve`` they are made and written after the rebuilt site is served."""

    def produce() -> bytes:
        listed = entries() if callable(entries) else entries
        files = {rel: [e.stamp.size, e.stamp.mtime_ns, e.stamp.inode, e.sha256, e.id, e.kind]
                 for rel, e in sorted(listed.items())}
        return json.dumps({"format": FORMAT, "code": code_digest(), "files": files},
                          separators=(",", ":")).encode("utf-8")

    store_cache_later(index_path(cache), produce)


def built_entries(hashed: Mapping[str, tuple[Stamp, int]], summaries: Mapping[str, tuple[str, str, str]],
                  ) -> dict[str, IndexEntry]:
    """The index a build leaves: ``hashed`` gives each document's stamp and the time it was
    taken (before the bytes were hashed), ``summaries`` its sha256, ID and kind (all by
    content-relative path). Documents changed too recently to vouch for are left out."""
    return {rel: IndexEntry(stamp, *summaries[rel]) for rel, (stamp, hashed_ns) in hashed.items()
            if rel in summaries and stamp.settled(hashed_ns)}
