"""The site build as named stages.

``load_config → collect_sources → index_sources → load_runs → build_nav → check_links →
render_site → swap_in``. Whole-site stages work on document summaries; a page's full
document is loaded from the store only while that page renders. Nothing touches the output
folder until every source has been read and every page rendered into a staging folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import code_digest
from generator.config import SiteConfig, build_datetime, load_config
from generator.core.diagnostics import Diagnostic
from generator.core.errors import BuildError
from generator.core.files import check_output_folder
from generator.core.locks import abandoned, mark_owned
from generator.core.templating import theme_assets, theme_dirs
from generator.model import Checklist, DocumentSummary
from generator.parallel import Progress, map_chunks
from generator.runs.digest import RunDigest
from generator.runs.store import RunFile
from generator.site.links import check_links
from generator.site.manifest import PreviousOutput, read_manifest
from generator.site.nav import NavNode, NavRenderer, breadcrumbs, build_nav, walk
from generator.site.render import render_page, site_environment
from generator.site.result import BuildResult
from generator.site.runpages import RunPages, render_runs
from generator.site.runs import (
    RunView,
    evidence_files,
    fill_history,
    item_history,
    load_runs,
    renamed_checklists,
    report_files,
    runs_by_checklist,
)
from generator.site.search import search_index_parts
from generator.site.summary import summarize
from generator.site.swap import discard, staging_dir, swap_in
from generator.site.trend import trend_svg
from generator.site.urls import HOME, output_path, relative_url, url_path
from generator.site.writer import OutputWriter
from generator.sources.cache import CACHE_DIR, DocumentStore, quiet_gc
from generator.sources.collect import SourceTree, collect_sources, index_sources
from generator.sources.markdown import pygments_css

Audit = Callable[[Path, list[Path], dict[str, tuple[RunFile, RunDigest]], Path | None], Any]
"""``audit(project, trust, digests, record_cache)``: the archive's integrity check over records
already read (full records load from ``record_cache`` where it needs them)."""


def build_site(project_dir: Path, output: Path | None = None, *, strict: bool = False, clean: bool = False,
               audit: Audit | None = None, cache: bool = True,
               fingerprint: str = "", progress: Progress | None = None,
               file_hash: Callable[[Path], str] | None = None) -> BuildResult:
    """Build ``project_dir/content`` into ``output`` (default ``project_dir/output``).

    ``audit`` (the archive's integrity check, injected so the site does not depend on the
    archive) adds the Audit page, per-run integrity badges and the verification of every
    signed report; without it reports are published unverified.
    """
    started = time.perf_counter()
    project_dir = project_dir.resolve()
    output = (output or project_dir / "output").resolve()
    content = project_dir / "content"
    shown = "content"  # messages name files relative to the project, whatever the working folder
    check_output_folder(output, project_dir)

    config = load_config(content, shown)
    tree = collect_sources(content, shown, config.selection)
    with cache_folder(project_dir if cache else None) as folder:
        summaries, store = index_sources(tree, folder / "parsed", summarize, progress, file_hash,
                                         max_size=config.max_document_size)
        return _build(project_dir, output, config, tree, summaries, store, strict=strict, clean=clean, audit=audit,
                      cache=cache, fingerprint=fingerprint, started=started, progress=progress, file_hash=file_hash)


TEMP_PREFIX = "launchbook-build-"


@contextlib.contextmanager
def cache_folder(cache_root: Path | None) -> Iterator[Path]:
    """Where parsed documents (``parsed/``) and records (``records/``) live during the build:
    the project's cache, or (``--no-cache``) a temporary folder removed afterwards."""
    if cache_root is not None:
        yield cache_root / CACHE_DIR
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


def _build(project_dir: Path, output: Path, config: SiteConfig, tree: SourceTree, summaries: list[DocumentSummary],
           store: DocumentStore, *, strict: bool, clean: bool, audit: Audit | None,
           cache: bool, fingerprint: str, started: float, progress: Progress | None,
           file_hash: Callable[[Path], str] | None) -> BuildResult:
    by_id = {s.id: s for s in summaries if s.kind == "checklist"}

    def find_checklist(checklist_id: str) -> Checklist | None:
        summary = by_id.get(checklist_id)
        document = store.load(summary.key) if summary is not None else None
        return document if isinstance(document, Checklist) else None

    records = store.folder.parent / "records"  # beside parsed/
    runs = load_runs(project_dir, find_checklist, records, progress, file_hash)
    evidence, evidence_warnings = evidence_files(runs)
    reports, report_warnings = report_files(runs)
    preloaded = {view.record.id: (view.file, view.digest) for view in runs}
    # Signed reports are verified by the injected archive check alone (it checks every sealed run's
    # report against its record and the ledger); without it they are copied, not verified.
    integrity = audit(project_dir, list(config.trust), preloaded, records) if audit is not None and runs else None
    checks: dict[str, Any] = {}
    check_warnings: list[Diagnostic] = []
    if integrity is not None:
        checks = {run_id: state.report for run_id, state in integrity.runs.items() if state.report is not None}
        check_warnings = [Diagnostic(f.path, f.line, f"integrity: {f.message}") for f in integrity.findings]
    nav = build_nav(summaries, config.nav)
    assets = {entry.rel for entry in tree.assets}
    warnings = [
        *config.warnings, *(w for d in summaries for w in d.warnings),
        *check_links(summaries, assets, lambda summary: store.load(summary.key)),
        *evidence_warnings, *report_warnings, *check_warnings, *renamed_checklists(runs, summaries),
    ]
    note = tree.skipped_note("content")
    notes = [note] if note is not None else []
    if strict and warnings:
        listing = "\n".join(f"  {w}" for w in warnings)
        raise BuildError(f"--strict: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}:\n{listing}")

    themes = theme_dirs(project_dir, config.theme)
    staging = staging_dir(output)  # completes a publish a killed build left half done
    try:
        manifest = read_manifest(output) if cache else None
        previous = PreviousOutput.of(output, manifest, staging.area.skip) if not clean else None
        writer = OutputWriter(staging.path, previous, file_hash)
        reuse = PageReuse(output, manifest.pages if manifest is not None else {}, theme_fingerprint(themes))
        pages = render_site(writer, summaries, store, runs, nav, config, themes, checks, integrity, reuse, progress,
                            file_hash)
        for entry in tree.assets:
            writer.copy(entry.rel, entry.path)
        for target, source in [*evidence, *reports]:
            writer.copy(target, source)
        checklist_count = sum(d.kind == "checklist" for d in summaries)
        item_count = sum(d.counts.get("items", 0) for d in summaries)
        writer.finish({
            "pages": dict(sorted(reuse.keys.items())),
            "fingerprint": fingerprint,
            "summary": {"pages": pages, "checklists": checklist_count, "runs": len(runs), "items": item_count},
            "warnings": [{"path": w.path, "line": w.line, "message": w.message} for w in warnings],
            "notes": [{"path": n.path, "line": n.line, "message": n.message} for n in notes],
        })
        files = len(writer.written)
    except BaseException:
        discard(staging)
        raise
    kept = swap_in(staging, output, clean, writer.changes())
    return BuildResult(
        output=output,
        pages=pages,
        checklists=checklist_count,
        runs=len(runs),
        items=item_count,
        files=files,
        warnings=tuple(warnings),
        notes=tuple(notes),
        kept=tuple(kept),
        seconds=time.perf_counter() - started,
    )


def render_site(
    writer: OutputWriter, documents: list[DocumentSummary], store: DocumentStore, runs: list[RunView],
    nav: list[NavNode], config: SiteConfig,
    themes: list[Path], checks: dict[str, Any] | None = None, integrity: Any = None,
    reuse: PageReuse | None = None, progress: Progress | None = None,
    file_hash: Callable[[Path], str] | None = None,
) -> int:
    """Render every page and generated asset into ``writer``; return the page count."""
    env = site_environment(themes, reuse.theme if reuse is not None else "")
    built = build_datetime()
    common: dict[str, Any] = {
        "nav": nav, "build_date": built.date().isoformat() if built else "", "has_runs": bool(runs),
        "has_audit": integrity is not None,
    }
    by_checklist = runs_by_checklist(runs)
    trails = breadcrumbs(nav)
    navs = NavRenderer(env, nav, config)
    home_doc = next((d for d in documents if d.rel_path == "index.md"), None)
    checklists = [d for d in documents if d.kind == "checklist"]
    catalogue = [
        {"doc": c, "url": output_path(c.rel_path), "summary": c.counts}
        for c in sorted(checklists,
                        key=lambda c: (c.nav_order if c.nav_order is not None else 10**9, c.title.lower(), c.rel_path))
    ]
    tags = sorted({tag for c in checklists for tag in c.tags}, key=str.lower)
    folders: list[dict[str, Any]] = []
    if len(catalogue) > HOME_CARDS_UP_TO:  # a card per checklist stops helping: one per top-level folder
        folders = [{"node": node, "checklists": sum(n.kind == "checklist" for n in walk(node.children))}
                   for node in nav if node.kind == "folder" and node.url]
        catalogue, tags = [], []
    writer.write(HOME, render_page(env, "home.html", HOME, config, page=store.load(home_doc.key) if home_doc else None,
                                   catalogue=catalogue, tags=tags, folders=folders, checklist_count=len(checklists),
                                   crumbs=[], nav_html=navs.for_page(HOME), **common))
    pages = [d for d in documents if d is not home_doc]
    for navs_folder in {output_path(d.rel_path).rsplit("/", 1)[0] for d in pages if "/" in d.rel_path}:
        navs.for_page(f"{navs_folder}/x.html")  # warm the per-folder cache before workers fork
    shared = _shared_digest(common, config)
    job = _PageJob(env, config, common, trails, navs, by_checklist, store, shared)
    reuse = reuse or PageReuse(Path("/nonexistent"), {}, "")
    fresh = [d for d in pages if not reuse.reused(job.key(d), output_path(d.rel_path), writer)]
    for rel in render_pages(job, fresh, writer.root, progress):
        writer.claim(rel)
    count = 1 + len(pages)
    writer.write("404.html", render_page(env, "404.html", "404.html", config, page=None, crumbs=[],
                                         nav_html=navs.for_page("404.html"), **common))
    count += 1
    for node in walk(nav):
        if node.kind == "folder" and node.generated and node.url:
            writer.write(node.url, render_page(env, "folder.html", node.url, config, page=None, folder=node,
                                               crumbs=trails.get(node.url, []), nav_html=navs.for_page(node.url),
                                               **common))
            count += 1
    run_pages = RunPages(env, runs, config, common, navs, checks or {}, integrity, shared, file_hash,
                         store.folder.parent / "records")
    count += render_runs(writer, run_pages, reuse, progress)
    if config.base_url:
        urls = [url_path(url) for url in sorted([  # encoded: a name's '?', '#', '%', '\\' or space stays in the path
            HOME, *(output_path(d.rel_path) for d in documents if d is not home_doc),
            *(v.url for v in runs), *(["runs/index.html"] if runs else []),
            *(["runs/audit.html"] if runs and integrity is not None else [])])]
        writer.write("sitemap.xml", render_page(env, "sitemap.xml", "sitemap.xml", config, urls=urls))
    for rel, path in theme_assets(themes).items():
        writer.copy(rel, path)
    writer.write("assets/pygments.css", pygments_css())
    writer.write_parts("assets/search-index.js", search_index_parts(documents, store))
    return count



@dataclass(slots=True)
class _PageJob:
    """Everything a worker needs to render document pages (the map's ``shared`` value)."""

    env: Any
    config: SiteConfig
    common: dict[str, Any]
    trails: dict[str, list[tuple[str, str | None]]]
    navs: NavRenderer
    by_checklist: dict[str, list[RunView]]
    store: DocumentStore
    shared: str
    """Hash of what every page depends on alike (config, build date …), made once."""

    def key(self, document: DocumentSummary) -> str:
        """Everything the page's bytes depend on, hashed (its cache key)."""
        url = output_path(document.rel_path)
        history = self.by_checklist.get(document.id, [])
        facts = [
            document.sha256, document.rel_path, self.navs.digest(url), self.trails.get(url, []), self.shared,
            [(v.record.id, v.record.started_at, v.record.release, v.record.environment, v.summary.outcome.value,
              v.summary.completion) for v in history],
            sorted(item_history(history).items()),
        ]
        return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()

    def render(self, summary: DocumentSummary) -> tuple[str, str]:
        document = self.store.load(summary.key)
        url = output_path(document.rel_path)
        is_checklist = isinstance(document, Checklist)
        context: dict[str, Any] = {"page": document, "crumbs": self.trails.get(url, []),
                                   "nav_html": self.navs.for_page(url), **self.common}
        history = self.by_checklist.get(document.id, [])
        context["body"] = fill_history(document.body_html, item_history(history))
        if is_checklist:
            context["summary"] = summary.counts
            context["history"] = history
            context["trend"] = trend_svg(history, {v.record.id: relative_url(v.url, url) for v in history})
        return url, render_page(self.env, "checklist.html" if is_checklist else "page.html", url, self.config,
                                **context)


HOME_CARDS_UP_TO = 300
"""Beyond this many checklists the home page lists top-level folders instead of every card."""
PARALLEL_PAGES_FROM = 64


def _render_chunk(root: str, job: _PageJob, documents: list[DocumentSummary]) -> list[str]:
    writer = OutputWriter(Path(root))
    with quiet_gc():
        for document in documents:
            writer.write(*job.render(document))
    return sorted(writer.written)


def render_pages(job: _PageJob, documents: list[DocumentSummary], root: Path,
                 progress: Progress | None = None) -> list[str]:
    """Render and write document pages, on every core for big sites; return what was written."""
    return map_chunks(functools.partial(_render_chunk, str(root)), documents, shared=job,
                      parallel_from=PARALLEL_PAGES_FROM, progress=progress, label="Rendering pages", freeze=True)


def _shared_digest(common: dict[str, Any], config: SiteConfig) -> str:
    facts = [{k: v for k, v in common.items() if k != "nav"}, repr(config)]
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


def theme_fingerprint(themes: list[Path]) -> str:
    """Hash of every theme file and of launchbook's code (pages depend on both)."""
    digest = hashlib.sha256(code_digest().encode())
    for theme in themes:
        for path in sorted(theme.rglob("*")):
            if path.is_file():
                digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class PageReuse:
    """Keeps (or links) unchanged pages of the previous output instead of rendering them again.

    A page is reused only when its key (source, nav, breadcrumbs, run history, config,
    theme and code, all hashed) equals the key recorded for the file already written, so
    the result is byte-identical to rendering it.
    """

    def __init__(self, output: Path, previous: dict[str, str], theme: str) -> None:
        self.output, self.previous, self.theme = output, previous, theme
        self.keys: dict[str, str] = {}

    def reused(self, key: str, url: str, writer: OutputWriter) -> bool:
        key = hashlib.sha256((self.theme + key).encode()).hexdigest()
        self.keys[url] = key
        if self.previous.get(url) != key:
            return False
        return writer.keep(url) or writer.link(url, self.output / url)
