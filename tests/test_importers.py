"""Both importers: a ticked Markdown copy becomes a run; JUnit XML feeds a run."""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

RunCli = Callable[..., Result]

FILLED = """\
# Deploy the API

## Before

- [x] Announce the window
- [ ] Freeze merges — failed: merge queue still had 3 PRs
- [~] Notify partners (optional)
  - Note: no partner-facing change in this release
- [x] Page the on-call DBA

## During

- [x] Run the migration

## Sign-off

| Role | Name | Signature | Date |
|------|------|-----------|------|
| Release Manager | Rhea Stone | RS | 2026-03-02 |
| Security | Sam Ode (rejected: pen test pending) | | 2026-03-02 |
"""


def test_import_ticked_copy(run_project: Path, run_cli: RunCli, tmp_path: Path) -> None:
    filled = tmp_path / "filled.md"
    filled.write_text(FILLED)
    result = run_cli("run", "import", filled, "--checklist", "deploy", "--release", "v2.0", "--operator", "Olga",
                     "--at", "2026-03-02T09:00:00Z", "-C", run_project, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unmatched"] == [f"{filled}:9: Page the on-call DBA"]
    shown = json.loads(run_cli("run", "show", data["id"], "--json", "-C", run_project).stdout)
    results = shown["record"]["results"]
    assert results["announce"]["status"] == "done"
    assert (results["freeze"]["status"], results["freeze"]["note"]) == ("failed", "merge queue still had 3 PRs")
    assert (results["partners"]["status"], results["partners"]["note"]) == ("na", "no partner-facing change in this release")
    assert results["migrate"]["status"] == "done"
    signoffs = shown["record"]["signoffs"]
    assert [(s["role"], s["name"], s["decision"], s["at"], s.get("comment")) for s in signoffs] == [
        ("Release Manager", "Rhea Stone", "approve", "2026-03-02T00:00:00Z", None),
        ("Security", "Sam Ode", "reject", "2026-03-02T00:00:00Z", "rejected: pen test pending"),
    ]
    assert shown["summary"]["outcome"] == "no-go"


def test_import_signoff_lines_and_unreasoned_na(write_project: Callable[..., Path], run_cli: RunCli, tmp_path: Path) -> None:
    project = write_project({"content/gate.md": """
        # Gate

        - [ ] Tests green
        - [ ] Docs updated

        ## Sign-Off

        - [ ] **Technical Lead:** ________ Date: ____
    """})
    filled = tmp_path / "gate-filled.md"
    filled.write_text(textwrap.dedent("""\
        # Gate

        - [x] Tests green
        - [~] Docs updated

        ## Sign-Off

        - [x] **Technical Lead:** Chen Wei Date: 2026-05-01
    """))
    result = run_cli("run", "import", filled, "--checklist", "gate", "--release", "r1", "-C", project, "--json")
    data = json.loads(result.stdout)
    assert data["unmatched"] == []
    assert data["warnings"] == [f"{filled}:4: na without a reason: Docs updated"]
    shown = json.loads(run_cli("run", "show", data["id"], "--json", "-C", project).stdout)
    assert shown["record"]["signoffs"][0]["name"] == "Chen Wei"
    assert shown["record"]["signoffs"][0]["at"] == "2026-05-01T00:00:00Z"
    assert shown["summary"]["outcome"] == "go"


JUNIT = """<?xml version="1.0"?>
<testsuites>
  <testsuite name="gate">
    <testcase classname="gate.db" name="test_migration">
      <properties><property name="checklist-item" value="migrate"/></properties>
    </testcase>
    <testcase classname="gate.comms" name="test_announcement_sent"/>
    <testcase classname="gate.comms" name="test_freeze_enforced"><failure message="main branch still writable"/></testcase>
    <testcase classname="gate.comms" name="test_partner_webhook"><skipped message="partner sandbox down"/></testcase>
    <testcase classname="gate.misc" name="test_unrelated"/>
    <testcase classname="gate.misc" name="test_ghost"><properties><property name="checklist-item" value="ghost"/></properties></testcase>
  </testsuite>
</testsuites>
"""


def test_import_junit(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    (project / "content/site.yml").write_text(
        "junit:\n  gate.comms.test_announcement_*: announce\n  test_freeze_enforced: freeze\n"
        "  gate.comms::test_partner_webhook: partners\n")
    xml = tmp_path / "results.xml"
    xml.write_text(JUNIT)
    result = run_cli("run", "import-junit", run_id, xml, "--at", "2026-03-01T11:00:00Z", "-C", project, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["applied"] == {"announce": "done", "freeze": "failed", "migrate": "done", "partners": "skipped"}
    assert data["unmapped"] == ["gate.misc.test_unrelated"]
    assert data["unknown_items"] == ["ghost"]
    results = json.loads(run_cli("run", "show", run_id, "--json", "-C", project).stdout)["record"]["results"]
    assert results["freeze"]["note"] == "gate.comms.test_freeze_enforced: main branch still writable"
    assert results["partners"]["note"] == "partner sandbox down"
    assert results["migrate"]["by"] == "CI"
    evidence = results["migrate"]["evidence"][0]
    assert evidence == {"file": "evidence/results.xml", "sha256": hashlib.sha256(JUNIT.encode()).hexdigest(),
                        "size": len(JUNIT.encode())}
    assert (project / "content/runs/deploy" / run_id / "evidence/results.xml").read_text() == JUNIT


def test_junit_that_maps_nothing_is_refused(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    xml = tmp_path / "other.xml"
    xml.write_text('<testsuite name="x"><testcase classname="a" name="b"/></testsuite>')
    before = (project / "content/runs/deploy" / f"{run_id}.yml").read_bytes()
    result = run_cli("run", "import-junit", run_id, xml, "-C", project)
    assert result.exit_code == 1
    assert "no test case in other.xml maps to an item" in result.stderr
    assert (project / "content/runs/deploy" / f"{run_id}.yml").read_bytes() == before
    assert not (project / "content/runs/deploy" / run_id).exists()
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuite><testcase")
    result = run_cli("run", "import-junit", run_id, broken, "-C", project)
    assert result.exit_code == 1 and "not readable JUnit XML" in result.stderr
