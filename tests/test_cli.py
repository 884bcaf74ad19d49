"""CLI contract: inspect JSON shape, outline, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.helpers import CONTENT, ROOT

RunCli = Callable[..., Result]


def test_inspect_gives_a_nested_file_the_id_the_build_gives_it(write_project: Callable[..., Path],
                                                                run_cli: RunCli, tmp_path: Path) -> None:
    project = write_project({"content/ops/deploy.md": "# Deploy\n\n- [ ] Announce\n"})
    data = json.loads(run_cli("inspect", project / "content/ops/deploy.md", "--json").stdout)
    assert data["id"] == "ops/deploy"  # what `run start ops/deploy` and the site call it
    loose = tmp_path / "elsewhere" / "deploy.md"
    loose.parent.mkdir()
    loose.write_text("# Deploy\n\n- [ ] Announce\n")
    assert json.loads(run_cli("inspect", loose, "--json").stdout)["id"] == "deploy"


def test_inspect_json_shape(run_cli: RunCli) -> None:
    result = run_cli("inspect", CONTENT / "platform/go-live-readiness.md", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {"id", "title", "source", "warnings", "signoffs", "items"} <= set(data)
    assert data["id"] == "go-live-readiness"
    assert data["signoffs"][0]["role"] == "Technical Lead"
    item = data["items"][1]
    assert set(item) >= {"id", "text", "section", "depth", "optional", "state", "line"}
    assert (item["text"], item["section"], item["depth"], item["state"], item["optional"]) == (
        "All .env files created from .env.example", ["🔐 Security"], 2, "open", False)
    assert len(data["items"]) == 258
    assert any("Mac Roman" in w for w in data["warnings"])


def test_inspect_outline_for_people(run_cli: RunCli) -> None:
    result = run_cli("inspect", CONTENT / "platform/sv-sdk.md")
    assert result.exit_code == 0
    assert "140 items, 13 optional, 4 sign-off roles" in result.stdout
    assert "Pre-Deployment › Environment Configuration" in result.stdout
    assert "  [ ] `NODE_ENV=production`" not in result.stdout  # text is plain, not Markdown
    assert "  [ ] NODE_ENV=production  #node-env-production-" in result.stdout


def test_inspect_a_page(tmp_path: Path, run_cli: RunCli) -> None:
    page = tmp_path / "notes.md"
    page.write_text("# Notes\n\nNo items.\n")
    data = json.loads(run_cli("inspect", page, "--json").stdout)
    assert (data["kind"], data["items"], data["title"]) == ("page", [], "Notes")


def test_inspect_missing_file_is_an_error(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("inspect", tmp_path / "nope.md")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'nope.md'}: cannot read")


def test_usage_errors_exit_2(run_cli: RunCli) -> None:
    assert run_cli("build", "--no-such-flag").exit_code == 2
    assert run_cli("inspect").exit_code == 2
    assert run_cli("frobnicate").exit_code == 2


def test_runs_as_python_module() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "generator", "--version"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert completed.returncode == 0
    assert completed.stdout.strip() == "launchbook, version 0.1.0"


def test_global_quiet_and_verbose(small_site: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    verbose = run_cli("-v", "build", "-C", small_site, "--no-cache")
    assert "Parsing: 3/3 done" in verbose.stderr and "Built 6 pages" in verbose.stdout
    quiet = run_cli("-q", "build", "-C", small_site, "--no-cache")
    assert quiet.exit_code == 0 and quiet.stdout == "" and "Parsing" not in quiet.stderr
    assert run_cli("--version").stdout.startswith("launchbook, version ")


def test_progress_bar_on_a_terminal_only(small_site: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from tests.helpers import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "100"}
    command = [sys.executable, "-m", "generator", "build", "-C", str(small_site), "--no-cache"]
    master, slave = pty.openpty()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=slave, env=env, timeout=120)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert done.returncode == 0 and b"Parsing" in shown and "━".encode() in shown
    piped = subprocess.run(command, capture_output=True, env=env, timeout=120)
    assert b"Parsing" not in piped.stderr and "━".encode() not in piped.stderr


def test_a_bad_status_is_a_usage_error_naming_the_choices(started: tuple[Path, str], run_cli: Callable[..., Result]) -> None:
    project, run_id = started
    result = run_cli("run", "mark", run_id, "freeze", "--status", "finished", "-C", project)
    assert result.exit_code == 2
    assert "'finished' is not one of" in result.output and "'done'" in result.output and "'n/a'" in result.output
    assert run_cli("run", "mark", run_id, "freeze", "--status", "DONE", "-C", project).exit_code == 0


def test_run_list_of_a_mistyped_checklist_says_unknown_and_suggests(started: tuple[Path, str], run_cli: Callable[..., Result]) -> None:
    project, _ = started
    result = run_cli("run", "list", "--checklist", "deplyo", "-C", project)
    assert result.exit_code == 1 and "unknown checklist 'deplyo'; did you mean deploy?" in result.stderr
    assert run_cli("run", "list", "--checklist", "deploy", "-C", project).exit_code == 0


def test_with_json_errors_are_json_on_stdout_too(started: tuple[Path, str]) -> None:
    project, _ = started
    for args, code in ((["run", "show", "20990101-0000-nope", "--json", "-C", str(project)], 1),
                       (["run", "mark", "x", "y", "--status", "bogus", "--json", "-C", str(project)], 2)):
        done = subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)
        assert done.returncode == code, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ok"] is False and answer["error"]["exit_code"] == code and answer["error"]["message"]
        assert "Error:" in done.stderr and "Traceback" not in done.stderr


def test_global_quiet_and_verbose_also_follow_the_subcommand(small_site: Path, run_cli: Callable[..., Result]) -> None:
    quiet = run_cli("build", "-C", small_site, "--no-cache", "-q")
    assert quiet.exit_code == 0 and quiet.stdout == "", quiet.output
    listed = run_cli("run", "list", "-C", small_site, "--quiet")
    assert listed.exit_code == 0, listed.output
    verbose = run_cli("build", "-C", small_site, "--no-cache", "-v")  # build's own -v stays build's
    assert verbose.exit_code == 0 and "Built" in verbose.stdout
    noted = run_cli("run", "list", "--checklist", "-q", "-C", small_site)  # an option's value is never moved
    assert noted.exit_code == 1 and "unknown checklist '-q'" in noted.stderr
