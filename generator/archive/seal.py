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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive.ledger import LedgerEntry, append_entry, ledger_path, read_ledger, tree_head
from generator.config import load_config
from generator.core.errors import SourceError
from generator.core.files import atomic_write, check_output_path
from generator.core.locks import locked
from generator.parallel import Progress
from generator.report.certs import check_signing_certificate
from generator.report.keys import load_signer, signing_key_file
from generator.report.render import render_report
from generator.report.sign import sign_report
from generator.report.verify import load_trust
from generator.runs.drift import Drift, compute_drift
from generator.runs.lookup import lookup_checklist
from generator.runs.operations import when
from generator.runs.outcome import RunSummary, summarize, unfinished_required
from generator.runs.record import RunRecord, Status, utc_now
from generator.runs.store import RunFile, find_run, read_record, write_record


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


def report_path(run: RunFile) -> Path:
    return run.path.with_suffix(".pdf")


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
    signer = load_signer(key)
    check_signing_certificate(signer.signing_cert, str(signing_key_file(key)))
    config = load_config(project / "content", "content")
    stamp = when(at)
    with locked(ledger_path(project)), locked(run.path):
        record = read_record(run)
        pdf_path = report_path(run)
        if record.sealed is not None or record.finished_at:
            raise SourceError(f"run {record.id!r} is already closed", run.shown)
        if pdf_path.exists():
            raise SourceError(f"{pdf_path.name} already exists beside the record; refusing to replace a report",
                              run.shown)
        still_open = unfinished_required(record)
        if still_open and not force:
            first = ", ".join(i.id for i in still_open[:3])
            state = "open" if all(record.status_of(i.id) is Status.OPEN for i in still_open) else "open or skipped"
            raise SourceError(
                f"{len(still_open)} required item{'s are' if len(still_open) != 1 else ' is'} still {state} "
                f"({first}{', …' if len(still_open) > 3 else ''}); finish them, or close with --force "
                "(the report then says 'closed with exceptions')", run.shown)
        entries, leaves = read_ledger(project)
        head = tree_head(leaves)
        sealed: dict[str, Any] = {"closed_at": stamp, "forced": bool(still_open), "ledger_seq": len(entries),
                                  "ledger_head": head.data()}
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
            location=closed.environment, timestamp_url=timestamp_url or config.timestamp_url or None,
            trust=load_trust(list(config.trust)),
        )
        signed_at = time.perf_counter()
        atomic_write(pdf_path, signed)
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
        entry = LedgerEntry(
            seq=len(entries), run=final.id, checklist=final.checklist, sealed_at=stamp,
            record_sha256=final.digest(), report_sha256=hashlib.sha256(signed).hexdigest(),
            evidence={path: evidence.sha256 for path, evidence in sorted(final.evidence_files().items())},
        )
        previous = run.path.read_bytes()
        try:
            write_record(run, final)
            append_entry(project, entry)
        except BaseException:  # leave no half-sealed run behind
            atomic_write(run.path, previous)
            with contextlib.suppress(FileNotFoundError):
                pdf_path.unlink()
            raise
    return Sealed(run, final, summary, pdf_path, rendered.pages, rendered_at - started, signed_at - rendered_at)


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
