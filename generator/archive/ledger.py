"""The ledger: ``content/runs/ledger.jsonl``, one line per sealed run, in sealing order.

Each line is the canonical JSON of one entry (sequence number, run, checklist, sealing
time, sha256 of the canonical run record and of the report PDF, sha256 of every evidence
file). Two more kinds of line record later revisions of a sealed report: a
*document-timestamp* line (``"kind": "document-timestamp"``, ``launchbook timestamp``) holds
the report's sha256 before and after; an *approval* line (``"kind": "approval"``,
``launchbook run approve``) holds who approved, when, in which role, and the sha256 and
size of the report as approved. Lines are the leaves of an RFC 6962 Merkle tree, so any
prefix of the ledger has a tree head (size, root) that signed reports and checkpoints pin
down. Appends happen under the ledger lock and replace the file atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive import merkle
from generator.core.errors import SourceError
from generator.core.files import atomic_write, read_regular
from generator.core.wording import entry_number
from generator.runs.record import canonical_json, parse_time
from generator.runs.store import runs_dir

LEDGER_NAME = "ledger.jsonl"
_FIELDS = ("seq", "run", "checklist", "sealed_at", "record_sha256", "report_sha256", "evidence")
TIMESTAMP_KIND = "document-timestamp"
_TIMESTAMP_FIELDS = ("seq", "kind", "run", "stamped_at", "prior_sha256", "report_sha256", "level")
APPROVAL = "approval"
_APPROVAL_FIELDS = ("seq", "kind", "run", "approved_at", "role", "signer", "fingerprint", "report_sha256",
                    "report_size")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One sealed run as the ledger records it."""

    seq: int
    """0-based position (the Merkle leaf index)."""
    run: str
    """Run id."""
    checklist: str
    """Checklist id."""
    sealed_at: str
    """When the run was closed (UTC ISO 8601)."""
    record_sha256: str
    """sha256 of the run record's canonical JSON (as archived and embedded in the PDF)."""
    report_sha256: str
    """sha256 of the signed report PDF."""
    evidence: dict[str, str]
    """Evidence path (``evidence/x``) -> sha256."""
    line: int = 0
    """1-based line in ledger.jsonl (0 for a new entry)."""

    @property
    def written_at(self) -> str:
        """When this line was appended (its time field)."""
        return self.sealed_at

    def data(self) -> dict[str, Any]:
        return {"seq": self.seq, "run": self.run, "checklist": self.checklist, "sealed_at": self.sealed_at,
                "record_sha256": self.record_sha256, "report_sha256": self.report_sha256,
                "evidence": dict(sorted(self.evidence.items()))}

    def line_bytes(self) -> bytes:
        return canonical_json(self.data())

    def leaf(self) -> bytes:
        return merkle.leaf_hash(self.line_bytes())


@dataclass(frozen=True, slots=True)
class TimestampEntry:
    """A document timestamp added to a sealed report, as the ledger records it."""

    seq: int
    """0-based position (the Merkle leaf index)."""
    run: str
    """Run id of the report."""
    stamped_at: str
    """When the timestamp authority stamped it (UTC ISO 8601)."""
    prior_sha256: str
    """sha256 of the report before this revision (its byte prefix now)."""
    report_sha256: str
    """sha256 of the report with this revision."""
    level: str
    """PAdES level the report reached."""
    line: int = 0
    """1-based line in ledger.jsonl (0 for a new entry)."""

    @property
    def written_at(self) -> str:
        """When this line was appended (its time field)."""
        return self.stamped_at

    def data(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": TIMESTAMP_KIND, "run": self.run, "stamped_at": self.stamped_at,
                "prior_sha256": self.prior_sha256, "report_sha256": self.report_sha256, "level": self.level}

    def line_bytes(self) -> bytes:
        return canonical_json(self.data())


@dataclass(frozen=True, slots=True)
class ApprovalEntry:
    """An approval signature added to a sealed run's report after it was closed."""

    seq: int
    """0-based position (the Merkle leaf index)."""
    run: str
    """Run id."""
    approved_at: str
    """When the approval was signed (UTC ISO 8601)."""
    role: str
    """The role the approver signed in."""
    signer: str
    """Approver certificate subject."""
    fingerprint: str
    """SHA-256 fingerprint of the approver certificate."""
    report_sha256: str
    """sha256 of the report as approved (every later file must start with these bytes)."""
    report_size: int
    """Length of the report as approved."""
    line: int = 0
    """1-based line in ledger.jsonl (0 for a new entry)."""

    @property
    def written_at(self) -> str:
        """When this line was appended (its time field)."""
        return self.approved_at

    def data(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": APPROVAL, "run": self.run, "approved_at": self.approved_at,
                "role": self.role, "signer": self.signer, "fingerprint": self.fingerprint,
                "report_sha256": self.report_sha256, "report_size": self.report_size}

    def line_bytes(self) -> bytes:
        return canonical_json(self.data())


Entry = LedgerEntry | TimestampEntry | ApprovalEntry


_HEX64 = re.compile(r"[0-9a-f]{64}")
_NUMBERS = ("seq", "report_size")
_HASHES = ("record_sha256", "report_sha256", "prior_sha256")


def _check_types(data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Every field of a line has its type: numbers are non-negative whole numbers (never bool),
    hashes are 64 lowercase hex digits, times parse, ``evidence`` maps paths to hashes, the rest is text."""
    for name in fields:
        value = data[name]
        if name == "kind":
            continue
        if name in _NUMBERS:
            if type(value) is not int or value < 0:
                raise ValueError(f"'{name}' must be a whole number from 0")
        elif name == "evidence":
            if not isinstance(value, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) and _HEX64.fullmatch(v) for k, v in value.items()):
                raise ValueError("'evidence' must map each evidence path to its sha256")
        elif not isinstance(value, str):
            raise ValueError(f"'{name}' must be text")
        elif name in _HASHES and not _HEX64.fullmatch(value):
            raise ValueError(f"'{name}' must be a sha256 (64 lowercase hex digits)")
        elif name.endswith("_at"):
            try:
                parse_time(value)
            except ValueError:
                raise ValueError(f"'{name}' must be an ISO 8601 UTC time") from None


def parse_entry(data: Any, number: int = 0) -> Entry:
    """One ledger line's JSON as its entry; ValueError naming the first problem."""
    kind: Any = data.get("kind") if isinstance(data, dict) else None
    known = {TIMESTAMP_KIND: _TIMESTAMP_FIELDS, APPROVAL: _APPROVAL_FIELDS}
    fields = known.get(kind, _FIELDS) if isinstance(kind, str) else _FIELDS if kind is None else None
    if not isinstance(data, dict) or fields is None or set(data) != set(fields):
        what = f"a {kind} line's fields" if isinstance(kind, str) and fields is not _FIELDS else "fields"
        raise ValueError(f"{what} must be exactly {', '.join(fields or _FIELDS)}")
    _check_types(data, fields)
    values = {k: data[k] for k in fields if k != "kind"}
    if kind == TIMESTAMP_KIND:
        return TimestampEntry(line=number, **values)
    if kind == APPROVAL:
        return ApprovalEntry(line=number, **values)
    return LedgerEntry(line=number, **values)


def sealed_entries(entries: list[Entry]) -> list[LedgerEntry]:
    """The entries that seal a run (not later revisions of its report)."""
    return [e for e in entries if isinstance(e, LedgerEntry)]


def current_report_sha256(entries: list[Entry], run: str) -> str | None:
    """The sha256 the run's report must have now: that of its latest ledger entry."""
    return next((e.report_sha256 for e in reversed(entries) if e.run == run), None)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """Size and root of the ledger's Merkle tree."""

    size: int
    """Number of entries."""
    root: str
    """Root hash, hex."""

    def data(self) -> dict[str, Any]:
        return {"tree_size": self.size, "root_sha256": self.root}


def ledger_path(project: Path) -> Path:
    return runs_dir(project) / LEDGER_NAME


def parse_ledger(raw: bytes, shown: str, *, first_seq: int = 0,
                 first_line: int = 1) -> tuple[list[Entry], list[tuple[int, str]], list[bytes]]:
    """Entries, problems as (line, message), and the raw leaf data of every line.

    Every line counts as a leaf as written, so a damaged line still changes the tree. ``raw``
    may be the rest of a ledger whose first ``first_seq`` lines were checked before, starting
    at line ``first_line`` of the file.
    """
    entries: list[Entry] = []
    problems: list[tuple[int, str]] = []
    leaves: list[bytes] = []
    for number, line in enumerate(raw.split(b"\n"), start=first_line):
        if not line.strip():
            continue
        leaves.append(merkle.leaf_hash(line))
        try:
            entry = parse_entry(json.loads(line.decode("utf-8")), number)
        except (UnicodeDecodeError, ValueError, TypeError) as exc:
            problems.append((number, f"unreadable ledger line: {exc}"))
            continue
        if canonical_json(entry.data()) != line:
            problems.append((number, "ledger line is not in canonical form (edited by hand?)"))
        expected = first_seq + len(leaves) - 1
        if entry.seq != expected:
            problems.append((number, f"seq {entry.seq} where {expected} was expected (seq is the 0-based leaf "
                                     f"index: ledger entry {entry_number(expected)} must have seq {expected}; a line "
                                     "was deleted, inserted or moved)"))
        entries.append(entry)
    return entries, problems, leaves


def ledger_bytes(project: Path) -> tuple[str, bytes, str]:
    """The ledger's name as shown, its bytes, and why it could not be read ("" when it could or is absent).
    Only a regular file inside the project is read: never a link, a FIFO or a folder."""
    path = ledger_path(project)
    shown = path.relative_to(project).as_posix()
    if not os.path.lexists(path):
        return shown, b"", ""
    try:
        return shown, read_regular(path, project, shown=shown), ""
    except SourceError as exc:
        return shown, b"", f"the ledger {exc.reason}"


def read_ledger(project: Path) -> tuple[list[Entry], list[bytes]]:
    """The ledger for appending: any problem is an error (seal nothing onto a damaged log)."""
    shown, raw, unreadable = ledger_bytes(project)
    if unreadable:
        raise SourceError(f"{unreadable}; refusing to seal onto it", shown)
    entries, problems, leaves = parse_ledger(raw, shown)
    if problems:
        line, message = problems[0]
        raise SourceError(f"{message}; refusing to seal onto a damaged ledger (run `launchbook verify`)", shown, line)
    return entries, leaves


def tree_head(leaves: list[bytes], size: int | None = None) -> TreeHead:
    count = len(leaves) if size is None else size
    return TreeHead(count, merkle.root(leaves[:count]).hex())


def append_entry(project: Path, entry: Entry) -> None:
    """Append one line (caller holds the ledger lock)."""
    path = ledger_path(project)
    existing = path.read_bytes() if path.exists() else b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    atomic_write(path, existing + entry.line_bytes() + b"\n")


def record_revision(project: Path, pdf: Path, revised: bytes, previous: bytes, entry: Entry) -> None:
    """Write a report's new revision and its ledger line (caller holds the ledger lock); if the
    line cannot be written, put the report back: never a revision the ledger does not know."""
    atomic_write(pdf, revised)
    try:
        append_entry(project, entry)
    except BaseException:
        with contextlib.suppress(OSError):
            atomic_write(pdf, previous)
        raise
