"""``launchbook verify PROJECT``: check the whole archive and report every problem.

The ledger chain and tree; every sealed run's record against its ledger hash; every
evidence file against its recorded hash; every report's signature, trust, whole-file
coverage and embedded record; sealed runs missing from the ledger and ledger entries
without a sealed run; sign-offs dated after the run finished (unless retroactive); the
tree heads pinned inside signed reports (a truncated or rewritten ledger contradicts
them); and checkpoints (a ledger rewritten from scratch is not their extension).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.archive import merkle
from generator.archive.checkpoint import checkpoints_dir, read_checkpoint
from generator.archive.halfclosed import half_closed
from generator.archive.ledger import (
    ApprovalEntry,
    Entry,
    LedgerEntry,
    TimestampEntry,
    TreeHead,
    ledger_bytes,
    parse_ledger,
    tree_head,
)
from generator.archive.reportcheck import check_reports, check_runs, irregular, report_job
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import SourceError
from generator.core.files import file_sha256
from generator.core.wording import entry_number
from generator.parallel import Progress
from generator.report.verify import load_trust
from generator.runs.codec import safe_evidence_path
from generator.runs.digest import RunDigest, RunHead
from generator.runs.record import parse_time, utc_now
from generator.runs.store import RunFile, all_run_files
from generator.runs.timeline import TOLERANCE


@dataclass(slots=True)
class RunAudit:
    """Integrity of one run."""

    run: str
    checklist: str
    sealed: bool
    ledger_seq: int | None = None
    """0-based RFC 6962 leaf index of its seal in the ledger (people read ``entry_number`` of it)."""
    report: Any = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not problems (entries back-filled with ``--at``)."""
    half_closed: bool = False
    """An interrupted ``run close`` left it between open and sealed."""

    @property
    def status(self) -> str:
        if self.half_closed:
            return "half-closed"
        if self.problems:
            return "problem"
        return "verified" if self.sealed else "open"

    def to_data(self) -> dict[str, Any]:
        report = self.report.to_data() if self.report is not None else {}
        return {"run": self.run, "checklist": self.checklist, "sealed": self.sealed, "status": self.status,
                "ledger_seq": self.ledger_seq,
                "ledger_entry": None if self.ledger_seq is None else entry_number(self.ledger_seq),
                "problems": list(self.problems), "notes": list(self.notes),
                "report": self.report.verdict if self.report is not None else None,
                "pades_level": self.report.level if self.report is not None else None,
                "signatures": report.get("signatures", []),
                "document_timestamps": report.get("document_timestamps", [])}


@dataclass(slots=True)
class AuditResult:
    """Everything ``verify`` found."""

    head: TreeHead
    """The ledger's current tree head."""
    runs: dict[str, RunAudit] = field(default_factory=dict)
    """Run id -> its integrity."""
    findings: list[Diagnostic] = field(default_factory=list)
    """Every problem (severity error), archive-wide and per run."""
    notes: list[Diagnostic] = field(default_factory=list)
    """Every note (severity info): back-filled entries, retroactive sign-offs."""
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    """Checkpoints checked, with their verdicts."""
    run_of: dict[int, str] = field(default_factory=dict)
    """id() of a finding or note -> the run it is about."""

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, where: str, message: str, run: str | None = None, line: int | None = None) -> None:
        self.report(Diagnostic(where, line, message, "", Severity.ERROR), run)

    def report(self, diagnostic: Diagnostic, run: str | None = None) -> None:
        """Record an error or a note (by its severity), about ``run`` if given."""
        error = diagnostic.severity is not Severity.INFO
        (self.findings if error else self.notes).append(diagnostic)
        if run is not None:
            self.run_of[id(diagnostic)] = run
            if run in self.runs:
                (self.runs[run].problems if error else self.runs[run].notes).append(diagnostic.message)

    def _data(self, diagnostic: Diagnostic) -> dict[str, Any]:
        where = diagnostic.path if diagnostic.line is None else f"{diagnostic.path}:{diagnostic.line}"
        return {"where": where, "run": self.run_of.get(id(diagnostic)), "message": diagnostic.message,
                "path": diagnostic.path, "line": diagnostic.line, "severity": diagnostic.severity.value}

    def to_data(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ledger": {"entries": self.head.size, "root_sha256": self.head.root},
            "sealed_runs": sum(r.sealed for r in self.runs.values()),
            "open_runs": sum(not r.sealed for r in self.runs.values()),
            "problems": [self._data(f) for f in self.findings],
            "notes": [self._data(n) for n in self.notes],
            "runs": [self.runs[k].to_data() for k in sorted(self.runs)],
            "checkpoints": self.checkpoints,
        }



def audit_project(project: Path, trust_paths: list[Path], since: list[Path] | None = None,
                  records: dict[str, tuple[RunFile, RunDigest]] | None = None,
                  progress: Progress | None = None, tsa_trust_paths: list[Path] | None = None,
                  record_cache: Path | None = None) -> AuditResult:
    """Check the archive of ``project``; never stops at the first problem.

    ``tsa_trust_paths``: roots of timestamp authorities whose time counts as the proven signing time.

    ``records`` are digests of records the caller has already read and validated (the site
    build); the full record of a sealed run is then loaded (from ``record_cache`` when there)
    only while its report is checked.
    """

    ledger_shown, raw, unreadable = ledger_bytes(project)
    entries, ledger_problems, leaves = parse_ledger(raw, ledger_shown)
    result = AuditResult(tree_head(leaves))
    if unreadable:
        result.add(ledger_shown, unreadable)
    for line, message in ledger_problems:
        result.add(ledger_shown, message, line=line)
    if not (project / "content").is_dir():
        result.add(str(project), "not a launchbook project (no content/ folder): nothing was verified")
        return result

    trust = load_trust(trust_paths)
    job = report_job(entries, leaves, trust, load_trust(tsa_trust_paths or []))
    checked: dict[str, tuple[list[Diagnostic], Any]] | None = None
    if records is None:  # verify: workers read the records and check the sealed ones' reports
        records, checked = {}, {}
        for row in check_runs(all_run_files(project), job, progress):
            if row.digest is None:
                result.add(row.run_file.shown, row.error[0], line=row.error[1])
                continue
            records[row.digest.head.id] = (row.run_file, row.digest)
            checked[row.digest.head.id] = (list(row.findings), row.report)
    for _, digest in records.values():
        head = digest.head
        result.runs[head.id] = RunAudit(head.id, head.checklist, head.sealed is not None)
    if not records and not entries and not ledger_problems and not result.findings:
        result.add(str(project), "no run records and no ledger: nothing to verify")

    _check_ledger_order(result, ledger_shown, entries)
    by_run: dict[str, LedgerEntry] = {}
    current: dict[str, str] = {}
    for entry in entries:
        where, line = ledger_shown, entry.line
        if isinstance(entry, TimestampEntry):
            _check_timestamp_entry(result, where, line, entry, current)
            continue
        if isinstance(entry, ApprovalEntry):
            if entry.run not in current:
                result.add(where, f"approval entry {entry_number(entry.seq)} names run {entry.run}, which the ledger "
                                  "has not sealed before it", entry.run if entry.run in records else None, line)
            current[entry.run] = entry.report_sha256
            continue
        current.setdefault(entry.run, entry.report_sha256)
        if entry.run in by_run:
            result.add(where, f"run {entry.run} is in the ledger twice "
                              f"(entries {entry_number(by_run[entry.run].seq)} and {entry_number(entry.seq)})",
                       line=line)
            continue
        by_run[entry.run] = entry
        if entry.run not in records:
            result.add(where, f"ledger entry {entry_number(entry.seq)} names run {entry.run} ({entry.checklist}), "
                              "but its record and report are gone from the archive", line=line)
            continue
        run_file, digest = records[entry.run]
        head = digest.head
        if head.sealed is None:
            result.add(where, f"ledger entry {entry_number(entry.seq)} names run {entry.run}, which was never sealed",
                       entry.run, line)
            continue
        _check_seal_time(result, run_file, head, entry)
        result.runs[entry.run].ledger_seq = entry.seq
        if digest.record_sha256 != entry.record_sha256:
            result.add(run_file.shown, f"record differs from the one sealed (sha256 {digest.record_sha256[:16]}…, "
                                       f"ledger entry {entry_number(entry.seq)} says {entry.record_sha256[:16]}…)",
                       entry.run)
        if head.sealed.get("ledger_seq") != entry.seq:
            result.add(run_file.shown, f"record says it is {_recorded_entry(head.sealed.get('ledger_seq'))}, the "
                                       f"ledger has it as entry {entry_number(entry.seq)}", entry.run)

    sealed = [run_id for run_id, (_, digest) in sorted(records.items()) if digest.head.sealed is not None]
    for run_id, (run_file, digest) in sorted(records.items()):
        for diagnostic in digest.time_problems:
            result.report(diagnostic, run_id)
        pdf = run_file.report
        why = half_closed(digest.head, os.path.lexists(pdf), run_id in by_run)
        if why:
            result.runs[run_id].half_closed = True
            result.add(run_file.shown, why, run_id)
        elif digest.head.sealed is not None and run_id not in by_run:
            result.add(run_file.shown, "run is sealed but has no ledger entry (removed from the ledger?)", run_id)
    for run_id in sealed:
        run_file, digest = records[run_id]
        _check_evidence(result, run_file, digest, by_run.get(run_id))
    if checked is None:  # a build: the full record of each sealed run loads from the record cache in the worker
        job.records, job.record_cache = records, record_cache
        reports = check_reports(sealed, job, progress)
    else:
        reports = [(run_id, *checked[run_id]) for run_id in sealed]
    for run_id, findings, report in reports:
        result.runs[run_id].report = report
        for finding in findings:
            result.report(finding, run_id)

    stored = sorted(checkpoints_dir(project).glob("checkpoint-*.json")) if checkpoints_dir(project).is_dir() else []
    for path in [*stored, *(since or [])]:
        _check_checkpoint(result, path, leaves, trust, explicit=path in (since or []))
    return result


def _recorded_entry(value: Any) -> str:
    """``sealed.ledger_seq`` of a record as people read it (it may be anything in a damaged record)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"ledger entry {entry_number(value)}"
    return f"ledger_seq {value!r}"


def _check_evidence(result: AuditResult, run_file: RunFile, digest: RunDigest, entry: LedgerEntry | None) -> None:
    record = digest.head
    for name, evidence in digest.evidence:
        if not safe_evidence_path(name):
            continue
        path = run_file.folder / name
        where = path.relative_to(run_file.project).as_posix()
        if not os.path.lexists(path):
            result.add(where, "evidence file is missing", record.id)
        elif (refusal := irregular(path, run_file.folder)) is not None:
            result.add(where, f"evidence file {refusal}", record.id)
        elif file_sha256(path) != evidence.sha256:
            result.add(where, "evidence file was replaced: its sha256 differs from the recorded one", record.id)
        if entry is not None and entry.evidence.get(name) != evidence.sha256:
            result.add(where, f"evidence hash differs from ledger entry {entry_number(entry.seq)}", record.id)


def _check_ledger_order(result: AuditResult, shown: str, entries: list[Entry]) -> None:
    """Lines are appended in order, so the times this machine wrote (``sealed_at``, ``approved_at``)
    never go backwards and are never in the future (beyond clock skew)."""
    now = parse_time(utc_now())
    previous: tuple[Entry, str, Any] | None = None
    for entry in entries:
        if isinstance(entry, TimestampEntry):
            continue  # its time is the timestamp authority's clock, not this machine's: checked in the report
        key = "approved_at" if isinstance(entry, ApprovalEntry) else "sealed_at"
        when = entry.written_at
        try:
            moment = parse_time(str(when))
        except ValueError:
            result.add(shown, f"ledger entry {entry_number(entry.seq)}: {key} {when!r} is not an ISO 8601 UTC "
                              "time",
                       line=entry.line)
            continue
        if moment > now + TOLERANCE:
            result.add(shown, f"ledger entry {entry_number(entry.seq)}: {key} {when} is in the future", line=entry.line)
        if previous is not None and moment < previous[2] - TOLERANCE:
            result.add(shown, f"ledger entry {entry_number(entry.seq)} was written at {when}, before entry "
                              f"{entry_number(previous[0].seq)} ({previous[1]}) above it: {key} goes backwards",
                       line=entry.line)
        previous = (entry, str(when), moment)


def _check_seal_time(result: AuditResult, run_file: RunFile, record: RunHead, entry: LedgerEntry) -> None:
    """The ledger's sealing time is when the run finished, unless the close was back-filled."""
    try:
        sealed_at = parse_time(entry.sealed_at)
    except ValueError:
        return  # reported by the ledger check
    back_filled = bool((record.sealed or {}).get("recorded_at"))
    finished = parse_time(record.finished_at) if record.finished_at else None
    if finished is not None and not back_filled and abs(sealed_at - finished) > TOLERANCE:
        result.add(run_file.shown, f"ledger entry {entry_number(entry.seq)} was sealed at {entry.sealed_at}, far "
                                   f"from the run's finished_at ({record.finished_at}), and the close is not marked "
                                   "back-filled",
                   record.id)
    elif finished is not None and sealed_at < finished - TOLERANCE:
        result.add(run_file.shown, f"ledger entry {entry_number(entry.seq)} was sealed at {entry.sealed_at}, "
                                   f"before the run finished ({record.finished_at})", record.id)


def _check_timestamp_entry(result: AuditResult, where: str, line: int, entry: TimestampEntry,
                           current: dict[str, str]) -> None:
    """A document-timestamp line must follow its run's seal and extend the report the ledger last had."""
    run = entry.run if entry.run in result.runs else None
    if entry.run not in current:
        result.add(where, f"ledger entry {entry_number(entry.seq)} timestamps run {entry.run}, which the ledger "
                          "has not sealed before it", run, line=line)
    elif entry.prior_sha256 != current[entry.run]:
        result.add(where, f"ledger entry {entry_number(entry.seq)} timestamps a report of run {entry.run} the "
                          "ledger never recorded (its prior sha256 differs)", run, line=line)
    current[entry.run] = entry.report_sha256


def _check_checkpoint(result: AuditResult, path: Path, leaves: list[bytes], trust: list[Any], explicit: bool) -> None:
    shown = path.name if not explicit else str(path)
    try:
        checkpoint = read_checkpoint(path)
    except SourceError as exc:
        result.add(shown, exc.reason)
        return
    verdict = {"file": shown, "tree_size": checkpoint.head.size, "root_sha256": checkpoint.head.root,
               "signer": checkpoint.signer, "ok": False}
    result.checkpoints.append(verdict)
    trusted = any(cert.dump() == checkpoint.certificate_der for cert in trust) if trust else False
    if not checkpoint.signature_ok:
        result.add(shown, "checkpoint signature is invalid")
        return
    if not trusted:
        result.add(shown, f"checkpoint is signed by {checkpoint.signer}, who is not trusted")
    size = checkpoint.head.size
    if size > len(leaves):
        result.add(shown, f"ledger has {len(leaves)} entries, fewer than the {size} this checkpoint vouched for "
                          "(truncated)")
        return
    if size:
        proof = merkle.consistency_proof(size, leaves)
        consistent = merkle.verify_consistency(size, len(leaves), proof, bytes.fromhex(checkpoint.head.root),
                                               merkle.root(leaves))
        if not consistent:
            result.add(shown, f"ledger is not an extension of this checkpoint (size {size}, root "
                              f"{checkpoint.head.root[:16]}…): its history was rewritten")
            return
    verdict["ok"] = trusted
