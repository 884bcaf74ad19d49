"""Runs in the built site: run page, history on the checklist, archive, evidence, drift."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.site.search.document import fragment_name
from tests.helpers import edit_text

RunCli = Callable[..., Result]
GOLDEN = Path(__file__).parent / "golden" / "run-site"
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def run_site(started: tuple[Path, str], run_cli: RunCli) -> tuple[Path, str]:
    """A run with a failure, evidence, a rejection and a segregation-of-duties conflict."""
    project, run_id = started
    evidence = project / "smoke.log"
    evidence.write_text("ok\n")
    steps = [
        ("run", "mark", run_id, "announce", "--status", "done", "--by", "Ari", "--at", "2026-03-01T10:01:00Z"),
        ("run", "mark", run_id, "freeze", "--status", "done", "--by", "Rhea", "--evidence", evidence,
         "--evidence", "https://ci.example.com/build/7", "--at", "2026-03-01T10:02:00Z"),
        ("run", "mark", run_id, "migrate", "--status", "failed", "--by", "Ari", "--note", f"lock timeout {HOSTILE}",
         "--at", "2026-03-01T10:03:00Z"),
        ("run", "mark", run_id, "partners", "--status", "na", "--note", "no partner change", "--by", "Ari",
         "--at", "2026-03-01T10:04:00Z"),
        ("run", "signoff", run_id, "--role", "Release Manager", "--name", "Rhea", "--decision", "approve",
         "--at", "2026-03-01T10:10:00Z"),
        ("run", "signoff", run_id, "--role", "Security", "--name", f"Sam {HOSTILE}", "--decision", "reject",
         "--comment", "fix the migration", "--at", "2026-03-01T10:12:00Z"),
    ]
    for step in steps:
        result = run_cli(*step, "-C", project)
        assert result.exit_code == 0, result.output
    assert run_cli("build", "-C", project).exit_code == 0
    return project, run_id


def test_run_page(run_site: tuple[Path, str]) -> None:
    project, run_id = run_site
    html = (project / f"output/runs/deploy/{run_id}.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert '<span class="outcome outcome-no-go">NO-GO</span>' in html
    exceptions = html[html.index('id="exceptions-title"'):html.index('id="items-title"')]
    assert "Run the migration" in exceptions and "Notify partners (optional)" in exceptions
    assert "Announce the window" not in exceptions
    assert '<a href="20260301-1000-v1-0/evidence/smoke.log">smoke.log</a>' in html
    assert '<a href="https://ci.example.com/build/7" rel="noopener noreferrer">' in html
    assert "sha256 " in html
    assert "fix the migration" in html and "Awaiting" not in html.split('id="signoff-title"')[1][:50]
    assert "Segregation of duties: Rhea signed off and also executed items of this run." in html
    assert "1 required item failed or blocked" in html
    assert (project / f"output/runs/deploy/{run_id}/evidence/smoke.log").read_text() == "ok\n"


def test_checklist_page_shows_history_trend_and_item_badges(run_site: tuple[Path, str]) -> None:
    project, run_id = run_site
    html = (project / "output/deploy.html").read_text()
    assert '<h2 id="run-history-title">Runs' in html
    assert (f'<a class="run-when" href="runs/deploy/{run_id}.html">2026-03-01 10:00:00</a> '
            f'<span class="run-id">{run_id}</span>') in html  # the start time links to the run; its ID below
    assert '<svg class="trend"' in html and "v1.0 (2026-03-01): no-go, 66.7% done" in html
    migrate = html[html.index('id="migrate"'):]
    assert "failed in 1 of the last 1 runs" in migrate[: migrate.index("</li>")]
    announce = html[html.index('id="announce"'):]
    assert "history-badge" not in announce[: announce.index("</li>")]


def test_archive_page_and_data(run_site: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = run_site
    run_cli("run", "start", "deploy", "--release", "v1.1", "--at", "2026-04-01T08:00:00Z", "-C", project)
    run_cli("build", "-C", project)
    archive = (project / "output/runs/index.html").read_text()
    assert "(2 in all)" in archive
    assert archive.index("v1.1") < archive.index("v1.0")
    data = (project / "output/assets/runs-index.js").read_text()
    rows = json.loads(data.removeprefix("window.LAUNCHBOOK_RUNS = ").rstrip(";\n"))
    assert [(r["r"], r["o"]) for r in rows] == [("v1.1", "incomplete"), ("v1.0", "no-go")]
    assert "<img" not in data
    assert 'Run archive</a>' in (project / "output/deploy.html").read_text()


def test_drift_notice_after_checklist_changes(run_site: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = run_site
    source = project / "content/deploy.md"
    edit_text(source, "- [ ] Freeze merges {#freeze}", "- [ ] Freeze merges on main {#freeze}")
    edit_text(source, "- [ ] Run the migration {#migrate}\n", "- [ ] Run the migration {#migrate}\n- [ ] Warm the cache\n")
    assert run_cli("build", "-C", project).exit_code == 0
    html = (project / f"output/runs/deploy/{run_id}.html").read_text()
    assert "The checklist changed since this run started" in html
    assert "<strong>added:</strong> Warm the cache" in html
    assert "<strong>reworded:</strong> “Freeze merges” → “Freeze merges on main”" in html
    assert html.count('class="item-text"') == 4  # still rendered from the snapshot


def test_broken_record_fails_build_and_keeps_output(run_site: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = run_site
    before = (project / "output/index.html").read_bytes()
    record = project / f"content/runs/deploy/{run_id}.yml"
    edit_text(record, "status: failed", "status: exploded")
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert re.search(rf"content/runs/deploy/{run_id}\.yml:\d+: invalid status 'exploded'", result.stderr)
    assert (project / "output/index.html").read_bytes() == before


def test_missing_evidence_is_a_build_warning(run_site: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = run_site
    (project / f"content/runs/deploy/{run_id}/evidence/smoke.log").unlink()
    result = run_cli("build", "-C", project, "--json")
    assert any("evidence file missing: evidence/smoke.log" in w for w in json.loads(result.stdout)["warnings"])


def test_run_pages_match_golden(run_site: tuple[Path, str], update_golden: bool) -> None:
    project, run_id = run_site
    out = project / "output"
    files = {"run.html": out / f"runs/deploy/{run_id}.html", "archive.html": out / "runs/index.html",
             "checklist.html": out / "deploy.html", "runs-index.js": out / "assets/runs-index.js",
             "search-run.js": out / "assets/search/doc" / f"{fragment_name(f'runs/deploy/{run_id}.html')}.js"}
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        for name, path in files.items():
            shutil.copyfile(path, GOLDEN / name)
    for name, path in files.items():
        assert path.read_text() == (GOLDEN / name).read_text(), f"{name} differs from tests/golden/run-site"


def test_unchanged_run_pages_are_reused_and_the_result_equals_a_clean_build(
        started: tuple[Path, str], run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.site import runpages
    from generator.site import runs as site_runs
    from tests.test_build import tree_digest

    project, first = started
    second = json.loads(run_cli("run", "start", "deploy", "--release", "v1.1", "--at", "2026-03-02T10:00:00Z",
                                "-C", project, "--json").stdout)["id"]
    assert run_cli("build", "-C", project).exit_code == 0
    out = project / "output"
    first_page, second_page = out / f"runs/deploy/{first}.html", out / f"runs/deploy/{second}.html"
    before = first_page.stat().st_ino, second_page.read_text()
    assert run_cli("run", "mark", second, "migrate", "--status", "failed", "--note", "500 on /health",
                   "--at", "2026-03-02T10:30:00Z", "-C", project).exit_code == 0
    assert run_cli("build", "-C", project).exit_code == 0
    assert first_page.stat().st_ino == before[0]  # linked from the previous output, not rendered again
    assert second_page.read_text() != before[1] and "500 on /health" in second_page.read_text()
    monkeypatch.setattr(runpages, "PARALLEL_RUNS_FROM", 1)  # the clean build renders run pages on every core
    monkeypatch.setattr(site_runs, "PARALLEL_RECORDS_FROM", 1)  # and parses the records on every core
    assert run_cli("build", "-C", project, "-o", tmp_path / "clean", "--no-cache").exit_code == 0
    assert tree_digest(out) == tree_digest(tmp_path / "clean")
