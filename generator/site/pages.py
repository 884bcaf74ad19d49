"""Stage 5, render: every page and generated asset of the site into the output writer.

Document pages and run pages whose key is unchanged are kept from the previous output
(:class:`generator.site.incremental.PageReuse`); the rest render on every core (or the
executor in effect), each worker getting one shared job.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config import SiteConfig
from generator.core.quietgc import freeing_cycles, quiet_gc
from generator.core.templating import theme_assets
from generator.model import Checklist, DocumentSummary
from generator.parallel import map_chunks
from generator.site.incremental import page_key, shared_digest
from generator.site.nav import NavRenderer, breadcrumbs, walk
from generator.site.render import render_page, site_environment
from generator.site.runpages import RunPages, render_runs
from generator.site.runs import RunView, fill_history, item_history, runs_by_checklist
from generator.site.search.files import write_search_index
from generator.site.stages import BuildRequest, Checked, Plan, RunSet, Sources
from generator.site.trend import trend_svg
from generator.site.urls import HOME, output_path, relative_url, rooted, url_path
from generator.site.writer import OutputWriter
from generator.sources.cache import DocumentStore
from generator.sources.markdown import pygments_css

HOME_CARDS_UP_TO = 300
"""Beyond this many checklists the home page lists top-level folders instead of every card."""
PARALLEL_PAGES_FROM = 64


def render_site(writer: OutputWriter, request: BuildRequest, sources: Sources, runs: RunSet, checked: Checked,
                plan: Plan) -> Rendered:
    """Render every page and generated asset into ``writer``."""
    config, store, documents, nav = sources.config, sources.store, list(sources.summaries), list(checked.nav)
    env = site_environment(list(plan.themes), plan.reuse.theme)
    common = plan.facts.context()
    trails = breadcrumbs(nav)
    navs = NavRenderer(env, nav, config, plan.reuse.theme, store.folder.parent / "nav")
    home_doc = next((d for d in documents if d.rel_path == "index.md"), None)
    writer.write(HOME, _home(env, config, sources, checked, home_doc, navs, common))
    pages = [d for d in documents if d is not home_doc]
    for navs_folder in {output_path(d.rel_path).rsplit("/", 1)[0] for d in pages if "/" in d.rel_path}:
        navs.for_page(f"{navs_folder}/x.html")  # every folder's nav made once, before workers start
    shared = shared_digest(plan.facts.unshared(), config)
    job = _PageJob(env, config, common, trails, navs, runs_by_checklist(list(runs.views)), store, shared)
    fresh = [d for d in pages if not plan.reuse.reused(job.key(d), output_path(d.rel_path), writer)]
    for rel in map_chunks(functools.partial(_render_chunk, str(writer.root)), fresh, shared=job,
                          parallel_from=PARALLEL_PAGES_FROM, progress=request.progress, label="Rendering pages",
                          freeze=True):
        writer.claim(rel)
    count = 2 + len(pages)
    missing = render_page(env, "404.html", "404.html", config, page=None, crumbs=[], nav_html=navs.for_page("404.html"),
                          **common)
    writer.write("404.html", rooted(missing, config.base_url) if config.base_url else missing)  # served at any depth
    for node in walk(nav):
        if node.kind == "folder" and node.generated and node.url:
            count += 1
            listing = [(c.title, c.url, c.kind, len(c.children)) for c in node.children]
            key = hashlib.sha256(repr((node.title, listing, trails.get(node.url, []), navs.digest(node.url),
                                       shared)).encode()).hexdigest()
            if not plan.reuse.reused(key, node.url, writer):
                writer.write(node.url, render_page(env, "folder.html", node.url, config, page=None, folder=node,
                                                   crumbs=trails.get(node.url, []),
                                                   nav_html=navs.for_page(node.url), **common))
    run_pages = RunPages(env, list(runs.views), config, common, navs, checked.checks, checked.integrity, shared,
                         request.file_hash, sources.records)
    count += render_runs(writer, run_pages, plan.reuse, request.progress)
    if config.base_url:
        writer.write("sitemap.xml", _sitemap(env, config, documents, home_doc, runs.views, checked))
    for rel, path in theme_assets(list(plan.themes)).items():
        writer.copy(rel, path)
    writer.write("assets/pygments.css", pygments_css())
    write_search_index(writer, documents, store, list(runs.views))
    return Rendered(count, navs.store, frozenset(navs.entries))


@dataclass(frozen=True, slots=True)
class Rendered:
    """What the render stage made: the page count, and the navigation cache it used."""

    pages: int
    nav_folder: Path | None
    """Where each folder's navigation HTML is cached (``None``: not cached)."""
    nav_entries: frozenset[str]
    """The entries of ``nav_folder`` this build used (the others are earlier navigations)."""


def _home(env: Any, config: SiteConfig, sources: Sources, checked: Checked, home_doc: DocumentSummary | None,
          navs: NavRenderer, common: dict[str, Any]) -> str:
    checklists = [d for d in sources.summaries if d.kind == "checklist"]
    catalogue: list[dict[str, Any]] = []
    tags: list[str] = []
    folders: list[dict[str, Any]] = []
    if len(checklists) > HOME_CARDS_UP_TO:  # a card per checklist stops helping: one per top-level folder
        folders = [{"node": node, "checklists": sum(n.kind == "checklist" for n in walk(node.children))}
                   for node in checked.nav if node.kind == "folder" and node.url]
    else:
        catalogue = [
            {"doc": c, "url": output_path(c.rel_path), "summary": c.counts}
            for c in sorted(checklists, key=lambda c: (c.nav_order if c.nav_order is not None else 10**9,
                                                       c.title.lower(), c.rel_path))
        ]
        tags = sorted({tag for c in checklists for tag in c.tags}, key=str.lower)
    page = sources.store.load(home_doc.key) if home_doc else None
    return render_page(env, "home.html", HOME, config, page=page, catalogue=catalogue, tags=tags, folders=folders,
                       checklist_count=len(checklists), crumbs=[], nav_html=navs.for_page(HOME), **common)


def _sitemap(env: Any, config: SiteConfig, documents: list[DocumentSummary], home_doc: DocumentSummary | None,
             runs: tuple[RunView, ...], checked: Checked) -> str:
    urls = [url_path(url) for url in sorted([  # encoded: a name's '?', '#', '%', '\\' or space stays in the path
        HOME, *(output_path(d.rel_path) for d in documents if d is not home_doc),
        *(v.url for v in runs), *(["runs/index.html"] if runs else []),
        *(["runs/audit.html"] if runs and checked.integrity is not None else [])])]
    return render_page(env, "sitemap.xml", "sitemap.xml", config, urls=urls)


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
        url = output_path(document.rel_path)
        return page_key(document, url, self.navs.digest(url), self.trails.get(url, []), self.shared,
                        self.by_checklist.get(document.id, []))

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


def _render_chunk(root: str, job: _PageJob, documents: list[DocumentSummary]) -> list[str]:
    writer = OutputWriter(Path(root))
    with quiet_gc():
        for document in freeing_cycles(documents):  # each render leaves its document in a Jinja cycle
            writer.write(*job.render(document))
    return sorted(writer.written)
