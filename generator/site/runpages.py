"""Run pages, the run archive and the Audit page.

A site with 10,000 runs cannot render every run page on every build: each run page has a
key (the record file's hash, its checklist's drift, its report check and integrity state,
its navigation, the site-wide facts), an unchanged page is linked from the previous output,
and the rest are rendered on every core.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from generator.config import SiteConfig
from generator.core.files import FileHash
from generator.core.quietgc import freeing_cycles, quiet_gc
from generator.parallel import Progress, map_chunks
from generator.site.incremental import run_page_key
from generator.site.render import render_page
from generator.site.runs import RunView, archive_js, archive_rows
from generator.site.writer import OutputWriter

ARCHIVE = "runs/index.html"
AUDIT = "runs/audit.html"
PARALLEL_RUNS_FROM = 64
_CRUMBS = [("Run archive", ARCHIVE)]
class RunPages:
    """Everything a run page needs: the map's ``shared`` value (inherited by ``fork``
    workers, pickled for a Dask cluster)."""

    def __init__(self, env: Any, runs: list[RunView], config: SiteConfig, common: dict[str, Any], navs: Any,
                 checks: dict[str, Any], integrity: Any, shared: str,
                 file_hash: FileHash | None = None, records: Path | None = None) -> None:
        self.env, self.runs, self.config, self.common, self.navs = env, runs, config, common, navs
        self.checks, self.integrity, self.shared, self.file_hash = checks, integrity, shared, file_hash
        self.records = records
        """The record cache (full records load from it while their page renders)."""

    def __getstate__(self) -> dict[str, Any]:
        """Workers only render; ``file_hash`` (which may hold the whole tree's hashes) serves
        :meth:`key`, which the parent alone calls."""
        return {**self.__dict__, "file_hash": None}

    def state(self, view: RunView) -> Any:
        return self.integrity.runs.get(view.record.id) if self.integrity is not None else None

    def key(self, view: RunView) -> str:
        """Everything the run page's bytes depend on, hashed."""
        path = view.file.path
        source = self.file_hash(path) if self.file_hash else hashlib.sha256(path.read_bytes()).hexdigest()
        return run_page_key(source, view, self.checks.get(view.record.id), self.state(view),
                            self.navs.digest(view.url), self.shared)

    def render(self, view: RunView) -> str:
        return render_page(self.env, "run.html", view.url, self.config, page=None, run=view.loaded(self.records),
                           crumbs=_CRUMBS,
                           check=self.checks.get(view.record.id), integrity=self.state(view),
                           nav_html=self.navs.for_page(view.url), **self.common)


def _render_chunk(root: str, job: RunPages, indexes: list[int]) -> list[str]:
    writer = OutputWriter(Path(root))
    with quiet_gc():
        for index in freeing_cycles(indexes):  # each render leaves its record in a Jinja cycle
            view = job.runs[index]
            writer.write(view.url, job.render(view))
    return sorted(writer.written)


def render_runs(writer: OutputWriter, job: RunPages, reuse: Any, progress: Progress | None = None) -> int:
    """Every run page, the archive page and its data (and the Audit page); the page count."""
    runs, env, config, common, navs = job.runs, job.env, job.config, job.common, job.navs
    if not runs:
        return 0
    navs.for_page(runs[0].url)  # warm the runs/ nav before workers fork
    fresh = [i for i, view in enumerate(runs) if not reuse.reused(job.key(view), view.url, writer)]
    written = map_chunks(functools.partial(_render_chunk, str(writer.root)), fresh, shared=job,
                         parallel_from=PARALLEL_RUNS_FROM, progress=progress, label="Rendering run pages",
                         freeze=True)
    for rel in written:
        writer.claim(rel)
    titles = {v.record.checklist: v.record.snapshot.title for v in reversed(runs)}
    rows = archive_rows(runs, titles)
    integrity = job.integrity
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
