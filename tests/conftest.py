"""Fixture ladder: files on disk -> parsed documents -> a built site.

``write_project`` writes a throwaway project from a {path: text} mapping (dedented).
Golden files are refreshed with ``pytest --update-golden``.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from tests.helpers import RUN_SITE, SMALL_SITE

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden from the current output")


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def write_project(tmp_path: Path) -> Callable[..., Path]:
    """Write files under tmp_path/project; return the project folder."""

    def write(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        project = root or tmp_path / "project"
        for rel, body in files.items():
            path = project / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        (project / "content").mkdir(parents=True, exist_ok=True)
        return project

    return write


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Invoke the CLI in-process; returns click's Result (exit_code, stdout, stderr)."""

    def run(*args: str | os.PathLike[str]) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def small_site(write_project: Callable[..., Path]) -> Path:
    """A small project: home page, one checklist, one plain page."""
    return write_project(SMALL_SITE)


@pytest.fixture
def run_project(write_project: Callable[..., Path]) -> Path:
    """A project with one small checklist (4 items, 2 sign-off roles) and no runs yet."""
    return write_project(RUN_SITE)


@pytest.fixture
def started(run_project: Path, run_cli: Callable[..., Result]) -> tuple[Path, str]:
    """``run_project`` with one run started; returns (project, run id)."""
    result = run_cli("run", "start", "deploy", "--release", "v1.0", "--change", "CHG-1", "--env", "prod",
                     "--operator", "Olga", "--at", "2026-03-01T10:00:00Z", "-C", run_project)
    assert result.exit_code == 0, result.output
    return run_project, result.stdout.strip()
