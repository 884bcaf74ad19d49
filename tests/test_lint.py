"""`launchbook lint`: one problem per rule with file:line and code; `--fix` repairs in place."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from generator.sources.checklist import parse_document
from tests.helpers import CONTENT

RunCli = Callable[..., Result]

BROKEN = {
    "content/index.md": "# Home\n\nSee [deploy](ops/deploy.md#no-such-item) and [gone](ops/missing.md).\n",
    "content/ops/deploy.md": (
        "---\ntitle: Deploy\nowner: ops\ncolour: red\n---\n"  # LB302 on line 4
        "# Deploy\n\n"
        "## Before\n\n"
        "- [ ] Announce the window\n"  # line 10
        "- [ ] Announce the window\n"  # LB202 line 11
        "- [ ] \n"  # LB201 line 12
        "- [ ] **Database**\n"  # LB204 line 13
        "  - [ ] Back up\n"
        "- [ ] Ship it {#bad/id}\n"
        "\n## Sign-off\n\nEveryone nods.\n"
    ),
    "content/ops/export.md": (
        "\\# Exported\n\n\\- \\[ \\] First\n\\- \\[ \\] Second\n\\- \\[ \\] Third\n"
        "&nbsp;&nbsp;- [ ] Nested\n- [ ] Caf\u00c3\u00a9 opens\n"
    ),
}


def codes(result: Result) -> list[str]:
    return [p["code"] for p in json.loads(result.stdout)["problems"]]


def test_every_rule_is_reported_with_file_line_and_code(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project(BROKEN)
    deploy = project / "content/ops/deploy.md"
    result = run_cli("lint", "-C", project)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    expected = [
        "content/index.md:3: LB301 broken-link: broken link: ops/deploy.md#no-such-item (no such anchor on that page)",
        "content/index.md:3: LB301 broken-link: broken link: ops/missing.md (no such page or file)",  # as written
        "content/ops/deploy.md:4: LB302 unknown-key: unknown front matter key 'colour'",
        "content/ops/deploy.md:11: LB202 duplicate-item: item 'Announce the window' appears twice in Before "
        "(first on line 10)",
        "content/ops/deploy.md:12: LB201 empty-item: empty checklist item (a checkbox with no text is not an item at all)",
    ]
    for line in expected:
        assert line in lines, result.stdout
    assert any(line.startswith("content/ops/deploy.md:13: LB204 heading-item: item 'Database'") for line in lines)
    assert any(line.startswith("content/ops/deploy.md:15: LB203 bad-id: '{#bad/id}' is not a valid item ID")
               for line in lines)
    assert any(line.startswith("content/ops/deploy.md:17: LB401 signoff-without-roles") for line in lines)
    export = [line for line in lines if line.startswith("content/ops/export.md")]
    assert [line.split(": ")[1].split()[0] for line in export] == ["LB103", "LB104", "LB105"]
    assert all(line.endswith("[--fix]") for line in export)
    assert "problems in 3 files (3 fixable with --fix)" in result.stderr

    # A duplicate explicit ID stops the parse: one LB203 problem, and lint still exits 1 (no crash).
    deploy.write_text(deploy.read_text().replace("{#bad/id}", "{#ship}").replace("Back up", "Back up {#ship}"))
    result = run_cli("lint", "-C", project, deploy, "--json")
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["problems"]
    assert (problem["code"], problem["line"], problem["path"]) == ("LB203", 15, "content/ops/deploy.md")
    assert problem["message"] == "duplicate item ID 'ship' (first used on line 14)"


def test_fix_repairs_keeps_a_backup_and_is_idempotent(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project({"content/ops/export.md": BROKEN["content/ops/export.md"]})
    source = project / "content/ops/export.md"
    (project / "content/crlf.md").write_bytes(b"\xef\xbb\xbf# CRLF\r\n\r\n- [ ] One\r\n- [ ] Two\r\n")
    original = source.read_bytes()
    source.chmod(0o640)
    before = run_cli("lint", "-C", project, "--json")
    assert sorted(codes(before)) == ["LB101", "LB102", "LB103", "LB104", "LB105"]

    fixed = run_cli("lint", "-C", project, "--fix")
    assert fixed.exit_code == 0, fixed.stdout
    assert "fixed content/ops/export.md (original kept as" in fixed.stdout
    assert source.with_name("export.md.bak").read_bytes() == original
    assert source.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert source.read_text() == "# Exported\n\n- [ ] First\n- [ ] Second\n- [ ] Third\n  - [ ] Nested\n- [ ] Café opens\n"
    assert (project / "content/crlf.md").read_bytes() == b"# CRLF\n\n- [ ] One\n- [ ] Two\n"

    snapshot = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    again = run_cli("lint", "-C", project, "--fix", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["fixed"] == []
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == snapshot


def test_fix_of_a_damaged_seed_keeps_every_item_id(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "p"
    shutil.copytree(CONTENT, project / "content", ignore=shutil.ignore_patterns("runs"))
    target = project / "content/launches/planner-app.md"
    ids = [i.id for i in parse_document(target.read_bytes(), "x", "launches/planner-app.md").items]
    result = run_cli("lint", "-C", project, "--fix", "--no-backup", target)
    assert "fixed content/launches/planner-app.md" in result.stdout
    assert not target.with_name("planner-app.md.bak").exists()
    repaired = parse_document(target.read_bytes(), "x", "launches/planner-app.md")
    assert [i.id for i in repaired.items] == ids and not repaired.warnings


def test_clean_sources_pass(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project({"content/index.md": "# Home\n\nSee [ship](ops/deploy.md#ship).\n",
                             "content/ops/deploy.md": "# Deploy\n\n## Steps\n\n- [ ] Ship {#ship}\n"})
    result = run_cli("lint", "-C", project, "--json")
    assert json.loads(result.stdout)["problems"] == [] and result.exit_code == 0


def test_a_missing_path_is_a_usage_error(small_site: Path, run_cli: RunCli) -> None:
    result = run_cli("lint", "-C", small_site, "nope.md")
    assert result.exit_code != 0 and "no such file or folder: nope.md" in result.output


def test_a_broken_cache_folder_is_said_once_and_the_sources_are_still_linted(write_project: Callable[..., Path],
                                                                             run_cli: RunCli, tmp_path: Path) -> None:
    """A .launchbook-cache that is a link made every source "unreadable" (the same line once per
    file) and hid their real problems."""
    pages = {f"content/p{n}.md": f"# Page {n}\n\n- [ ] one\n" for n in range(5)}
    project = write_project({**pages, "content/bad.md": "---\ntitle: [bad\n---\n# Bad\n"})
    (project / ".launchbook-cache").symlink_to(tmp_path, target_is_directory=True)
    result = run_cli("lint", "-C", project)
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert sum(".launchbook-cache" in line for line in lines) == 1
    assert lines[0].startswith(".launchbook-cache: LB001 unreadable: is a link or a file")
    assert any(line.startswith("content/bad.md:2: LB001") and "invalid YAML front matter" in line for line in lines)
    assert not any(line.startswith("content/p") for line in lines)
