"""A sealed report's later revisions against the ledger: every approval and document timestamp
the ledger recorded is still in the file, is the signature the line says it is, and comes in the
order the ledger has it. Used by the archive audit, a report verified inside its project, and a
bundle (whose lines come with it)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from generator.archive.ledger import ApprovalEntry, Entry, LedgerEntry, TimestampEntry, ledger_bytes, parse_ledger
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.wording import entry_number
from generator.report.longterm import sealed_prefix_intact


def _error(where: str, message: str) -> Diagnostic:
    return Diagnostic(where, None, message, "", Severity.ERROR)


def check_revisions(findings: list[Diagnostic], shown: str, data: bytes, seal: LedgerEntry,
                     revisions: list[Entry], check: Any) -> None:
    """Every later revision the ledger recorded is still in the report and is what the line says:
    an approval line names a signature of the file (same certificate) that covers exactly the
    recorded bytes, a document-timestamp line a document timestamp that does; and the ledger
    lists them in the order the file has them. Revisions the ledger does not know (an approver
    signing in Acrobat, say) are allowed when the signature checks pass; they are noted, since
    only recorded ones are protected against being cut off again."""
    recorded = {seal.report_sha256}
    covering = {hashlib.sha256(data[:s.covered]).hexdigest(): s
                for s in [*check.signatures, *check.timestamps] if 0 < s.covered <= len(data)}
    previous = seal.report_sha256, covering.get(seal.report_sha256)
    for revision in revisions:
        size = revision.report_size if isinstance(revision, ApprovalEntry) else None
        recorded.add(revision.report_sha256)
        number = entry_number(revision.seq)
        what = (f"document timestamp of {revision.stamped_at}" if isinstance(revision, TimestampEntry)
                else f"approval by {revision.signer} ({revision.role})" if isinstance(revision, ApprovalEntry)
                else f"revision of ledger entry {number}")
        if not sealed_prefix_intact(data, revision.report_sha256, size):
            findings.append(_error(shown, f"{what} recorded in ledger entry {number} is no longer in the report "
                                          "(replaced or cut back)"))
            continue
        signature = covering.get(revision.report_sha256)
        is_stamp = signature is not None and signature in check.timestamps
        if signature is None or is_stamp != isinstance(revision, TimestampEntry) or (
                isinstance(revision, ApprovalEntry) and signature.fingerprint != revision.fingerprint):
            findings.append(_error(shown, f"ledger entry {number} records an {what} that the report does not "
                                          "hold (no such signature covers exactly those bytes)"))
        elif previous[1] is not None and signature.covered <= previous[1].covered:
            findings.append(_error(shown, f"ledger entry {number} lists a revision the report has before the one "
                                          "recorded above it (the ledger's lines were reordered)"))
        previous = revision.report_sha256, signature
    if hashlib.sha256(data).hexdigest() not in recorded:
        findings.append(Diagnostic(
            shown, None, "report has revisions after its seal that the ledger does not record (signatures or "
            "timestamps added outside launchbook; checked above, but only `launchbook run approve` and "
            "`launchbook timestamp` record them against removal)", "", Severity.INFO))


def check_report_against_ledger(project: Path, run_id: str, data: bytes, check: Any) -> list[str]:
    """For a report verified on its own inside its project: the ledger must have sealed this run,
    the certification seal must cover exactly the revision it recorded, and every later revision
    it recorded must still be in the file."""
    shown, raw, unreadable = ledger_bytes(project)
    if unreadable:
        return [unreadable]
    entries, problems, _ = parse_ledger(raw, shown)
    seal = next((e for e in entries if isinstance(e, LedgerEntry) and e.run == run_id), None)
    if seal is None:
        return [f"run {run_id} is not in this project's ledger ({shown})"]
    found = [f"{shown}:{line}: {message}" for line, message in problems]
    if check.sealed_sha256 != seal.report_sha256:
        found.append(f"the certification seal covers a revision other than the one in ledger entry "
                     f"{entry_number(seal.seq)} (the seal was removed or replaced)")
        return found
    findings: list[Diagnostic] = []
    check_revisions(findings, "report", data, seal, [e for e in entries if not isinstance(e, LedgerEntry)
                                                      and e.run == run_id], check)
    return found + [d.message for d in findings if d.severity is Severity.ERROR]
