"""What the run console shows of a run: items by section with their state and history,
the summary bar, sign-offs. Built from the record the store just read; never cached, so
every page and every live update shows what is on disk."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from generator.runs.outcome import RunSummary, summarize
from generator.runs.record import Entry, RunRecord, SnapshotItem, Status
from generator.runs.store import RunFile

STATUS_LABELS = {Status.OPEN: "Open", Status.DONE: "Done", Status.FAILED: "Failed", Status.SKIPPED: "Skipped",
                 Status.NA: "N/A", Status.BLOCKED: "Blocked"}
"""Every status with the name its button carries."""
MARKS = (Status.DONE, Status.FAILED, Status.SKIPPED, Status.NA, Status.BLOCKED)
"""The statuses an item can be marked with (Open is "reopen")."""


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as the console shows it."""

    item: SnapshotItem
    """The item as snapshotted when the run started."""
    status: Status
    """Its current status."""
    current: Entry | None
    """Its latest entry (None while never marked)."""
    history: tuple[Entry, ...]
    """Earlier entries, oldest first."""
    heading: str
    """The section path to show above it when it starts a new section, else ``""``."""

    @property
    def required(self) -> bool:
        return not self.item.optional

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class RunView:
    """A whole run for the console."""

    run: RunFile
    """Where the record lives."""
    record: RunRecord
    """The record as read."""
    summary: RunSummary
    """Counts and outcome."""
    items: tuple[ItemView, ...]
    """Every item in checklist order."""
    version: str
    """Changes whenever the record file changes (live updates compare it)."""

    @property
    def closed(self) -> bool:
        return bool(self.record.finished_at or self.record.sealed is not None)

    @property
    def report(self) -> Path | None:
        pdf = self.run.report
        return pdf if self.record.sealed is not None and pdf.is_file() else None


def record_version(run: RunFile) -> str:
    """A cheap fingerprint of the record file: size, modification time and inode."""
    try:
        stat = os.stat(run.path)
    except OSError:
        return ""
    return hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}".encode()).hexdigest()[:16]


def run_view(run: RunFile, record: RunRecord, version: str) -> RunView:
    items: list[ItemView] = []
    previous: tuple[str, ...] | None = None
    for item in record.snapshot.items:
        result = record.results.get(item.id)
        heading = " › ".join(item.section) if item.section != previous else ""
        previous = item.section
        items.append(ItemView(item, record.status_of(item.id), result.current if result else None,
                              result.history if result else (), heading))
    return RunView(run, record, summarize(record), tuple(items), version)
