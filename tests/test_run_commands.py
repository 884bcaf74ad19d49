"""`launchbook run …` commands end to end, and every bad input they must refuse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from generator.runs.store import find_run
from tests.helpers import edit_text

RunCli = Callable[..., Result]


def record_path(project: Path, run_id: str) -> Path:
    return find_run(project, run_id).path


def show(run_cli: RunCli, project: Path, run_id: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("run", "show", run_id, "--json", "-C", project)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_start_creates_record_with_snapshot(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    assert run_id == "20260301-1000-v1-0"
    path = project / "content/runs/deploy/20260301-1000-v1-0.yml"
    assert path.is_file()
    data = show(run_cli, project, run_id)
    record = data["record"]
    assert (record["release"], record["change"], record["environment"], record["operator"]) == ("v1.0", "CHG-1", "prod", "Olga")
    assert [i["id"] for i in record["snapshot"]["items"]] == ["announce", "freeze", "partners", "migrate"]
    assert record["snapshot"]["signoff_roles"] == ["Release Manager", "Security"]
    assert len(record["snapshot"]["source_sha256"]) == 64
    assert data["summary"]["outcome"] == "incomplete"


def test_second_run_same_minute_gets_a_new_id(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, _ = started
    again = run_cli("run", "start", "deploy", "--release", "v1.0", "--at", "2026-03-01T10:00:30Z", "-C", project, "--json")
    assert json.loads(again.stdout)["id"] == "20260301-1000-v1-0-2"


def test_mark_records_status_history_and_evidence(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    log = tmp_path / "smoke test.log"
    log.write_text("all green\n")
    failed = run_cli("run", "mark", run_id, "migrate", "--status", "failed", "--note", "lock timeout",
                     "--by", "Ari", "--at", "2026-03-01T11:05:00+01:00", "-C", project)
    assert failed.exit_code == 0, failed.output
    done = run_cli("run", "mark", run_id, "migrate", "--status", "done", "--by", "Ari", "--evidence", log,
                   "--evidence", "https://ci.example.com/1", "--at", "2026-03-01T10:20:00Z", "-C", project, "--json")
    assert done.exit_code == 0
    result = json.loads(done.stdout)["result"]
    assert result["status"] == "done"
    assert result["evidence"][0] == {
        "file": "evidence/smoke-test.log", "sha256": hashlib.sha256(b"all green\n").hexdigest(), "size": 10,
        "name": "smoke test.log"}  # the original name, kept beside the stored one
    assert result["evidence"][1] == {"url": "https://ci.example.com/1"}
    stored = project / "content/runs/deploy" / run_id / "evidence/smoke-test.log"
    assert stored.read_text() == "all green\n"
    record = show(run_cli, project, run_id)["record"]["results"]["migrate"]
    assert [e.pop("recorded_at") for e in record["history"]] != [""]  # back-filled with --at: marked
    assert record["history"] == [{"status": "failed", "by": "Ari", "at": "2026-03-01T10:05:00Z", "note": "lock timeout"}]


def test_default_by_is_the_operator(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert show(run_cli, project, run_id)["record"]["results"]["announce"]["by"] == "Olga"


def test_same_evidence_name_different_content_is_not_overwritten(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/out.txt").write_text("first")
    (tmp_path / "b/out.txt").write_text("second")
    run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", tmp_path / "a/out.txt", "-C", project)
    run_cli("run", "mark", run_id, "freeze", "--status", "done", "--evidence", tmp_path / "b/out.txt", "-C", project)
    folder = project / "content/runs/deploy" / run_id / "evidence"
    assert sorted(p.name for p in folder.iterdir()) == ["out-2.txt", "out.txt"]
    assert (folder / "out.txt").read_text() == "first"


def test_signoff_and_outcome_go(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    for item in ("announce", "freeze", "migrate"):
        run_cli("run", "mark", run_id, item, "--status", "done", "--by", "Ari", "-C", project)
    assert show(run_cli, project, run_id)["summary"]["outcome"] == "incomplete"
    run_cli("run", "signoff", run_id, "--role", "release manager", "--name", "Rhea", "--decision", "approve", "-C", project)
    result = run_cli("run", "signoff", run_id, "--role", "Security", "--name", "Sam", "--decision", "approve",
                     "--meaning", "approved for production", "--json", "-C", project)
    assert json.loads(result.stdout)["signoff"]["role"] == "Security"
    data = show(run_cli, project, run_id)
    assert data["summary"]["outcome"] == "go"
    assert data["record"]["signoffs"][0]["role"] == "Release Manager"  # canonical spelling
    assert data["summary"]["completion"] == 75.0  # optional item still open: 3 of 4 done


def test_show_text_and_list(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    run_cli("run", "mark", run_id, "migrate", "--status", "blocked", "--note", "DB <locked> & \"busy\"", "-C", project)
    text = run_cli("run", "show", run_id, "-C", project).stdout
    assert "Outcome: NO-GO" in text and "DB <locked> & \"busy\"" in text
    run_cli("run", "start", "deploy", "--release", "v1.1", "--at", "2026-04-01T10:00:00Z", "-C", project)
    rows = json.loads(run_cli("run", "list", "--json", "-C", project).stdout)
    assert [r["release"] for r in rows] == ["v1.1", "v1.0"]
    assert rows[1]["outcome"] == "no-go"
    unknown = run_cli("run", "list", "--checklist", "other", "--json", "-C", project)
    assert unknown.exit_code == 1 and "unknown checklist 'other'" in unknown.stderr  # a typo is not "no runs"


# ---- bad input: one clear error, exit 1, nothing changed ---------------------------------


def assert_refused(result: Result, message: str, path: Path | None = None, before: bytes | None = None) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr, result.stderr
    if path is not None:
        assert path.read_bytes() == before


def test_unknown_run_suggests(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, _ = started
    assert_refused(run_cli("run", "show", "20260301-1000-v1-1", "-C", project),
                   "unknown run '20260301-1000-v1-1'; did you mean 20260301-1000-v1-0?")


def test_unknown_item_suggests_closest(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    path = record_path(project, run_id)
    before = path.read_bytes()
    assert_refused(run_cli("run", "mark", run_id, "migrat", "--status", "done", "-C", project),
                   "unknown item 'migrat' in run '20260301-1000-v1-0'; did you mean migrate?", path, before)


def test_invalid_status_and_missing_reason(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    path = record_path(project, run_id)
    before = path.read_bytes()
    bad = run_cli("run", "mark", run_id, "migrate", "--status", "finished", "-C", project)
    assert bad.exit_code == 2 and "'finished' is not one of 'open', 'done'" in bad.stderr  # a usage error
    assert path.read_bytes() == before
    assert_refused(run_cli("run", "mark", run_id, "migrate", "--status", "skipped", "-C", project),
                   "status 'skipped' needs a note giving the reason (--note)", path, before)


def test_missing_evidence_file_changes_nothing(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    path = record_path(project, run_id)
    before = path.read_bytes()
    assert_refused(run_cli("run", "mark", run_id, "migrate", "--status", "done", "--evidence", tmp_path / "nope.png",
                           "-C", project), "evidence file not found", path, before)
    assert not (project / "content/runs/deploy" / run_id).exists()


def test_unknown_role_and_bad_decision(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    path = record_path(project, run_id)
    before = path.read_bytes()
    assert_refused(run_cli("run", "signoff", run_id, "--role", "CEO", "--name", "X", "--decision", "approve", "-C", project),
                   "unknown sign-off role 'CEO'; this checklist's roles are: Release Manager, Security", path, before)
    assert run_cli("run", "signoff", run_id, "--role", "Security", "--name", "X", "--decision", "maybe", "-C", project).exit_code == 2


def test_unknown_checklist_suggests(run_project: Path, run_cli: RunCli) -> None:
    assert_refused(run_cli("run", "start", "deplo", "--release", "1", "-C", run_project),
                   "unknown checklist 'deplo'; did you mean deploy?")


def test_bad_time(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    before = record_path(project, run_id).read_bytes()
    bad = run_cli("run", "mark", run_id, "migrate", "--status", "done", "--at", "yesterday", "-C", project)
    assert bad.exit_code == 2 and "'yesterday' is not an ISO 8601 time with a timezone" in bad.stderr  # usage error
    assert record_path(project, run_id).read_bytes() == before
    bad = run_cli("serve", "-a", "localhost:99999", "-C", project)
    assert bad.exit_code == 2 and "expected HOST:PORT" in bad.stderr


def test_hand_edited_record_errors_name_the_line(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    run_cli("run", "mark", run_id, "migrate", "--status", "done", "--evidence", "https://x.example/1", "-C", project)
    path = record_path(project, run_id)
    original = path.read_text()
    lines = original.split("\n")

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, start=1) if text in line)

    cases = [
        ("status: done", "status: finished", "invalid status 'finished'", line_of("status: done")),
        ("status: done", "status: failed", "status 'failed' needs a note", line_of("status: done")),
        ("- url: https://x.example/1", "- file: ../../../etc/passwd\n      sha256: " + "a" * 64 + "\n      size: 1",
         "evidence path '../../../etc/passwd' escapes the run's evidence folder", line_of("- url:")),
        ("text: Run the migration", "text: Run the migration now", "snapshot does not match its stated hash",
         line_of("snapshot_sha256:")),
        ("release: v1.0", "release: [v1.0", "invalid YAML", None),
    ]
    for old, new, message, line in cases:
        path.write_text(original.replace(old, new, 1))
        result = run_cli("run", "show", run_id, "-C", project)
        assert result.exit_code == 1, (old, result.output)
        expected = f"content/runs/deploy/{run_id}.yml:{line}: " if line else f"content/runs/deploy/{run_id}.yml:"
        assert expected in result.stderr and message in result.stderr, result.stderr
        broken = path.read_bytes()
        assert run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project).exit_code == 1
        assert path.read_bytes() == broken  # a broken record is never rewritten
    path.write_text(original)


def test_closed_run_never_changes(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    path = record_path(project, run_id)
    edit_text(path, "finished_at: ''", "finished_at: '2026-03-01T12:00:00Z'")
    before = path.read_bytes()
    assert_refused(run_cli("run", "mark", run_id, "migrate", "--status", "done", "-C", project),
                   "is closed; a closed run never changes", path, before)
