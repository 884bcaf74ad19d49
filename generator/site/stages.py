"""The values the build's stages pass along: each stage takes the frozen results of the
ones before it and returns its own (see :mod:`generator.site.build` for the sequence)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.config import SiteConfig
from generator.core.diagnostics import Diagnostic
from generator.core.files import FileHash
from generator.model import Checklist, DocumentSummary
from generator.parallel import Progress
from generator.runs.digest import RunDigest
from generator.runs.store import RunFile
from generator.site.incremental import PageReuse
from generator.site.nav import NavNode
from generator.site.runs import RunView
from generator.sources.cache import DocumentStore
from generator.sources.collect import SourceTree

Audit = Callable[[Path, list[Path], dict[str, tuple[RunFile, RunDigest]], Path | None], Any]
"""``audit(project, trust, digests, record_cache)``: the archive's integrity check over records
already read (full records load from ``record_cache`` where it needs them)."""


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """What was asked for."""

    project: Path
    output: Path
    strict: bool = False
    clean: bool = False
    cache: bool = True
    """Reuse the previous output and the project's cache (``--no-cache``: neither)."""
    fingerprint: str = ""
    """Hash of every input (recorded in the manifest for the next up-to-date check)."""
    audit: Audit | None = None
    progress: Progress | None = None
    file_hash: FileHash | None = None
    """An input file's sha256 without reading it when it is known unchanged."""


@dataclass(frozen=True, slots=True)
class Sources:
    """Stage 1, read sources: the config, what ``content/`` holds, every document's summary
    (full documents stay in the store, on disk)."""

    config: SiteConfig
    tree: SourceTree
    summaries: tuple[DocumentSummary, ...]
    store: DocumentStore
    checklists: dict[str, DocumentSummary]
    """Checklist summaries by ID."""

    @property
    def records(self) -> Path:
        """The record cache, beside the parsed documents."""
        return self.store.folder.parent / "records"

    def checklist(self, checklist_id: str) -> Checklist | None:
        """The current checklist with this ID, loaded in full, or ``None``."""
        summary = self.checklists.get(checklist_id)
        document = self.store.load(summary.key) if summary is not None else None
        return document if isinstance(document, Checklist) else None


@dataclass(frozen=True, slots=True)
class RunSet:
    """Stage 2, read runs: every run (newest first, as digests), the evidence and reports to
    publish, and what is missing."""

    views: tuple[RunView, ...]
    evidence: tuple[tuple[str, Path], ...]
    reports: tuple[tuple[str, Path], ...]
    warnings: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    """Stage 3, check: the archive's integrity (when asked), the navigation, every warning."""

    integrity: Any
    checks: dict[str, Any]
    """Run ID -> the check of its signed report."""
    nav: tuple[NavNode, ...]
    warnings: tuple[Diagnostic, ...]
    notes: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class SiteFacts:
    """What every page's template gets alike."""

    nav: tuple[NavNode, ...]
    build_date: str
    has_runs: bool
    has_audit: bool

    def context(self) -> dict[str, Any]:
        return {"nav": list(self.nav), "build_date": self.build_date, "has_runs": self.has_runs,
                "has_audit": self.has_audit}

    def unshared(self) -> dict[str, Any]:
        """The facts every page shares, less the nav (pages are keyed by their own nav)."""
        return {"build_date": self.build_date, "has_runs": self.has_runs, "has_audit": self.has_audit}


@dataclass(frozen=True, slots=True)
class Plan:
    """Stage 4, plan: the themes, what every page shares, and the previous output's keys."""

    themes: tuple[Path, ...]
    facts: SiteFacts
    reuse: PageReuse
