"""``verify`` is honest: impossible times are flagged, back-fills are shown as such, nothing
unchecked is blessed, and an interrupted ``run close`` is named and recoverable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.archive.audit import audit_project
from generator.archive.bundle import create_bundle
from generator.archive.checkpoint import make_checkpoint
from generator.archive.seal import close_run
from generator.config import load_config
from generator.core.errors import SourceError
from generator.runs.operations import add_signoff, mark_item
from generator.runs.start import start_run
from generator.runs.store import find_run, read_record
from tests.helpers import ROOT, RUN_SITE, edit_text

ITEMS = ("announce", "freeze", "migrate", "partners")


def _site(project: Path, key: Any) -> Path:
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))
    (project / "content/site.yml").write_text(f"trust:\n  - {key.certificate}\n")
    return project


def _run(project: Path, release: str, *, at: str | None = None) -> str:
    """A finished run, every entry made now (``at`` None) or back-filled at ``at`` + minutes."""
    stamp = (lambda minute: f"{at[:-3]}{minute:02d}Z") if at else (lambda minute: None)
    _, record = start_run(project, "deploy", release=release, operator="Olga", at=stamp(0))
    for item in ITEMS:
        mark_item(project, record.id, item, status="done", by="Ari", at=stamp(10))
    add_signoff(project, record.id, role="Release Manager", name="Rhea", decision="approve", at=stamp(20))
    add_signoff(project, record.id, role="Security", name="Sam", decision="approve", at=stamp(25))
    return record.id


def _problems(project: Path) -> list[str]:
    trust = list(load_config(project / "content", "content").trust)
    return [str(f) for f in audit_project(project, trust, None).findings]


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Edit a record's data by hand (as someone with a text editor would)."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _cli(*args: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> tuple[Path, list[str]]:
    """Two runs sealed live (no --at) and one open run, all in real time."""
    project = _site(tmp_path_factory.mktemp("honest") / "project", signing_key)
    runs = [_run(project, f"v{n}") for n in (1, 2)]
    for run_id in runs:
        close_run(project, run_id, key=str(signing_key.pkcs12))
    runs.append(_run(project, "v3"))
    return project, runs


@pytest.fixture
def archive(sealed: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    project, runs = sealed
    shutil.copytree(project, tmp_path / "project")
    return tmp_path / "project", runs


def _record(project: Path, run_id: str) -> Path:
    return project / f"content/runs/deploy/{run_id}.yml"


# --- times that cannot be true ------------------------------------------------------------------------------------


def test_a_live_archive_has_no_time_problems_and_no_backfill_notes(archive: tuple[Path, list[str]]) -> None:
    project, _ = archive
    assert _problems(project) == []
    assert audit_project(project, [], None).notes == []


def test_impossible_times_in_a_record_are_flagged_by_verify_and_run_show(archive: tuple[Path, list[str]],
                                                                       run_cli: Callable[..., Any]) -> None:
    project, runs = archive
    started = read_record(find_run(project, runs[2])).started_at

    def impossible(data: dict[str, Any]) -> None:
        # An open record edited by hand: finishes long before it starts, an item marked before the start,
        # a sign-off in the future.
        data["finished_at"] = "2020-01-01T00:00:00Z"
        data["results"]["freeze"]["at"] = "2019-01-01T00:00:00Z"
        data["signoffs"][0]["at"] = "2099-01-01T00:00:00Z"

    _edit(_record(project, runs[2]), impossible)
    found = _problems(project)
    shown = f"content/runs/deploy/{runs[2]}.yml"
    assert f"{shown}: run finishes (2020-01-01T00:00:00Z) before it starts ({started})" in found
    assert f"{shown}: item freeze (done by Ari) at 2019-01-01T00:00:00Z is dated before the run started ({started})" \
        in found
    assert f"{shown}: item announce (done by Ari) at {started} is dated after the run finished (2020-01-01T00:00:00Z)" \
        in found
    assert any("sign-off by Rhea (Release Manager) at 2099-01-01T00:00:00Z is dated in the future" in f
               for f in found)
    result = run_cli("verify", project)
    assert result.exit_code == 1 and "before it starts" in result.stdout
    shown_run = run_cli("run", "show", runs[2], "-C", project)
    assert "Times that cannot be true:" in shown_run.stdout and "before it starts" in shown_run.stdout
    data = json.loads(run_cli("run", "show", runs[2], "-C", project, "--json").stdout)
    assert any(t["severity"] == "error" and "in the future" in t["message"] for t in data["times"])


def test_entries_outside_the_window_and_history_going_backwards(archive: tuple[Path, list[str]]) -> None:
    project, runs = archive
    run_id = runs[2]
    # A later state of an item dated well before its earlier one (hand edit of the history).
    mark_item(project, run_id, "migrate", status="failed", note="lock timeout", by="Ari")

    def backwards(data: dict[str, Any]) -> None:
        data["results"]["migrate"]["history"][0]["at"] = "2026-01-01T00:00:00Z"  # earlier state, fine …
        data["results"]["migrate"]["at"] = "2025-06-01T00:00:00Z"  # … later state dated before it

    _edit(_record(project, run_id), backwards)
    found = _problems(project)
    assert any("item migrate (failed by Ari) at 2025-06-01T00:00:00Z is dated before the item's earlier entry" in f
               for f in found), found


def test_writing_an_impossible_time_is_refused(archive: tuple[Path, list[str]], run_cli: Callable[..., Any],
                                              signing_key: Any) -> None:
    project, runs = archive
    before = _record(project, runs[2]).read_bytes()
    for args in (["run", "mark", runs[2], "freeze", "--status", "done", "--at", "2020-01-01T00:00:00Z"],
                 ["run", "signoff", runs[2], "--role", "Security", "--name", "Sam", "--decision", "approve",
                  "--at", "2020-01-01T00:00:00Z"],
                 ["run", "mark", runs[2], "freeze", "--status", "done", "--at", "2099-01-01T00:00:00Z"],
                 ["run", "close", runs[2], "--key", signing_key.pkcs12, "--at", "2020-01-01T00:00:00Z"]):
        result = run_cli(*args, "-C", project)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("Error: ") and "cannot" in result.stderr and "Traceback" not in result.output
    assert _record(project, runs[2]).read_bytes() == before


def test_backfilled_entries_are_marked_and_shown(tmp_path: Path, signing_key: Any,
                                                 run_cli: Callable[..., Any]) -> None:
    project = _site(tmp_path / "project", signing_key)
    run_id = _run(project, "v9", at="2026-07-01T08:00:00Z")
    close_run(project, run_id, key=str(signing_key.pkcs12), at="2026-07-01T08:30:00Z")
    record = read_record(find_run(project, run_id))
    assert all(r.current.recorded_at for r in record.results.values())
    assert all(s.recorded_at for s in record.signoffs) and record.sealed["recorded_at"]
    result = audit_project(project, [signing_key.certificate], None)
    assert result.ok, [str(f) for f in result.findings]  # back-filling is allowed …
    notes = [n.message for n in result.notes]  # … and shown as such
    assert sum("back-filled" in n for n in notes) == len(ITEMS) + 2 + 1, notes
    verified = json.loads(run_cli("verify", project, "--json").stdout)["results"][0]
    assert all(n["severity"] == "info" for n in verified["notes"]) and verified["notes"]
    shown = run_cli("run", "show", run_id, "-C", project).stdout
    assert "(back-filled, recorded " in shown and "Back-filled with --at: 7 entries" in shown
    assert run_cli("build", "-C", project).exit_code == 0
    page = (project / f"output/runs/deploy/{run_id}.html").read_text()
    assert page.count("(back-filled)") == len(ITEMS) + 2
    # Live entries carry no mark.
    live = _run(project, "v10")
    assert not any(r.current.recorded_at for r in read_record(find_run(project, live)).results.values())


def test_ledger_sealed_at_going_backwards_and_seal_time_far_from_finish(archive: tuple[Path, list[str]]) -> None:
    project, _ = archive
    ledger = project / "content/runs/ledger.jsonl"
    lines = ledger.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["sealed_at"] = "2020-01-01T00:00:00Z"
    lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    ledger.write_text("\n".join(lines) + "\n")
    found = _problems(project)
    assert any(f.startswith("content/runs/ledger.jsonl:2:") and "sealed_at goes backwards" in f for f in found), found
    assert any("far from the run's finished_at" in f and "not marked back-filled" in f for f in found), found


def test_old_records_without_recorded_at_still_load(archive: tuple[Path, list[str]]) -> None:
    project, runs = archive
    assert "recorded_at" not in _record(project, runs[0]).read_text()
    assert read_record(find_run(project, runs[0])).sealed is not None


def test_unknown_and_bad_recorded_at_are_errors(archive: tuple[Path, list[str]]) -> None:
    project, runs = archive
    path = _record(project, runs[2])
    edit_text(path, "status: done\n", "status: done\n    recorded_at: yesterday\n")
    with pytest.raises(SourceError, match="'recorded_at' not an ISO 8601 UTC time"):
        read_record(find_run(project, runs[2]))


# --- verify never blesses what it did not check -----------------------------------------------------------------


def test_verify_a_folder_that_is_not_a_project_or_has_no_runs_fails(tmp_path: Path,
                                                                   run_cli: Callable[..., Any]) -> None:
    empty = tmp_path / "not-a-project"
    empty.mkdir()
    result = run_cli("verify", empty)
    assert result.exit_code == 1 and "not a launchbook project" in result.stdout
    assert "no problems" not in result.stdout
    (empty / "content").mkdir()
    result = run_cli("verify", empty, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["results"][0]["problems"]
    assert problems[0]["message"] == "no run records and no ledger: nothing to verify"
    assert problems[0]["severity"] == "error" and problems[0]["line"] is None


def test_verify_json_problems_carry_path_line_and_severity(archive: tuple[Path, list[str]],
                                                           run_cli: Callable[..., Any]) -> None:
    project, _ = archive
    ledger = project / "content/runs/ledger.jsonl"
    ledger.write_text(ledger.read_text() + "{broken\n")
    problems = json.loads(run_cli("verify", project, "--json").stdout)["results"][0]["problems"]
    broken = next(p for p in problems if "unreadable ledger line" in p["message"])
    assert broken == {**broken, "where": "content/runs/ledger.jsonl:3", "path": "content/runs/ledger.jsonl",
                      "line": 3, "severity": "error", "run": None}


def _rewrite_member(bundle: Path, member: str, data: bytes | None) -> None:
    with zipfile.ZipFile(bundle) as source:
        contents = {name: source.read(name) for name in source.namelist()}
    name = next(n for n in contents if n.endswith("/" + member))
    if data is None:
        del contents[name]
    else:
        contents[name] = data
    with zipfile.ZipFile(bundle, "w") as target:
        for key, value in contents.items():
            target.writestr(key, value)


@pytest.mark.parametrize(("member", "data", "message"), [
    ("MANIFEST.json", b"{not json", "MANIFEST.json: unreadable JSON"),
    ("MANIFEST.json", b"[1, 2]", "MANIFEST.json: must hold a JSON object"),
    ("MANIFEST.json", b'{"files": ["a"]}', "MANIFEST.json: 'files' must map"),
    ("MANIFEST.json", None, "no MANIFEST.json in the bundle"),
    ("statement.intoto.json", b"\xff\xfe", "statement.intoto.json: unreadable JSON"),
    ("ledger-entry.json", b'{"entry": {}, "leaf_index": "x", "inclusion_proof": ["zz"]}', "inclusion proof does not"),
])
def test_a_damaged_bundle_is_a_problem_not_a_traceback(archive: tuple[Path, list[str]], tmp_path: Path,
                                                       signing_key: Any, member: str, data: bytes | None,
                                                       message: str) -> None:
    project, runs = archive
    make_checkpoint(project, str(signing_key.pkcs12))
    bundle, _ = create_bundle(project, runs[0], tmp_path / "b.zip")
    _rewrite_member(bundle, member, data)
    result = _cli("verify", bundle, "--trust", signing_key.certificate, "--json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    problems = json.loads(result.stdout)["results"][0]["problems"]
    assert any(message in p for p in problems), problems


def test_a_report_alone_is_not_a_pass(archive: tuple[Path, list[str]], tmp_path: Path, signing_key: Any) -> None:
    project, runs = archive
    pdf = project / f"content/runs/deploy/{runs[0]}.pdf"
    inside = _cli("verify", pdf, "--trust", signing_key.certificate, "-C", project)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert "matches the archived record" in inside.stdout
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(pdf, alone / "report.pdf")
    result = _cli("verify", alone / "report.pdf", "--trust", signing_key.certificate)
    assert result.returncode == 1, result.stdout
    assert "NOT compared" in result.stdout and "embedded record not compared" in result.stdout


# --- closing is one recoverable transaction ----------------------------------------------------------------------


@pytest.mark.parametrize("point", ["close-after-pdf", "close-after-record"])
def test_a_close_killed_midway_is_named_and_resumed(archive: tuple[Path, list[str]], signing_key: Any,
                                                    point: str) -> None:
    project, runs = archive
    run_id = runs[2]
    killed = _cli("run", "close", run_id, "--key", signing_key.pkcs12, "-C", project,
                  env={"LAUNCHBOOK_TEST_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert (project / f"content/runs/deploy/{run_id}.pdf").exists()
    verify = _cli("verify", project, "--trust", signing_key.certificate, "--json")
    assert verify.returncode == 1
    data = json.loads(verify.stdout)["results"][0]
    state = next(r for r in data["runs"] if r["run"] == run_id)
    assert state["status"] == "half-closed", state
    assert any("half-closed" in p["message"] for p in data["problems"])
    text = _cli("verify", project, "--trust", signing_key.certificate).stdout
    assert f"Half-closed (interrupted `run close`): {run_id}" in text and "no problems" not in text
    resumed = _cli("run", "close", run_id, "--key", signing_key.pkcs12, "-C", project)
    assert resumed.returncode == 0, resumed.stderr
    after = _cli("verify", project, "--trust", signing_key.certificate)
    assert after.returncode == 0, after.stdout
    lines = (project / "content/runs/ledger.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == runs


def test_a_half_closed_run_is_rolled_back_when_the_ledger_moved_on(archive: tuple[Path, list[str]],
                                                                   signing_key: Any) -> None:
    project, runs = archive
    other = _run(project, "v4")
    killed = _cli("run", "close", runs[2], "--key", signing_key.pkcs12, "-C", project,
                  env={"LAUNCHBOOK_TEST_KILL_AT": "close-after-record"})
    assert killed.returncode == -9
    assert _cli("run", "close", other, "--key", signing_key.pkcs12, "-C", project).returncode == 0
    resumed = _cli("run", "close", runs[2], "--key", signing_key.pkcs12, "-C", project)
    assert resumed.returncode == 0, resumed.stderr
    after = _cli("verify", project, "--trust", signing_key.certificate)
    assert after.returncode == 0, after.stdout
    lines = (project / "content/runs/ledger.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == [*runs[:2], other, runs[2]]


def test_a_foreign_pdf_beside_an_open_record_is_never_replaced(archive: tuple[Path, list[str]],
                                                                run_cli: Callable[..., Any], signing_key: Any) -> None:
    project, runs = archive
    foreign = project / f"content/runs/deploy/{runs[2]}.pdf"
    shutil.copyfile(project / f"content/runs/deploy/{runs[0]}.pdf", foreign)
    before = foreign.read_bytes()
    result = run_cli("run", "close", runs[2], "--key", signing_key.pkcs12, "-C", project)
    assert result.exit_code == 1 and "refusing to replace a report" in result.stderr
    assert foreign.read_bytes() == before
