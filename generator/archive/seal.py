"""``launchbook run close``: seal a run into its signed go-live report.

Closing is the archive's act: it freezes the record (``finished_at`` and a ``sealed``
section), renders the report from that frozen record, signs it, writes the PDF next to
the record, and notes the PDF's hash and signer in the record's ``report`` section.
A closed run and its PDF never change again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.archive.halfclosed import half_closed
from generator.archive.ledger import LedgerEntry, ledger_path
from generator.archive.ledgerstate import LedgerState, append_line, read_state
from generator.config import load_config
from generator.core.errors import SourceError
from generator.core.files import atomic_write, check_output_path, file_sha256
from generator.core.locks import locked
from generator.parallel import Progress
from generator.report.certs import check_signing_certificate
from generator.report.keys import load_signer, resolve_key, signing_key_file
from generator.report.render import render_report
from generator.report.sign import sign_report
from generator.report.verify import load_trust, verify_pdf
from generator.runs.drift import Drift, compute_drift
from generator.runs.lookup import lookup_checklist
from generator.runs.operations import when
from generator.runs.outcome import RunSummary, summarize, unfinished_required
from generator.runs.record import RunRecord, Status, parse_time, utc_now
from generator.runs.store import RunFile, find_run, read_record, write_record
from generator.runs.timeline import TOLERANCE


@dataclass(frozen=True, slots=True)
class Sealed:
    """What closing a run produced."""

    run: RunFile
    """The record."""
    record: RunRecord
    """The final record."""
    summary: RunSummary
    """Outcome at closing."""
    pdf: Path
    """The signed report."""
    pages: int
    """Pages in the report."""
    render_seconds: float
    """Time spent rendering."""
    sign_seconds: float
    """Time spent signing."""


KILL_HOOK = "LAUNCHBOOK_TEST_KILL_AT"
"""Same test hook as the site swap's; see :func:`_kill_hook`."""


def _drift(project: Path, record: RunRecord) -> Drift | None:
    try:
        checklist = lookup_checklist(project, record.checklist)
    except SourceError:
        return None
    return compute_drift(record.snapshot, checklist)


def close_run(project: Path, run_id: str, *, key: str | None = None, force: bool = False,
              at: str | None = None, timestamp_url: str | None = None) -> Sealed:
    """Close, render, sign and record; refuses while required items are open or skipped unless ``force``."""


    run = find_run(project, run_id)
    key = resolve_key(key, project)
    signer = load_signer(key)
    check_signing_certificate(signer.signing_cert, str(signing_key_file(key)))
    config = load_config(project / "content", "content")
    stamp = when(at)
    with locked(ledger_path(project)), locked(run.path):
        record = read_record(run)
        pdf_path = run.report
        ledger = read_state(project)
        resumed = _resume(project, run, record, ledger)
        if resumed is not None:
            return resumed
        record = read_record(run)
        if record.sealed is not None or record.finished_at:
            raise SourceError(f"run {record.id!r} is already closed", run.shown)
        if pdf_path.exists():
            raise SourceError(f"{pdf_path.name} already exists beside the record; refusing to replace a report",
                              run.shown)
        if parse_time(stamp) < parse_time(record.started_at):
            raise SourceError(f"--at {stamp} is before the run started ({record.started_at}); a run cannot finish "
                              "before it starts", run.shown)
        if ledger.last_written_at and _moment(ledger.last_written_at) > parse_time(utc_now()) + TOLERANCE:
            raise SourceError(f"the ledger's last line was written at {ledger.last_written_at}, later than this "
                              "machine's clock; fix the clock before sealing", run.shown)
        still_open = unfinished_required(record)
        if still_open and not force:
            first = ", ".join(i.id for i in still_open[:3])
            state = "open" if all(record.status_of(i.id) is Status.OPEN for i in still_open) else "open or skipped"
            raise SourceError(
                f"{len(still_open)} required item{'s are' if len(still_open) != 1 else ' is'} still {state} "
                f"({first}{', …' if len(still_open) > 3 else ''}); finish them, or close with --force "
                "(the report then says 'closed with exceptions')", run.shown)
        head = ledger.head()
        sealed: dict[str, Any] = {"closed_at": stamp, "forced": bool(still_open), "ledger_seq": ledger.size,
                                  "ledger_head": head.data()}
        if at:
            sealed["recorded_at"] = utc_now()
        if still_open:
            sealed["open_required"] = len(still_open)
        closed = dataclasses.replace(record, finished_at=stamp, extra={**record.extra, "sealed": sealed})
        summary = summarize(closed)
        started = time.perf_counter()
        rendered = render_report(closed, summary, _drift(project, closed), run.folder, shown=run.shown)
        rendered_at = time.perf_counter()
        signed, info = sign_report(
            rendered, signer,
            reason=f"{summary.outcome.value.upper()} go-live report for {closed.release} (run {closed.id})",
            finished=_back_filled_finish(closed),
            location=closed.environment, timestamp_url=timestamp_url or config.timestamp_url or None,
            trust=load_trust(list(config.trust)),
        )
        signed_at = time.perf_counter()
        previous = run.path.read_bytes()
        final = dataclasses.replace(closed, extra={**closed.extra, "report": {
            "file": pdf_path.name,
            "sha256": hashlib.sha256(signed).hexdigest(),
            "size": len(signed),
            "pages": rendered.pages,
            "signer": info.subject,
            "fingerprint": info.fingerprint,
            "signed_at": utc_now(),
            "timestamped": info.timestamped,
            "pades_level": info.level,
            **({"pades_note": info.note} if info.note else {}),
        }})
        try:
            # Three writes, each atomic; a crash between them leaves a half-closed run that
            # the next `run close` completes or rolls back (see _resume).
            atomic_write(pdf_path, signed)
            _kill_hook("close-after-pdf")
            write_record(run, final)
            _kill_hook("close-after-record")
            append_line(project, ledger, _entry(final, ledger.size, hashlib.sha256(signed).hexdigest()))
        except BaseException:  # leave no half-sealed run behind
            atomic_write(run.path, previous)
            with contextlib.suppress(FileNotFoundError):
                pdf_path.unlink()
            raise
    return Sealed(run, final, summary, pdf_path, rendered.pages, rendered_at - started, signed_at - rendered_at)


def _back_filled_finish(record: RunRecord) -> str:
    """When the run finished, for the stamp, if the close was back-filled (it then differs from the seal time)."""
    if not (record.sealed or {}).get("recorded_at"):
        return ""
    return record.finished_at.replace("T", " ").replace("Z", " UTC")


def _moment(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _entry(record: RunRecord, seq: int, report_sha256: str) -> LedgerEntry:
    """The ledger line of a sealed record: ``sealed_at`` is when it was really sealed."""
    sealed = record.sealed or {}
    report = record.extra.get("report") or {}
    return LedgerEntry(
        seq=seq, run=record.id, checklist=record.checklist,
        sealed_at=str(sealed.get("recorded_at") or report.get("signed_at") or sealed.get("closed_at")),
        record_sha256=record.digest(), report_sha256=report_sha256,
        evidence={path: evidence.sha256 for path, evidence in sorted(record.evidence_files().items())},
    )


def _kill_hook(point: str) -> None:
    """Test hook: ``LAUNCHBOOK_TEST_KILL_AT=close-after-pdf|close-after-record`` kills the close there."""
    if os.environ.get(KILL_HOOK) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _resume(project: Path, run: RunFile, record: RunRecord, ledger: LedgerState) -> Sealed | None:
    """Finish or undo an interrupted close of ``run`` (caller holds both locks).

    A sealed record with its report but no ledger line is completed when the ledger is still
    where the report pinned it; otherwise it is rolled back to open. A report PDF beside an
    open record is removed when it is this run's interrupted report. Returns the completed
    close, or ``None`` when the run is (now) open, or was never half-closed.
    """
    pdf_path = run.report
    in_ledger = ledger.has_sealed(record.id)
    if not half_closed(record, pdf_path.exists(), in_ledger):
        return None
    sealed = record.sealed
    if sealed is None:
        embedded = _embedded_record(pdf_path)
        if embedded.get("id") != record.id or not isinstance(embedded.get("sealed"), dict):
            raise SourceError(f"{pdf_path.name} beside the open record is not this run's interrupted report; "
                              "refusing to replace a report", run.shown)
        pdf_path.unlink()
        return None
    report = record.extra.get("report") or {}
    digest = file_sha256(pdf_path) if pdf_path.exists() else ""
    if not digest or digest != report.get("sha256"):
        raise SourceError(f"run {record.id!r} is sealed without a ledger entry and its report is missing or differs "
                          "from the recorded one; not an interrupted close (run `launchbook verify`)", run.shown)
    if sealed.get("ledger_seq") == ledger.size and sealed.get("ledger_head") == ledger.head().data():
        append_line(project, ledger, _entry(record, ledger.size, digest))
        return Sealed(run, record, summarize(record), pdf_path, int(report.get("pages") or 0), 0.0, 0.0)
    reopened = dataclasses.replace(record, finished_at="", extra={
        k: v for k, v in record.extra.items() if k not in ("sealed", "report")})
    write_record(run, reopened)
    with contextlib.suppress(FileNotFoundError):
        pdf_path.unlink()
    return None


def _embedded_record(pdf: Path) -> dict[str, Any]:
    return verify_pdf(pdf.read_bytes(), pdf.name, []).record or {}


def draft_report(project: Path, run_id: str, output: Path, *, force: bool = False) -> tuple[Path, int]:
    """An unsigned, watermarked DRAFT of any run (open or closed); an existing ``output``
    is replaced only with ``force``, and never one inside content/ or themes/."""

    check_output_path(output, project, force)
    run = find_run(project, run_id)
    record = read_record(run)
    rendered = render_report(record, summarize(record), _drift(project, record), run.folder, draft=True,
                             shown=run.shown)
    atomic_write(output, rendered.pdf)
    return output, rendered.pages


def close_runs(project: Path, run_ids: list[str], *, key: str | None = None, force: bool = False,
               at: str | None = None, timestamp_url: str | None = None,
               progress: Progress | None = None) -> list[Sealed]:
    """Close several runs in order (each sealed on its own, atomically); stops at the first
    that cannot be closed, leaving the ones before it sealed."""
    sealed: list[Sealed] = []
    for number, run_id in enumerate(dict.fromkeys(run_ids), 1):
        sealed.append(close_run(project, run_id, key=key, force=force, at=at, timestamp_url=timestamp_url))
        if progress is not None:
            progress("Sealing runs", number, len(dict.fromkeys(run_ids)))
    return sealed
