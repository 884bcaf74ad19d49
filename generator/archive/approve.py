"""``launchbook run approve``: an approver signs a closed run's report afterwards.

The seal is a certification signature with DocMDP P=2, which allows exactly this: one more
PAdES approval signature in a new (invisible) signature field, added as an incremental
update, so the sealed revision stays byte for byte what the ledger recorded. The approval
is appended to the ledger as an ``approval`` entry (who, role, when, and the sha256 and size
of the report as approved), so later truncation of the file is caught. The run record is
not touched: it was frozen at closing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from generator.archive.ledger import ApprovalEntry, current_report_sha256, ledger_path, read_ledger, record_revision
from generator.config import load_config
from generator.core.errors import SourceError
from generator.core.locks import locked
from generator.report.certs import check_signing_certificate
from generator.report.keys import load_signer, signing_key_file
from generator.report.longterm import timestamper_for
from generator.report.sign import signer_info
from generator.report.verify import verify_pdf
from generator.runs.record import utc_now
from generator.runs.store import find_run, read_record

APPROVAL_FIELD = "LaunchbookApproval"


@dataclass(frozen=True, slots=True)
class Approved:
    """What ``run approve`` added."""

    pdf: Path
    """The report, now with one more signature."""
    entry: ApprovalEntry
    """The ledger entry recorded."""
    field: str
    """The new signature field."""


def approve_run(project: Path, run_id: str, *, key: str | None, role: str,
                timestamp_url: str | None = None) -> Approved:
    """Add a PAdES approval signature to RUN_ID's sealed report and record it in the ledger."""
    run = find_run(project, run_id)
    signer = load_signer(key)
    check_signing_certificate(signer.signing_cert, str(signing_key_file(key)))
    config = load_config(project / "content", "content")
    with locked(ledger_path(project)), locked(run.path):
        record = read_record(run)
        pdf = run.report
        if record.sealed is None:
            raise SourceError(f"run {record.id!r} is not closed yet: record sign-offs with `launchbook run signoff`, "
                              "or close it first (`launchbook run close`)", run.shown)
        if not pdf.is_file():
            raise SourceError(f"{pdf.name} is missing beside the record; nothing to approve", run.shown)
        data = pdf.read_bytes()
        check = verify_pdf(data, pdf.name, [])
        recorded = (record.extra.get("report") or {}).get("sha256")
        broken = [s.field for s in check.signatures if not (s.intact and s.valid and s.changes_allowed)]
        if not check.signatures or broken or check.sealed_sha256 != recorded:
            raise SourceError(f"{pdf.name} is not the report sealed for this run (or was changed after the seal); "
                              "refusing to sign over it: run `launchbook verify`", run.shown)
        entries, _ = read_ledger(project)
        if current_report_sha256(entries, record.id) != hashlib.sha256(data).hexdigest():
            raise SourceError(f"{pdf.name} is not the report the ledger last recorded for this run (a revision was "
                              "added or removed outside launchbook); refusing to sign over it: run "
                              "`launchbook verify`", run.shown)
        field = f"{APPROVAL_FIELD}{len(check.signatures)}"
        signed = _sign(data, signer, field, reason=f"Approved as {role} (run {record.id})",
                       timestamp_url=timestamp_url or config.timestamp_url or None)
        subject, print_ = signer_info(signer)
        entry = ApprovalEntry(seq=len(entries), run=record.id, approved_at=utc_now(), role=role, signer=subject,
                              fingerprint=print_, report_sha256=hashlib.sha256(signed).hexdigest(),
                              report_size=len(signed))
        record_revision(project, pdf, signed, data, entry)
    return Approved(pdf, entry, field)


def _sign(data: bytes, signer: Any, field: str, *, reason: str, timestamp_url: str | None) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    timestamper = timestamper_for(timestamp_url) if timestamp_url else None
    metadata = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
                                            reason=reason, name=signer_info(signer)[0])
    output = BytesIO()
    signers.PdfSigner(metadata, signer=signer, timestamper=timestamper).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(data)), output=output)
    return output.getvalue()
