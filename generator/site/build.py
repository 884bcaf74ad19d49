"""The site build as one sequence of named stages, each passing frozen values on.

1. **read sources** (:func:`read_sources`): ``site.yml``, the walk of ``content/``, every
   document's summary (parsed on every core, only when not cached; full documents stay on disk);
2. **read runs** (:func:`read_runs`): every run record as a digest, its evidence and report;
3. **check** (:func:`check_site`): the archive's integrity (when asked), links, navigation,
   every warning (``--strict`` stops here);
4. **plan** (:func:`plan_site`): themes, the facts every page shares, the previous output's keys;
5. **render** (:func:`generator.site.pages.render_site`): pages whose key changed, into a
   staging folder (unchanged ones are kept from the previous output);
6. **publish** (:func:`generator.site.swap.swap_in`): only what changed goes into the output,
   after everything else succeeded.

What lets a build do less than everything is in :mod:`generator.site.incremental`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from generator.config import build_datetime, load_config
from generator.core.cachekey import key_kept, key_path
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import BuildError
from generator.core.files import FileHash, check_output_folder
from generator.core.locks import abandoned, mark_owned
from generator.core.templating import theme_dirs
from generator.parallel import Progress
from generator.runs.digest import cache_names
from generator.site.incremental import PageReuse, theme_fingerprint
from generator.site.links import check_links
from generator.site.manifest import PreviousOutput, read_manifest, remember_published
from generator.site.nav import build_nav
from generator.site.pages import render_site
from generator.site.result import BuildResult
from generator.site.runs import evidence_files, load_runs, renamed_checklists, report_files
from generator.site.stages import Audit, BuildRequest, Checked, Plan, RunSet, SiteFacts, Sources
from generator.site.summary import summarize
from generator.site.swap import discard, staging_dir, swap_in
from generator.site.writer import OutputWriter
from generator.sources.cachedir import cache_dir, prune_entries, sweep_cache
from generator.sources.collect import collect_sources, index_sources

__all__ = ["Audit", "build_site", "cache_folder"]


def build_site(project_dir: Path, output: Path | None = None, *, strict: bool = False, clean: bool = False,
               audit: Audit | None = None, cache: bool = True,
               fingerprint: str = "", progress: Progress | None = None,
               file_hash: FileHash | None = None) -> BuildResult:
    """Build ``project_dir/content`` into ``output`` (default ``project_dir/output``).

    ``audit`` (the archive's integrity check, injected so the site does not depend on the
    archive) adds the Audit page, per-run integrity badges and the verification of every
    signed report; without it reports are published unverified.
    """
    started = time.perf_counter()
    project_dir = project_dir.resolve()
    request = BuildRequest(project_dir, (output or project_dir / "output").resolve(), strict, clean, cache,
                           fingerprint, audit, progress, file_hash)
    check_output_folder(request.output, project_dir)
    with cache_folder(project_dir if cache else None) as folder:
        sources = read_sources(request, folder)
        runs = read_runs(request, sources)
        checked = check_site(request, sources, runs)
        plan = plan_site(request, sources, runs, checked)
        return _render_and_publish(request, sources, runs, checked, plan, started)


def read_sources(request: BuildRequest, folder: Path) -> Sources:
    """Stage 1: the config and every document's summary (``folder``: the build's cache)."""
    content = request.project / "content"
    config = load_config(content, "content")  # messages name files relative to the project
    tree = collect_sources(content, "content", config.selection)
    summaries, store = index_sources(tree, folder / "parsed", summarize, request.progress, request.file_hash,
                                     max_size=config.max_document_size)
    checklists = {s.id: s for s in summaries if s.kind == "checklist"}
    return Sources(config, tree, tuple(summaries), store, checklists)


def read_runs(request: BuildRequest, sources: Sources) -> RunSet:
    """Stage 2: every run record (as a digest; the record cache beside the parsed documents)."""
    views = load_runs(request.project, sources.checklist, sources.records, request.progress, request.file_hash)
    evidence, evidence_warnings = evidence_files(views)
    reports, report_warnings = report_files(views)
    return RunSet(tuple(views), tuple(evidence), tuple(reports), (*evidence_warnings, *report_warnings))


def check_site(request: BuildRequest, sources: Sources, runs: RunSet) -> Checked:
    """Stage 3: integrity (signed reports are verified by the injected archive check alone,
    against record and ledger; without it they are copied, not verified), links, navigation,
    and every warning; ``--strict`` refuses to go on with any."""
    config, summaries = sources.config, list(sources.summaries)
    integrity = None
    if request.audit is not None and runs.views:
        digests = {view.record.id: (view.file, view.digest) for view in runs.views}
        integrity = request.audit(request.project, list(config.trust), digests, sources.records)
    checks = {} if integrity is None else {
        run_id: state.report for run_id, state in integrity.runs.items() if state.report is not None}
    check_warnings = [] if integrity is None else [
        Diagnostic(f.path, f.line, f"integrity: {f.message}") for f in integrity.findings]
    assets = {entry.rel for entry in sources.tree.assets}
    warnings = (
        *config.warnings, *(w for d in summaries for w in d.warnings),
        *check_links(summaries, assets, lambda summary: sources.store.load(summary.key)),
        *runs.warnings, *check_warnings, *renamed_checklists(list(runs.views), summaries),
    )
    notes = [note for note in (sources.tree.skipped_note("content"), _unkept_cache(request)) if note is not None]
    if request.strict and warnings:
        listing = "\n".join(f"  {w}" for w in warnings)
        raise BuildError(f"--strict: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}:\n{listing}")
    return Checked(integrity, checks, tuple(build_nav(summaries, config.nav)), warnings, tuple(notes))


def _unkept_cache(request: BuildRequest) -> Diagnostic | None:
    """A note when the project's cache cannot help the next build: no key file can be kept."""
    if not request.cache or key_kept():
        return None
    return Diagnostic(str(key_path()), None, "the cache key cannot be kept here (not writable), so the cache is "
                      "good for this command only and the next build parses every page again; make "
                      "$XDG_CACHE_HOME (or ~/.cache) writable", severity=Severity.INFO)


def plan_site(request: BuildRequest, sources: Sources, runs: RunSet, checked: Checked) -> Plan:
    """Stage 4: the themes, what every page shares, and the keys of the previous output's pages."""
    themes = tuple(theme_dirs(request.project, sources.config.theme))
    built = build_datetime()
    facts = SiteFacts(checked.nav, built.date().isoformat() if built else "", bool(runs.views),
                      checked.integrity is not None)
    manifest = read_manifest(request.output) if request.cache else None
    reuse = PageReuse(request.output, manifest.pages if manifest is not None else {}, theme_fingerprint(list(themes)))
    return Plan(themes, facts, reuse)


def _render_and_publish(request: BuildRequest, sources: Sources, runs: RunSet, checked: Checked, plan: Plan,
                        started: float) -> BuildResult:
    """Stages 5 and 6: render into staging, then publish what changed (nothing on failure)."""
    output = request.output
    staging = staging_dir(output)  # completes a publish a killed build left half done
    try:
        manifest = read_manifest(output) if request.cache else None
        previous = PreviousOutput.of(output, manifest, staging.area.skip) if not request.clean else None
        writer = OutputWriter(staging.path, previous, request.file_hash)
        rendered = render_site(writer, request, sources, runs, checked, plan)
        for entry in sources.tree.assets:
            writer.copy(entry.rel, entry.path)
        for target, source in [*runs.evidence, *runs.reports]:
            writer.copy(target, source)
        checklist_count = sum(d.kind == "checklist" for d in sources.summaries)
        item_count = sum(d.counts.get("items", 0) for d in sources.summaries)
        manifest_data = writer.finish({
            "pages": dict(sorted(plan.reuse.keys.items())),
            "fingerprint": request.fingerprint,
            # A record with a time in the future: whether it still is depends on the clock, so the
            # next build may not be skipped as up to date.
            "clock_dependent": any(not view.digest.settled for view in runs.views),
            "summary": {"pages": rendered.pages, "checklists": checklist_count, "runs": len(runs.views),
                        "items": item_count},
            "warnings": [{"path": w.path, "line": w.line, "message": w.message} for w in checked.warnings],
            "notes": [{"path": n.path, "line": n.line, "message": n.message} for n in checked.notes],
        })
        files = len(writer.written)
    except BaseException:
        discard(staging)
        raise
    kept = swap_in(staging, output, request.clean, writer.changes())
    remember_published(output, manifest_data)
    if request.cache:
        prune_entries(sources.store.folder, sources.store.in_use())
        prune_entries(sources.records, {name for view in runs.views for name in cache_names(view.digest)})
        if rendered.nav_folder is not None:
            prune_entries(rendered.nav_folder, rendered.nav_entries)
    return BuildResult(output=output, pages=rendered.pages, checklists=checklist_count, runs=len(runs.views),
                       items=item_count, files=files, warnings=checked.warnings, notes=checked.notes,
                       kept=tuple(kept), seconds=time.perf_counter() - started)


TEMP_PREFIX = "launchbook-build-"


@contextlib.contextmanager
def cache_folder(cache_root: Path | None) -> Iterator[Path]:
    """Where parsed documents (``parsed/``) and records (``records/``) live during the build:
    the project's cache, or (``--no-cache``) a temporary folder removed afterwards."""
    if cache_root is not None:
        yield cache_dir(cache_root)
        sweep_cache(cache_root)  # after a successful build only: other versions' caches
        return
    scratch = Path(tempfile.gettempdir())
    for stale in scratch.glob(f"{TEMP_PREFIX}*"):  # left by builds that were killed
        if stale.is_dir() and not stale.is_symlink() and abandoned(stale):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=scratch))
    mark = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    mark_owned(mark)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(mark)
