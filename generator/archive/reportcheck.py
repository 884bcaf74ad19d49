"""Every sealed run's signed report checked against its record and the ledger, on every core.

For ``launchbook verify`` each worker reads its share of the run records itself (parsing
10,000 records in one process would be the longest part of the audit) and checks the report of
each sealed one; the audit then cross-checks the records it gets back against the ledger. A
build already holds digests of the records: its workers load a full record (from the record
cache) only while its report is checked.

A report must: be a regular file; verify on its own (:func:`~generator.report.verify.verify_pdf`:
signatures, trust, coverage, changes after the seal, embedded files as sealed); match the archived
record and the sha256 recorded when the run was closed; start with the revision its ledger line
records, whose later revisions are the ones the ledger has (:mod:`generator.archive.revisions`);
and carry a ledger tree head that the ledger still has (a truncated or rewritten ledger contradicts
it). Every check runs for every report: what is worked out once per ``verify`` is only what every
report reads alike — the ledger's root at each size, the trusted certificates, the moment of the
check.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.archive.ledger import Entry, LedgerEntry
from generator.archive.ledgerstate import prefix_roots
from generator.archive.revisions import check_revisions
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import SourceError
from generator.core.files import regular_file
from generator.core.quietgc import freeing_cycles, quiet_gc
from generator.core.wording import entry_number
from generator.parallel import Progress, map_chunks
from generator.report.longterm import sealed_prefix_intact
from generator.report.verify import PdfVerification, compare_with_archive, trust_from_der, verify_pdf
from generator.runs.digest import RunDigest, make_digest
from generator.runs.record import RunRecord
from generator.runs.store import RunFile, read_record

PARALLEL_FROM = 32
"""Below this many runs the checks stay in this process (starting workers would cost more)."""


@dataclass(slots=True)
class ReportJob:
    """What every report check reads alike (the map's ``shared`` value)."""

    by_run: dict[str, LedgerEntry]
    """The ledger line that seals each run (its first)."""
    roots: list[str]
    """The ledger's Merkle root (hex) at every size from 0 to its length."""
    trust: list[Any]
    """Trusted signer certificates."""
    tsa_trust: list[Any]
    """Trusted timestamp authority roots."""
    revisions: dict[str, list[Entry]]
    """Approval and timestamp entries by run."""
    now: datetime.datetime
    """The moment every report's certificates are checked at (when ``verify`` started)."""
    records: dict[str, tuple[RunFile, RunDigest]] = field(default_factory=dict)
    """Digests a build already holds (their full records load from ``record_cache``)."""
    record_cache: Path | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Certificates travel as DER (for a Dask cluster; asn1crypto objects do not survive pickling)."""
        state = {name: getattr(self, name) for name in self.__slots__}
        return {**state, "trust": [c.dump() for c in self.trust], "tsa_trust": [c.dump() for c in self.tsa_trust]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, trust_from_der(value) if name in ("trust", "tsa_trust") else value)


def report_job(entries: list[Entry], leaves: list[bytes], trust: list[Any], tsa_trust: list[Any],
               now: datetime.datetime | None = None) -> ReportJob:
    """The shared part of every report check, from the ledger and the trusted certificates."""
    by_run: dict[str, LedgerEntry] = {}
    revisions: dict[str, list[Entry]] = {}
    for entry in entries:
        if isinstance(entry, LedgerEntry):
            by_run.setdefault(entry.run, entry)
        else:
            revisions.setdefault(entry.run, []).append(entry)
    return ReportJob(by_run, [root.hex() for root in prefix_roots(leaves)], trust, tsa_trust, revisions,
                     now or datetime.datetime.now(datetime.UTC))


@dataclass(frozen=True, slots=True)
class RunCheck:
    """One record as a worker read it, and its report's check if it is sealed."""

    run_file: RunFile
    digest: RunDigest | None
    """``None`` when the record could not be read (see ``error``)."""
    error: tuple[str, int | None] = ("", None)
    """Why the record could not be read, and the line."""
    findings: tuple[Diagnostic, ...] = ()
    """The report's problems (a sealed run only)."""
    report: PdfVerification | None = None
    """The report's verification (a sealed run whose report could be read)."""


def check_runs(files: list[RunFile], job: ReportJob, progress: Progress | None = None) -> list[RunCheck]:
    """Read every record and check every sealed one's report, on every core, in file order."""
    return map_chunks(_run_chunk, files, shared=job, parallel_from=PARALLEL_FROM, progress=progress,
                      label="Checking records and signed reports")


def check_reports(sealed: list[str], job: ReportJob, progress: Progress | None = None,
                  ) -> list[tuple[str, list[Diagnostic], PdfVerification | None]]:
    """The reports of the ``sealed`` runs among ``job.records``, on every core, in run order."""
    return map_chunks(_report_chunk, sealed, shared=job, parallel_from=PARALLEL_FROM, progress=progress,
                      label="Checking signed reports")


def _run_chunk(job: ReportJob, files: list[RunFile]) -> list[RunCheck]:
    rows = []
    with quiet_gc():
        for run_file in freeing_cycles(files):
            rows.append(_run_row(run_file, job))
    return rows


def _run_row(run_file: RunFile, job: ReportJob) -> RunCheck:
    try:
        record = read_record(run_file)
    except SourceError as exc:
        return RunCheck(run_file, None, (exc.reason, exc.line))
    digest = make_digest(record, run_file.shown)
    if digest.head.sealed is None:
        return RunCheck(run_file, digest)
    findings: list[Diagnostic] = []
    report = check_report(findings, run_file, record, job)
    return RunCheck(run_file, digest, findings=tuple(findings), report=report)


def _report_chunk(job: ReportJob, run_ids: list[str]) -> list[tuple[str, list[Diagnostic], PdfVerification | None]]:
    rows = []
    with quiet_gc():
        for run_id in freeing_cycles(run_ids):
            run_file, digest = job.records[run_id]
            record = read_record(run_file, job.record_cache, digest.key)  # one at a time: a build holds digests only
            findings: list[Diagnostic] = []
            rows.append((run_id, findings, check_report(findings, run_file, record, job)))
    return rows


def irregular(path: Path, inside: Path) -> str | None:
    """Why ``path`` is not a regular file inside ``inside`` (a link, say), or ``None``."""
    try:
        regular_file(path, inside)
    except SourceError as exc:
        return exc.reason
    return None


def _error(findings: list[Diagnostic], where: str, message: str) -> None:
    findings.append(Diagnostic(where, None, message, "", Severity.ERROR))


def check_report(findings: list[Diagnostic], run_file: RunFile, record: RunRecord,
                 job: ReportJob) -> PdfVerification | None:
    """Check the report of the sealed ``record``; problems are added to ``findings``."""
    entry = job.by_run.get(record.id)
    pdf = run_file.report
    shown = pdf.relative_to(run_file.project).as_posix()
    if not os.path.lexists(pdf):
        _error(findings, shown, "signed report is missing")
        return None
    if (refusal := irregular(pdf, pdf.parent)) is not None:
        _error(findings, shown, f"signed report {refusal}")
        return None
    data = pdf.read_bytes()
    check = verify_pdf(data, shown, job.trust, job.tsa_trust, job.now)
    report = record.extra.get("report") or {}
    compare_with_archive(check, data, record.archived_data(), report.get("sha256"), report.get("size"))
    for problem in check.problems:
        _error(findings, shown, problem)
    if entry is not None and not sealed_prefix_intact(data, entry.report_sha256, report.get("size")):
        _error(findings, shown, f"report differs from the one in ledger entry {entry_number(entry.seq)}")
    elif entry is not None and check.sealed_sha256 != entry.report_sha256:
        _error(findings, shown, f"the certification seal covers a revision other than the one in ledger entry "
                                f"{entry_number(entry.seq)} (the seal was removed or replaced)")
    elif entry is not None:
        check_revisions(findings, shown, data, entry, job.revisions.get(record.id, []), check)
    if entry is not None and report.get("sha256") != entry.report_sha256:
        _error(findings, run_file.shown,
               f"the record's report sha256 differs from ledger entry {entry_number(entry.seq)}")
    # The tree head sealed into the *signed* copy of the record pins the ledger's past.
    sealed = (check.record or {}).get("sealed") or record.sealed or {}
    head = sealed.get("ledger_head") or {}
    size, root = head.get("tree_size"), head.get("root_sha256")
    length = len(job.roots) - 1
    if type(size) is not int or size < 0 or not isinstance(root, str):
        _error(findings, shown, "signed report carries no ledger tree head")
    elif size > length:
        _error(findings, shown, f"ledger truncated: this signed report saw {size} ledger entries before it, "
                                f"the ledger now has {length}")
    elif job.roots[size] != root:
        _error(findings, shown, f"ledger rewritten: its first {size} entries no longer hash to the root this "
                                f"signed report recorded ({root[:16]}…)")
    return check
