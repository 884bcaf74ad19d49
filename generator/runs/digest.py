"""A run record in brief: what whole-site stages need, without the item results.

A 200-item record is ~600 objects in memory; 10,000 of them do not fit in the budget of a
build (peak RSS < 1 GiB at 10,000 checklists + 10,000 runs). The site and the archive check
keep a :class:`RunDigest` per run (its head, summary, evidence list, failing items, time
problems and canonical hash) and load the full record from the record cache only while
one run page is rendered or one sealed report is checked.

Digests are cached beside the cached records, keyed by the record's cache key and the code
of launchbook (summaries and time rules are code); a digest whose record holds a time that
was in the future when it was made is never cached (whether it is still in the future
depends on when the next build runs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from generator import code_digest
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.files import load_pickle, store_pickle
from generator.runs.outcome import RunSummary, summarize
from generator.runs.record import Evidence, RunRecord, Signoff, Snapshot, Status, parse_time, utc_now
from generator.runs.store import RunFile, read_record
from generator.runs.timeline import TOLERANCE, time_problems


@dataclass(frozen=True, slots=True)
class RunHead:
    """A record's own fields, less its item results (same names as :class:`RunRecord`)."""

    id: str
    checklist: str
    release: str
    snapshot: Snapshot
    started_at: str
    operator: str
    environment: str
    change: str
    change_url: str
    finished_at: str
    summary: str
    """The record's free-text summary."""
    signoffs: tuple[Signoff, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sealed(self) -> dict[str, Any] | None:
        """The ``sealed`` section written by ``run close``, if the run is closed."""
        value = self.extra.get("sealed")
        return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class RunDigest:
    """Everything derived from one record that whole-site stages use."""

    head: RunHead
    outcome: RunSummary
    """Counts, completion and verdict."""
    record_sha256: str
    """sha256 of the record's canonical archived JSON (what the ledger records)."""
    evidence: tuple[tuple[str, Evidence], ...]
    """Stored evidence files by their path under the run folder, each once, in record order."""
    failing: frozenset[str]
    """Item IDs whose current status is failed or blocked."""
    time_problems: tuple[Diagnostic, ...]
    """Impossible times (errors) and back-filled entries (notes)."""
    key: str
    """The record's cache key (the full record loads from the cache by it)."""
    snapshot_sha256: str = ""
    """The snapshot's hash: cached digests keep their snapshot apart, stored once per version."""
    settled: bool = True
    """False when the record holds a time that was in the future when this digest was made:
    its time problems depend on the clock, so nothing derived from it may be reused later."""

    @property
    def impossible_times(self) -> list[Diagnostic]:
        return [d for d in self.time_problems if d.severity is Severity.ERROR]

    def evidence_files(self) -> dict[str, Evidence]:
        return dict(self.evidence)


def make_digest(record: RunRecord, shown: str, key: str = "", now: str | None = None) -> RunDigest:
    """The digest of a validated record (``shown``: its path in messages)."""
    head = RunHead(record.id, record.checklist, record.release, record.snapshot, record.started_at, record.operator,
                   record.environment, record.change, record.change_url, record.finished_at, record.summary,
                   record.signoffs, record.extra)
    failing = frozenset(item_id for item_id, result in record.results.items()
                        if result.current.status in (Status.FAILED, Status.BLOCKED))
    return RunDigest(head, summarize(record), record.digest(), tuple(record.evidence_files().items()), failing,
                     tuple(time_problems(record, shown, now)), key, record.snapshot.sha256())


def _latest(record: RunRecord) -> datetime | None:
    """The latest time the record mentions (where the time rules look), or ``None``."""
    texts = [record.started_at, record.finished_at, *(s.at for s in record.signoffs)]
    texts += [entry.at for result in record.results.values() for entry in (*result.history, result.current)]
    moments = []
    for text in texts:
        try:
            moments.append(parse_time(text))
        except ValueError:
            continue
    return max(moments, default=None)


def digest_cache_key(record_key: str) -> str:
    return hashlib.sha256(f"digest\0{code_digest()}\0{record_key}".encode()).hexdigest()


def cache_names(digest: RunDigest) -> tuple[str, ...]:
    """The names of the record cache's entries for this record as read now (its parse, its digest
    and its checklist version's snapshot): what pruning the cache must leave."""
    if not digest.key:
        return ()
    return digest.key, digest_cache_key(digest.key), _snapshot_name(digest.snapshot_sha256)


def load_digest(run: RunFile, cache: Path | None, key: str, snapshots: dict[str, Snapshot]) -> RunDigest:
    """The digest of ``run`` (its record read and validated, or both taken from ``cache``).

    ``snapshots`` (by hash) is shared by every call of one build: each checklist version's
    snapshot is loaded once and one object serves all its runs.
    """
    name = digest_cache_key(key) if cache is not None and key else ""
    if cache is not None and name:
        cached = load_pickle(cache / name[:2] / name, remember=True)
        if isinstance(cached, RunDigest):
            snapshot = snapshots.get(cached.snapshot_sha256) or _load_snapshot(cache, cached.snapshot_sha256)
            if snapshot is not None:
                snapshots[cached.snapshot_sha256] = snapshot
                return replace(cached, head=replace(cached.head, snapshot=snapshot))
    record = read_record(run, cache, key)
    now = utc_now()
    digest = make_digest(record, run.shown, key, now)
    snapshot = snapshots.setdefault(digest.snapshot_sha256, record.snapshot)
    latest = _latest(record)
    settled = latest is None or latest <= parse_time(now) + TOLERANCE
    if not settled:
        digest = replace(digest, settled=False)
    if cache is not None and name and settled:  # "in the future" may stop being true: never cached
        _store_snapshot(cache, digest.snapshot_sha256, snapshot)
        store_pickle(cache / name[:2] / name, replace(digest, head=replace(digest.head, snapshot=_NO_SNAPSHOT)),
                     remember=True)
    return digest if snapshot is record.snapshot else replace(digest, head=replace(digest.head, snapshot=snapshot))


_NO_SNAPSHOT = Snapshot("", "", "", (), ())


def _snapshot_name(sha256: str) -> str:
    """The cache entry name of the snapshot of the checklist version ``sha256``."""
    return hashlib.sha256(f"snapshot\0{code_digest()}\0{sha256}".encode()).hexdigest()


def _snapshot_path(cache: Path, sha256: str) -> Path:
    name = _snapshot_name(sha256)
    return cache / name[:2] / name


def _load_snapshot(cache: Path, sha256: str) -> Snapshot | None:
    loaded = load_pickle(_snapshot_path(cache, sha256), remember=True)
    return loaded if isinstance(loaded, Snapshot) and loaded.sha256() == sha256 else None


def _store_snapshot(cache: Path, sha256: str, snapshot: Snapshot) -> None:
    path = _snapshot_path(cache, sha256)
    if not path.is_file():
        store_pickle(path, snapshot)
