"""Runs in the site: per-run views, checklist history, item history, the archive data.

Run records are loaded (and validated) like every other source before anything is
written; a broken record fails the build with its path and line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError
from generator.core.files import FileHash, regular_file
from generator.core.quietgc import quiet_gc
from generator.model import Checklist, DocumentSummary
from generator.parallel import Progress, map_chunks
from generator.runs.codec import safe_evidence_path
from generator.runs.digest import RunDigest, RunHead, digest_cache_key, load_digest
from generator.runs.drift import Drift, compute_drift
from generator.runs.outcome import RunSummary
from generator.runs.record import RunRecord, Snapshot
from generator.runs.store import RunFile, all_run_files, read_record, record_cache_keys
from generator.site.urls import output_path, url_path
from generator.sources.ids import document_id, slugify

HISTORY_WINDOW = 10
_PLACEHOLDER = re.compile(r"<!--lb:history:([A-Za-z0-9_.:-]+)-->")


@dataclass(frozen=True, slots=True)
class RunView:
    """A run with everything its page and the archive need (its full record stays on disk)."""

    file: RunFile
    """Where the record lives."""
    digest: RunDigest
    """The validated record in brief."""
    drift: Drift | None
    """Changes of the checklist since the run started (None if the checklist is gone)."""
    url: str
    """Site-relative URL of the run page."""
    checklist_url: str | None
    """Site-relative URL of the checklist page, if the checklist still exists."""
    full: RunRecord | None = None
    """The whole record, loaded only while the run's own page renders."""

    @property
    def record(self) -> RunHead | RunRecord:
        """The record: its own fields only (no item results) unless it was loaded in full."""
        return self.full if self.full is not None else self.digest.head

    def loaded(self, cache: Path | None) -> RunView:
        """This view with its full record (from the record cache when it is there)."""
        return dataclasses.replace(self, full=read_record(self.file, cache, self.digest.key))

    @property
    def summary(self) -> RunSummary:
        """Derived counts and outcome."""
        return self.digest.outcome

    @property
    def report(self) -> dict[str, object] | None:
        """The ``report`` section of a closed run (file, sha256, signer …)."""
        value = self.record.extra.get("report")
        return value if isinstance(value, dict) else None

    @property
    def impossible_times(self) -> list[Diagnostic]:
        """Times in the record that cannot be true (the audit lists them too, when it ran)."""
        return self.digest.impossible_times

    @property
    def report_url(self) -> str:
        """Site-relative URL of the signed report."""
        return f"runs/{self.record.checklist}/{self.record.id}.pdf"

    def evidence_url(self, file: str) -> str:
        """Site-relative URL of one of this run's evidence files. A file a browser would run
        (HTML, SVG, XML, scripts) is published with ``.txt`` appended, so it opens as text
        and never executes on the site's own origin."""
        url = f"runs/{self.record.checklist}/{self.record.id}/{file}"
        return url + ".txt" if PurePosixPath(file).suffix.lower() in ACTIVE_SUFFIXES else url


ACTIVE_SUFFIXES = frozenset({".htm", ".html", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".xslt", ".js",
                             ".mjs", ".swf", ".mht", ".mhtml", ".hta", ".wasm"})
"""Evidence suffixes a browser may render or run as active content."""


def run_url(record: RunHead | RunRecord) -> str:
    return f"runs/{record.checklist}/{record.id}.html"


PARALLEL_RECORDS_FROM = 64


def _digest_into_cache(cache: Path, jobs: list[tuple[RunFile, str]]) -> list[None]:
    """Fill the digest cache (``cache``: the records' folder, shared by every chunk)."""
    snapshots: dict[str, Snapshot] = {}
    with quiet_gc():
        for run_file, key in jobs:
            load_digest(run_file, cache, key, snapshots)
    return []


def load_runs(project: Path, checklists: Callable[[str], Checklist | None],
              cache: Path | None = None, progress: Progress | None = None,
              file_hash: FileHash | None = None) -> list[RunView]:
    """Read every run record (reusing cached parses of unchanged files); newest first.

    ``checklists`` finds the current checklist with an ID (``None`` if there is none);
    ``file_hash`` gives an unchanged file's sha256 without reading it.
    Runs of the same checklist version share one snapshot object: 10,000 runs of 50
    checklists hold 50 snapshots in memory, not 10,000.
    """

    files = all_run_files(project)
    snapshots: dict[str, Snapshot] = {}
    keys = record_cache_keys(files, file_hash) if cache is not None else [""] * len(files)
    if cache is not None:
        # Parsing YAML is the slow part (~25 ms for a 200-item record): fill the digest cache on
        # every core first; the loop below then only unpickles (no records cross processes).
        missing = [(run, key) for run, key in zip(files, keys, strict=True)
                   if key and not (cache / digest_cache_key(key)[:2] / digest_cache_key(key)).is_file()]
        if len(missing) >= PARALLEL_RECORDS_FROM:
            map_chunks(_digest_into_cache, missing, shared=cache, parallel_from=PARALLEL_RECORDS_FROM,
                       progress=progress, label="Parsing run records")
    views = []
    current: tuple[str, Checklist | None] | None = None  # records come grouped by checklist folder
    with quiet_gc():
        for number, (run_file, key) in enumerate(zip(files, keys, strict=True), 1):
            digest = load_digest(run_file, cache, key, snapshots)
            record = digest.head
            if current is None or current[0] != record.checklist:
                current = (record.checklist, checklists(record.checklist))
            checklist = current[1]
            views.append(RunView(
                file=run_file,
                digest=digest,
                drift=compute_drift(record.snapshot, checklist),
                url=run_url(record),
                checklist_url=output_path(checklist.rel_path) if checklist else None,
            ))
            if progress is not None and (number % 200 == 0 or number == len(files)):
                progress("Reading run records", number, len(files))
    views.sort(key=lambda v: (v.record.started_at, v.record.id), reverse=True)
    return views


def evidence_files(views: list[RunView]) -> tuple[list[tuple[str, Path]], list[Diagnostic]]:
    """(output path, source file) for every evidence file, and warnings for missing ones."""
    copies: dict[str, Path] = {}
    warnings: list[Diagnostic] = []
    for view in views:
        for name, evidence in view.digest.evidence:
            if not safe_evidence_path(name):
                continue
            source = view.file.folder / name
            if os.path.lexists(source):
                _regular_run_file(source, view.file.folder, view, f"evidence file {name}", evidence.line or None)
                copies[view.evidence_url(name)] = source
            else:
                warnings.append(Diagnostic(view.file.shown, None, f"evidence file missing: {name}"))
    return sorted(copies.items()), warnings


def _regular_run_file(path: Path, inside: Path, view: RunView, what: str, line: int | None) -> None:
    """A run's evidence or report must be a regular file inside its run's folder (never a
    link that would publish a file from elsewhere): else an error at the record's line."""
    try:
        regular_file(path, inside)
    except SourceError as exc:
        raise SourceError(f"{what} {exc.reason}", view.file.shown, line) from None


def report_files(views: list[RunView]) -> tuple[list[tuple[str, Path]], list[Diagnostic]]:
    """(output path, PDF) for every closed run's signed report; warnings for missing ones."""
    copies: list[tuple[str, Path]] = []
    warnings: list[Diagnostic] = []
    for view in views:
        if view.report is None:
            continue
        source = view.file.report
        if os.path.lexists(source):
            _regular_run_file(source, source.parent, view, f"signed report {source.name}", None)
            copies.append((view.report_url, source))
        else:
            warnings.append(Diagnostic(view.file.shown, None, f"signed report missing: {source.name}"))
    return copies, warnings



def renamed_checklists(views: list[RunView], checklists: list[DocumentSummary]) -> list[Diagnostic]:
    """A warning for each checklist whose runs were recorded under its old file-name ID
    (before IDs defaulted to the path), naming the records and the one-line fix."""
    known = {s.id for s in checklists if s.kind == "checklist"}
    if all(view.record.checklist in known for view in views):
        return []
    legacy: dict[str, list[DocumentSummary]] = {}
    for summary in checklists:
        if summary.kind == "checklist" and summary.id == document_id(summary.rel_path) and "/" in summary.id:
            legacy.setdefault(slugify(PurePosixPath(summary.rel_path).stem, "page"), []).append(summary)
    orphans: dict[str, list[RunView]] = {}
    for view in views:
        if view.record.checklist in legacy and view.record.checklist not in known:
            orphans.setdefault(view.record.checklist, []).append(view)
    warnings = []
    for old, runs in sorted(orphans.items()):
        more = f" and {len(runs) - 3} more" if len(runs) > 3 else ""
        names = ", ".join(sorted(v.file.shown for v in runs)[:3]) + more
        for summary in legacy[old]:
            warnings.append(Diagnostic(summary.source, 1, (
                f"checklist ID is now {summary.id!r} (IDs default to the path), but {len(runs)} run record"
                f"{'s name' if len(runs) != 1 else ' names'} it {old!r} ({names}); add 'id: {old}' to its front matter "
                "to keep them its history"), "LB207"))
    return warnings


def runs_by_checklist(views: list[RunView]) -> dict[str, list[RunView]]:
    grouped: dict[str, list[RunView]] = {}
    for view in views:
        grouped.setdefault(view.record.checklist, []).append(view)
    return grouped


def item_history(views: list[RunView]) -> dict[str, tuple[int, int]]:
    """Item ID -> (failed or blocked, runs that had the item) over the latest runs."""
    history: dict[str, list[int]] = {}
    for view in views[:HISTORY_WINDOW]:
        for item in view.record.snapshot.items:
            entry = history.setdefault(item.id, [0, 0])
            entry[1] += 1
            entry[0] += item.id in view.digest.failing
    return {item_id: (bad, seen) for item_id, (bad, seen) in history.items()}


def fill_history(body_html: str, history: dict[str, tuple[int, int]]) -> str:
    """Replace each item's history placeholder with a badge (or nothing)."""

    def badge(match: re.Match[str]) -> str:
        bad, seen = history.get(match.group(1), (0, 0))
        if not bad:
            return ""
        return (f'<span class="badge history-badge" title="Failed or blocked in {bad} of the last {seen} runs">'
                f"failed in {bad} of the last {seen} runs</span>")

    return _PLACEHOLDER.sub(badge, body_html)


def archive_rows(views: list[RunView], titles: dict[str, str]) -> list[dict[str, object]]:
    """One compact row per run for the archive page's script."""
    return [
        {
            "id": v.record.id,
            "c": v.record.checklist,
            "t": titles.get(v.record.checklist, v.record.snapshot.title),
            "r": v.record.release,
            "e": v.record.environment,
            "o": v.summary.outcome.value,
            "p": v.summary.completion,
            "s": v.record.started_at,
            "f": v.record.finished_at,
            "u": url_path(v.url),
        }
        for v in views
    ]


def archive_js(rows: list[dict[str, object]]) -> str:
    payload = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    return f"window.LAUNCHBOOK_RUNS = {payload};\n"
