"""One error family for everything launchbook reports to a user.

Every error is a :class:`click.ClickException`, so the CLI prints ``Error: …`` and
exits 1 with no extra code, while library callers can catch :class:`LaunchbookError`.
Errors about a file carry its path and, where known, the 1-based line.
"""

from __future__ import annotations

from pathlib import Path

import click


class LaunchbookError(click.ClickException):
    """Base of every launchbook error: ``path:line: message``."""

    exit_code = 1

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None, *,
                 code: str = "") -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.code = code
        """Lint rule code, when the error is one a rule describes (``LB203``)."""
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        if self.path is None:
            return self.reason
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


class SourceError(LaunchbookError):
    """A content file cannot be read or parsed (bad bytes, bad front matter, bad IDs)."""


class ConfigError(LaunchbookError):
    """``site.yml`` or a command-line option is invalid."""


class BuildError(LaunchbookError):
    """The build could not complete (strict warnings, template errors, output conflicts)."""


class ExecutorError(LaunchbookError):
    """The executor chosen with ``--executor`` cannot be used (extra not installed, scheduler unreachable)."""
