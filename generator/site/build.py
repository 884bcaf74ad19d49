"""The site build as named stages.

``load_config → collect_sources → parse_sources → build_nav → check_links →
render_site → swap_in``. Nothing touches the output folder until every source has been
read and every page rendered into a staging folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config import SiteConfig, build_datetime, load_config
from generator.errors import BuildError
from generator.model import Checklist, Diagnostic, Document, ItemState
from generator.site.links import check_links
from generator.site.nav import (
    EXPAND_ALL_UP_TO, HOME, NavNode, breadcrumbs, build_nav, output_path, relative_url, walk,
)
from generator.site.render import make_environment, render_page, theme_assets, theme_dirs
from generator.site.runs import (
    RunView, archive_js, archive_rows, check_reports, evidence_files, fill_history, item_history, load_runs,
    report_files, runs_by_checklist,
)
from generator.site.search import search_index_js
from generator.site.trend import trend_svg
from generator.site.writer import OutputWriter, discard, staging_dir, swap_in
from generator.sources.collect import collect_sources, parse_sources
from generator.sources.markdown import pygments_css


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build did, for the CLI to print."""

    output: Path
    """The output folder now holding the site."""
    pages: int
    """HTML pages written."""
    checklists: int
    """Checklists published."""
    runs: int
    """Run records published."""
    items: int
    """Checklist items across all checklists."""
    files: int
    """All files written."""
    warnings: tuple[Diagnostic, ...]
    """Every warning, in source order."""
    kept: tuple[str, ...]
    """User files found in the old output and where they are now."""
    seconds: float
    """Wall time of the build."""


def _shown(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path, base) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def build_site(project_dir: Path, output: Path | None = None, *, strict: bool = False, clean: bool = False,
               audit: Callable[[Path, list[Path]], Any] | None = None) -> BuildResult:
    """Build ``project_dir/content`` into ``output`` (default ``project_dir/output``).

    ``audit`` (the archive's integrity check, injected so the site does not depend on the
    archive) adds the Audit page and per-run integrity badges.
    """
    started = time.perf_counter()
    project_dir = project_dir.resolve()
    output = (output or project_dir / "output").resolve()
    content = project_dir / "content"
    shown = _shown(content, Path.cwd())
    if content.resolve().is_relative_to(output) or output.is_relative_to(content.resolve()):
        raise BuildError(f"output folder {output} overlaps the content folder; choose another -o")
    if project_dir.is_relative_to(output):
        raise BuildError(f"output folder {output} contains the project; choose another -o")

    config = load_config(content, shown)
    tree = collect_sources(content, shown)
    documents = parse_sources(tree)
    runs = load_runs(project_dir, documents)
    evidence, evidence_warnings = evidence_files(runs)
    reports, report_warnings = report_files(runs)
    integrity = audit(project_dir, list(config.trust)) if audit is not None and runs else None
    if integrity is not None:
        checks = {run_id: state.report for run_id, state in integrity.runs.items() if state.report is not None}
        check_warnings = [Diagnostic(f.where, None, f"integrity: {f.message}") for f in integrity.findings]
    else:
        checks, check_warnings = check_reports(reports, runs, config.trust)
    nav = build_nav(documents, config.nav)
    assets = {entry.rel for entry in tree.assets}
    warnings = [
        *config.warnings, *(w for d in documents for w in d.warnings), *check_links(documents, assets),
        *evidence_warnings, *report_warnings, *check_warnings,
    ]
    if strict and warnings:
        listing = "\n".join(f"  {w}" for w in warnings)
        raise BuildError(f"--strict: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}:\n{listing}")

    themes = theme_dirs(project_dir, config.theme)
    staging = staging_dir(output)
    try:
        writer = OutputWriter(staging)
        pages = render_site(writer, documents, runs, nav, config, themes, checks, integrity)
        for entry in tree.assets:
            writer.copy(entry.rel, entry.path)
        for target, source in [*evidence, *reports]:
            writer.copy(target, source)
        writer.finish()
        files = len(writer.written)
    except BaseException:
        discard(staging)
        raise
    kept = swap_in(staging, output, clean)
    checklists = [d for d in documents if isinstance(d, Checklist)]
    return BuildResult(
        output=output,
        pages=pages,
        checklists=len(checklists),
        runs=len(runs),
        items=sum(len(c.items) for c in checklists),
        files=files,
        warnings=tuple(warnings),
        kept=tuple(kept),
        seconds=time.perf_counter() - started,
    )


def checklist_summary(checklist: Checklist) -> dict[str, Any]:
    """Counts shown on the home page and checklist header."""
    items = checklist.items
    return {
        "items": len(items),
        "done": sum(item.state is ItemState.DONE for item in items),
        "na": sum(item.state is ItemState.NA for item in items),
        "optional": sum(item.optional for item in items),
        "sections": len({item.section for item in items}),
        "signoffs": len(checklist.signoffs),
    }


def render_site(
    writer: OutputWriter, documents: list[Document], runs: list[RunView], nav: list[NavNode], config: SiteConfig,
    themes: list[Path], checks: dict[str, Any] | None = None, integrity: Any = None,
) -> int:
    """Render every page and generated asset into ``writer``; return the page count."""
    env = make_environment(themes)
    built = build_datetime()
    common: dict[str, Any] = {
        "nav": nav, "build_date": built.date().isoformat() if built else "", "has_runs": bool(runs),
        "has_audit": integrity is not None,
    }
    by_checklist = runs_by_checklist(runs)
    trails = breadcrumbs(nav)
    navs = NavRenderer(env, nav, config)
    home_doc = next((d for d in documents if d.rel_path == "index.md"), None)
    checklists = [d for d in documents if isinstance(d, Checklist)]
    catalogue = [
        {"doc": c, "url": output_path(c.rel_path), "summary": checklist_summary(c)}
        for c in sorted(checklists, key=lambda c: (c.nav_order if c.nav_order is not None else 10**9, c.title.lower(), c.rel_path))
    ]
    tags = sorted({tag for c in checklists for tag in c.tags}, key=str.lower)
    writer.write(HOME, render_page(env, "home.html", HOME, config, page=home_doc, catalogue=catalogue, tags=tags,
                                   crumbs=[], nav_html=navs.for_page(HOME), **common))
    count = 1
    for document in documents:
        if document is home_doc:
            continue
        url = output_path(document.rel_path)
        is_checklist = isinstance(document, Checklist)
        context: dict[str, Any] = {"page": document, "crumbs": trails.get(url, []), "nav_html": navs.for_page(url),
                                   **common}
        history = by_checklist.get(document.id, [])
        context["body"] = fill_history(document.body_html, item_history(history))
        if is_checklist:
            context["summary"] = checklist_summary(document)
            context["history"] = history
            context["trend"] = trend_svg(history, {v.record.id: relative_url(v.url, url) for v in history})
        html = render_page(env, "checklist.html" if is_checklist else "page.html", url, config, **context)
        writer.write(url, html)
        count += 1
    writer.write("404.html", render_page(env, "404.html", "404.html", config, page=None, crumbs=[],
                                         nav_html=navs.for_page("404.html"), **common))
    count += 1
    for node in walk(nav):
        if node.kind == "folder" and node.generated and node.url:
            writer.write(node.url, render_page(env, "folder.html", node.url, config, page=None, folder=node,
                                               crumbs=trails.get(node.url, []), nav_html=navs.for_page(node.url),
                                               **common))
            count += 1
    count += render_runs(writer, env, runs, config, {**common, "navs": navs}, checks or {}, integrity)
    if config.base_url:
        urls = sorted([HOME, *(output_path(d.rel_path) for d in documents if d is not home_doc),
                       *(v.url for v in runs), *(["runs/index.html"] if runs else []),
                       *(["runs/audit.html"] if runs and integrity is not None else [])])
        writer.write("sitemap.xml", render_page(env, "sitemap.xml", "sitemap.xml", config, urls=urls))
    for rel, path in theme_assets(themes).items():
        writer.copy(rel, path)
    writer.write("assets/pygments.css", pygments_css())
    writer.write("assets/search-index.js", search_index_js(documents))
    return count



ARCHIVE = "runs/index.html"
AUDIT = "runs/audit.html"


def render_runs(writer: OutputWriter, env: Any, runs: list[RunView], config: SiteConfig, common: dict[str, Any],
                checks: dict[str, Any], integrity: Any = None) -> int:
    """Every run page, the archive page and its data; return the page count."""
    if not runs:
        return 0
    navs = common.pop("navs")
    titles = {v.record.checklist: v.record.snapshot.title for v in reversed(runs)}
    crumbs = [("Run archive", ARCHIVE)]
    for view in runs:
        state = integrity.runs.get(view.record.id) if integrity is not None else None
        html = render_page(env, "run.html", view.url, config, page=None, run=view, crumbs=crumbs,
                           check=checks.get(view.record.id), integrity=state, nav_html=navs.for_page(view.url),
                           **common)
        writer.write(view.url, html)
    rows = archive_rows(runs, titles)
    if integrity is not None:
        for row in rows:
            state = integrity.runs.get(str(row["id"]))
            row["i"] = state.status if state is not None else "unknown"
        pages = [ARCHIVE, AUDIT]
        writer.write(AUDIT, render_page(env, "audit.html", AUDIT, config, page=None, audit=integrity, runs=runs,
                                        crumbs=[], nav_html=navs.for_page(AUDIT), **common))
    else:
        pages = [ARCHIVE]
    checklists = sorted(titles.items(), key=lambda pair: pair[1].lower())
    writer.write(ARCHIVE, render_page(env, "archive.html", ARCHIVE, config, page=None, runs=runs[:50],
                                      total=len(runs), checklists=checklists, crumbs=[],
                                      nav_html=navs.for_page(ARCHIVE), **common))
    writer.write("assets/runs-index.js", archive_js(rows))
    return len(runs) + len(pages)


class NavRenderer:
    """Renders the navigation once per folder and marks the current page by string edit.

    Every page of a folder shares the same nav HTML (links are relative to the folder);
    only ``aria-current`` differs, so a 1,000-page site renders 10s of navs, not 1,000.
    """

    def __init__(self, env: Any, nav: list[NavNode], config: SiteConfig) -> None:
        self.env, self.nav, self.config = env, nav, config
        self.expand_all = len(walk(nav)) <= EXPAND_ALL_UP_TO
        self.cache: dict[str, str] = {}

    def for_page(self, page_url: str) -> str:
        folder = page_url.rsplit("/", 1)[0] if "/" in page_url else ""
        if folder not in self.cache:
            self.cache[folder] = render_page(self.env, "nav.html", page_url, self.config, nav=self.nav,
                                             current_dir=folder, expand_all=self.expand_all)
        html = self.cache[folder]
        link = f'href="{page_url.rsplit("/", 1)[-1]}"'
        return html.replace(link + ">", link + ' aria-current="page">', 1)
