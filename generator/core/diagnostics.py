"""One ``Diagnostic`` for every problem launchbook reports without stopping.

Build warnings, lint findings, audit problems, bundle and import notes all use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from generator.core.files import pickled_by_fields


class Severity(Enum):
    """How bad a diagnostic is."""

    INFO = "info"
    """A note (what was skipped …): printed, never counted as a warning."""
    WARNING = "warning"
    ERROR = "error"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem about a file: a repair made, an unknown key, a broken link."""

    path: str
    """Source path as shown to the user (relative to the project where possible)."""
    line: int | None
    """1-based line the problem is about, or ``None`` for the whole file."""
    message: str
    """What happened, in one sentence."""
    code: str = ""
    """Rule code (``LB105``) for ``launchbook lint``; see ``generator/lint/rules.py``."""
    severity: Severity = Severity.WARNING
    """Warning (the build goes on) or error (it would stop)."""

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"
