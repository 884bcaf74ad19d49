"""``launchbook timestamp``: renew sealed reports' long-term evidence (PAdES B-LTA).

Each report gets the validation data of its signatures and timestamps and a document
timestamp over all of it, as one more incremental revision. The sealed bytes stay the
file's prefix (so the seal still verifies) and the ledger gets a ``document-timestamp``
line with the report's sha256 before and after. A report whose bytes are not the ones the
ledger last recorded is refused: renewing would vouch for a tampered file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive.ledger import (
    Entry,
    TimestampEntry,
    current_report_sha256,
    ledger_path,
    read_ledger,
    record_revision,
    sealed_entries,
)
from generator.config import load_config
from generator.core.errors import ConfigError, SourceError
from generator.core.locks import locked
from generator.report.longterm import add_document_timestamp, sealed_prefix_intact
from generator.report.verify import load_trust
from generator.runs.store import RunFile, all_run_files, read_record


@dataclass(frozen=True, slots=True)
class Renewed:
    """One report after ``launchbook timestamp``."""

    run: str
    """Run id."""
    pdf: Path
    """The report."""
    level: str
    """Its PAdES level now."""
    stamped_at: str
    """The document timestamp's time."""
    ledger_seq: int
    """Its ledger line."""
    sha256: str
    """The report's sha256 now."""


def _targets(project: Path, target: Path | None) -> list[RunFile]:
    """Every sealed run of the project, or the one whose report (or record) ``target`` is."""
    runs = all_run_files(project)
    if target is None or target.is_dir():
        return runs
    wanted = target.resolve().with_suffix(".yml")
    chosen = [run for run in runs if run.path.resolve() == wanted]
    if not chosen:
        raise SourceError("not a sealed report of this project (pass -C PROJECT, or the project folder)",
                          str(target))
    return chosen


def timestamp_reports(project: Path, target: Path | None = None, *, timestamp_url: str | None = None,
                      trust: list[Path] | None = None) -> list[Renewed]:
    """Add a document timestamp to each sealed report (all of ``project``'s, or ``target``)."""
    config = load_config(project / "content", "content")
    url = timestamp_url or config.timestamp_url
    if not url:
        raise ConfigError("no timestamp authority: set timestamp_url in site.yml or pass --tsa")
    certificates = load_trust([*(trust or ()), *config.trust])
    done: list[Renewed] = []
    with locked(ledger_path(project)):
        entries, _ = read_ledger(project)
        sealed_runs = {entry.run for entry in sealed_entries(entries)}
        for run in _targets(project, target):
            record = read_record(run)
            if record.sealed is None:
                if target is not None and not target.is_dir():
                    raise SourceError(f"run {record.id!r} is not sealed; close it first", run.shown)
                continue
            if record.id not in sealed_runs:
                raise SourceError(f"run {record.id!r} is sealed but not in the ledger; run `launchbook verify`",
                                  run.shown)
            with locked(run.path):
                done.append(_renew(project, run, record.id, record.extra.get("report") or {}, entries, url,
                                   certificates))
            entries, _ = read_ledger(project)
    return done


def _renew(project: Path, run: RunFile, run_id: str, report: dict[str, object], entries: list[Entry], url: str,
           certificates: list[Any]) -> Renewed:
    pdf_path = run.report
    shown = pdf_path.relative_to(project).as_posix()
    data = pdf_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    size = report.get("size")
    if not sealed_prefix_intact(data, str(report.get("sha256")), size if isinstance(size, int) else None):
        raise SourceError("the sealed revision differs from the one recorded at closing; refusing to timestamp "
                          "a changed report (run `launchbook verify`)", shown)
    if digest != current_report_sha256(entries, run_id):
        raise SourceError("the report is not the one the ledger last recorded; refusing to timestamp it "
                          "(run `launchbook verify`)", shown)
    stamped = add_document_timestamp(data, url, certificates)
    entry = TimestampEntry(seq=len(entries), run=run_id, stamped_at=stamped.timestamp_time, prior_sha256=digest,
                           report_sha256=hashlib.sha256(stamped.pdf).hexdigest(), level=stamped.level)
    record_revision(project, pdf_path, stamped.pdf, data, entry)
    return Renewed(run_id, pdf_path, stamped.level, stamped.timestamp_time, entry.seq, entry.report_sha256)
