"""The run record: one execution of a checklist for a release.

A record is immutable data; commands build a new record and the store writes it
atomically. Derived facts (counts, completion, outcome) are never stored: see
:mod:`generator.runs.outcome`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")

FORMAT = 1


class Status(Enum):
    """State of one item in a run."""

    OPEN = "open"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NA = "na"
    BLOCKED = "blocked"

    @property
    def needs_reason(self) -> bool:
        """Failed, skipped, n/a and blocked items must say why."""
        return self in (Status.FAILED, Status.SKIPPED, Status.NA, Status.BLOCKED)


STATUS_ALIASES = {"n/a": "na", "not-applicable": "na", "pass": "done", "passed": "done", "fail": "failed"}
"""Other names people type for a status."""
STATUS_NAMES = (*(s.value for s in Status), *STATUS_ALIASES)
"""Every name a status may be given by (``run mark --status``)."""


class Decision(Enum):
    """A sign-off decision."""

    APPROVE = "approve"
    REJECT = "reject"


def _fast_pickle(cls: type[T]) -> type[T]:
    """Give a frozen slotted dataclass a quick ``__setstate__``.

    The one dataclasses generates looks up ``fields()`` for every object it unpickles
    (~5 µs each): 27 s for the 5.7 million objects of 10,000 cached 200-item run records.
    The state is the same list of field values, so earlier cache entries still load.
    """
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    setter = object.__setattr__

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            setter(self, name, value)

    setattr(cls, "__getstate__", __getstate__)  # noqa: B010 - a method set on the class, which mypy forbids
    setattr(cls, "__setstate__", __setstate__)  # noqa: B010
    return cls


@_fast_pickle
@dataclass(frozen=True, slots=True)
class SnapshotItem:
    """A checklist item as it was when the run started."""

    id: str
    """Stable item ID."""
    text: str
    """Plain item text."""
    section: tuple[str, ...]
    """Section path."""
    depth: int
    """1 for top-level items."""
    optional: bool
    """Optional items never block a go."""
    command: str = ""
    """Its runnable step as it was at run start (see :class:`generator.model.Item`)."""
    shell: str = ""
    """``sh`` or ``bash`` for ``command``."""


@_fast_pickle
@dataclass(frozen=True, slots=True)
class Snapshot:
    """The checklist frozen at run start, so the run renders the same forever."""

    title: str
    """Checklist title."""
    source: str
    """Content-relative path of the checklist source."""
    source_sha256: str
    """sha256 of the Markdown source bytes at run start."""
    items: tuple[SnapshotItem, ...]
    """Every item, in source order."""
    signoff_roles: tuple[str, ...]
    """Roles that must approve for a go."""

    def to_data(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "signoff_roles": list(self.signoff_roles),
            "items": [
                {"id": i.id, "text": i.text, "section": list(i.section), "depth": i.depth, "optional": i.optional,
                 **({"command": i.command, "shell": i.shell} if i.command else {})}
                for i in self.items
            ],
        }

    def sha256(self) -> str:
        """Hash of the snapshot's canonical JSON (stored in the record, checked on load)."""
        return hashlib.sha256(canonical_json(self.to_data())).hexdigest()

    def item(self, item_id: str) -> SnapshotItem | None:
        return next((i for i in self.items if i.id == item_id), None)


@_fast_pickle
@dataclass(frozen=True, slots=True)
class Evidence:
    """A URL or a file stored under the run's evidence folder."""

    url: str = ""
    """External link (http/https), or empty for a file."""
    file: str = ""
    """Path relative to the run folder (``evidence/x.png``), or empty for a URL."""
    sha256: str = ""
    """Hex digest of the file."""
    size: int = 0
    """File size in bytes."""
    name: str = ""
    """The file's original name, when it differs from the stored one (``Prüfbericht.txt`` stored as
    ``evidence/Pr-fbericht.txt``); empty otherwise."""
    line: int = field(default=0, compare=False)
    """Line of this entry in the record file it was read from (0 when not read from one; for messages only)."""

    def to_data(self) -> dict[str, Any]:
        if self.url:
            return {"url": self.url}
        data: dict[str, Any] = {"file": self.file, "sha256": self.sha256, "size": self.size}
        if self.name:
            data["name"] = self.name
        return data

    @property
    def original_name(self) -> str:
        """The name the file had when it was attached (the stored name when that is the same)."""
        return self.name or self.file.rpartition("/")[2]


@_fast_pickle
@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded state of an item: status, who, when, why, evidence."""

    status: Status
    """The status set."""
    by: str
    """Who set it."""
    at: str
    """When, UTC ISO 8601 (``2026-11-22T09:30:00Z``)."""
    note: str = ""
    """Reason or remark (required for failed/skipped/n/a/blocked)."""
    evidence: tuple[Evidence, ...] = ()
    """Attached evidence."""
    recorded_at: str = ""
    """When it was actually written, for an entry back-filled with ``--at`` (else empty)."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status.value, "by": self.by, "at": self.at}
        if self.note:
            data["note"] = self.note
        if self.evidence:
            data["evidence"] = [e.to_data() for e in self.evidence]
        if self.recorded_at:
            data["recorded_at"] = self.recorded_at
        return data


@_fast_pickle
@dataclass(frozen=True, slots=True)
class ItemResult:
    """The current state of an item plus every earlier state, oldest first."""

    current: Entry
    """The latest entry."""
    history: tuple[Entry, ...] = ()
    """Earlier entries, oldest first (an audit trail: nothing is overwritten)."""

    def to_data(self) -> dict[str, Any]:
        data = self.current.to_data()
        if self.history:
            data["history"] = [e.to_data() for e in self.history]
        return data


@_fast_pickle
@dataclass(frozen=True, slots=True)
class Signoff:
    """One approver's decision."""

    role: str
    """Role signed for (one of the checklist's sign-off roles)."""
    name: str
    """Printed name of the approver."""
    decision: Decision
    """approve or reject."""
    meaning: str
    """What the signature means, e.g. "approved for production"."""
    at: str
    """When, UTC ISO 8601."""
    comment: str = ""
    """Optional remark."""
    retroactive: bool = False
    """Given after the run finished on purpose (emergency change), not by mistake."""
    recorded_at: str = ""
    """When it was actually written, for a sign-off back-filled with ``--at`` (else empty)."""

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "role": self.role, "name": self.name, "decision": self.decision.value,
            "meaning": self.meaning, "at": self.at,
        }
        if self.comment:
            data["comment"] = self.comment
        if self.retroactive:
            data["retroactive"] = True
        if self.recorded_at:
            data["recorded_at"] = self.recorded_at
        return data


@_fast_pickle
@dataclass(frozen=True, slots=True)
class RunRecord:
    """Everything recorded about one run."""

    id: str
    """Run ID, unique across the project."""
    checklist: str
    """Checklist ID."""
    release: str
    """Release or version being launched."""
    snapshot: Snapshot
    """The checklist as it was at start."""
    started_at: str
    """UTC ISO 8601."""
    operator: str = ""
    """Who runs the checklist."""
    environment: str = ""
    """Target environment (production, staging …)."""
    change: str = ""
    """Change ticket ID."""
    change_url: str = ""
    """Link to the change ticket."""
    finished_at: str = ""
    """UTC ISO 8601 when the run was closed, or empty."""
    summary: str = ""
    """Free-text summary."""
    results: dict[str, ItemResult] = field(default_factory=dict)
    """Item ID -> result; items without one are open."""
    signoffs: tuple[Signoff, ...] = ()
    """Sign-offs in the order given."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Sections added by later stages (``sealed``), kept verbatim."""

    def evidence(self) -> list[tuple[str, str, Evidence]]:
        """Every evidence reference as (item id, time of its entry, evidence): items in
        checklist order, earlier entries of an item before its current one."""
        found: list[tuple[str, str, Evidence]] = []
        for item in self.snapshot.items:
            result = self.results.get(item.id)
            if result is not None:
                for entry in (*result.history, result.current):
                    found.extend((item.id, entry.at, evidence) for evidence in entry.evidence)
        return found

    def evidence_files(self) -> dict[str, Evidence]:
        """The stored evidence files by their path under the run folder (each once)."""
        files: dict[str, Evidence] = {}
        for _, _, evidence in self.evidence():
            if evidence.file:
                files.setdefault(evidence.file, evidence)
        return files

    def status_of(self, item_id: str) -> Status:
        result = self.results.get(item_id)
        return result.current.status if result else Status.OPEN

    @property
    def sealed(self) -> dict[str, Any] | None:
        """The ``sealed`` section written by ``run close``, if the run is closed."""
        value = self.extra.get("sealed")
        return value if isinstance(value, dict) else None

    def archived_data(self) -> dict[str, Any]:
        """The record as archived and embedded in its report: everything but ``report``.

        ``report`` describes the signed PDF (its hash, its signer) and so cannot be inside it.
        """
        data = self.to_data()
        data.pop("report", None)
        return data

    def digest(self) -> str:
        """sha256 of the canonical JSON of :meth:`archived_data` (what the ledger records)."""
        return hashlib.sha256(canonical_json(self.archived_data())).hexdigest()

    def to_data(self) -> dict[str, Any]:
        """The record as plain data, in the order it is written."""
        data: dict[str, Any] = {
            "launchbook_run": FORMAT,
            "id": self.id,
            "checklist": self.checklist,
            "release": self.release,
            "change": self.change,
            "change_url": self.change_url,
            "environment": self.environment,
            "operator": self.operator,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "summary": self.summary,
            "snapshot_sha256": self.snapshot.sha256(),
            "snapshot": self.snapshot.to_data(),
            "results": {key: self.results[key].to_data() for key in sorted(self.results)},
            "signoffs": [s.to_data() for s in self.signoffs],
        }
        data.update({key: self.extra[key] for key in sorted(self.extra)})
        return data


def canonical_json(data: Any) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, no insignificant whitespace."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def utc_now() -> str:
    """Now, as the record stores times."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time; naive times (and anything but text) are rejected (ValueError)."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time has no timezone (use UTC, e.g. 2026-11-22T09:30:00Z)")
    return moment.astimezone(UTC)
