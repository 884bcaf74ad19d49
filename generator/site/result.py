"""What a build did (kept light: the up-to-date check imports only this)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.core.diagnostics import Diagnostic


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
    notes: tuple[Diagnostic, ...] = ()
    """Information that is not a warning (what ``include``/``exclude`` left out)."""
    skipped: bool = False
    """True when nothing had changed since the last build, so nothing was written."""
