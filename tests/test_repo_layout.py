"""The site builds on a real repository layout: path IDs, dot-folders, `---` rules, nested run records."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import generator.sources.scan as scan_module
from generator.sources.frontmatter import split_front_matter
from generator.sources.ids import document_id
from tests.helpers import parse

RunCli = Callable[..., Result]
AT = "2026-03-01T10:00:00Z"


def _start(run_cli: RunCli, project: Path, checklist: str) -> str:
    result = run_cli("run", "start", checklist, "--release", "v1", "--at", AT, "-C", project)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _html_ids(output: Path) -> set[str]:
    found = set()
    for page in output.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        marker = 'data-checklist="'
        if marker in text:
            found.add(text.split(marker, 1)[1].split('"', 1)[0])
    return found


def test_path_ids_slugged_per_segment() -> None:
    assert document_id("payments/go-live.md") == "payments/go-live"
    assert document_id("Payments/Go Live.md") == "payments/go-live"
    assert document_id(".github/PULL_REQUEST_TEMPLATE.md") == "github/pull-request-template"
    assert parse("- [ ] x\n", "team-a/README.md").id == "team-a/readme"
    assert parse("---\nid: gate\n---\n- [ ] x\n", "team-a/README.md").id == "gate"


def test_same_named_files_in_many_folders_build(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    files = {f"content/{team}/{name}": "- [ ] ship it\n" for team in ("api", "web", "ios") for name in
             ("README.md", "release.md")}
    project = write_project(files)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    assert _html_ids(project / "output") == {f"{t}/{n}" for t in ("api", "web", "ios") for n in ("readme", "release")}


def test_every_remaining_collision_is_reported_at_once(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({
        "content/a.md": "---\nid: gate\n---\n- [ ] x\n", "content/b.md": "---\nid: gate\n---\n- [ ] y\n",
        "content/c.md": "---\nid: drill\n---\n- [ ] x\n", "content/d.md": "---\nid: drill\n---\n- [ ] y\n",
        "content/ops/Go Live.md": "- [ ] x\n", "content/ops/go-live.md": "- [ ] y\n",
    })
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert "content/b.md:1: checklist ID 'gate' is already used by content/a.md" in result.stderr
    assert "content/d.md:1: checklist ID 'drill' is already used by content/c.md" in result.stderr
    assert "checklist ID 'ops/go-live' is already used by" in result.stderr
    assert "Traceback" not in result.output


def test_nested_checklist_runs_live_under_its_path(write_project, run_cli: RunCli,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    project = write_project({"content/payments/go-live.md": "# Go live\n\n- [ ] Smoke test\n- [ ] Rollback\n",
                             "content/web/go-live.md": "# Web\n\n- [ ] Deploy\n"})
    run_id = _start(run_cli, project, "payments/go-live")
    record = project / "content/runs/payments/go-live" / f"{run_id}.yml"
    assert record.is_file()
    evidence = tmp_path / "config.yml"  # evidence named like a record must not be taken for one
    evidence.write_text("launchbook_run: 1\n")
    item = "smoke-test-" + next(line.split("smoke-test-")[1].split()[0].strip("'\"")
                                for line in record.read_text().splitlines() if "smoke-test-" in line)
    marked = run_cli("run", "mark", run_id, item, "--status", "done", "--evidence", evidence, "--at", AT, "-C", project)
    assert marked.exit_code == 0, marked.output
    (project / "content/runs/ledger.jsonl").write_text("")
    listed = run_cli("run", "list", "--checklist", "payments/go-live", "--json", "-C", project)
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [run_id]
    built = run_cli("build", "-C", project, "--json")
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["warnings"] == []
    page = project / "output/runs/payments/go-live" / f"{run_id}.html"
    assert page.is_file()
    assert "../../../payments/go-live.html" in page.read_text(encoding="utf-8")
    assert (project / "output/runs/payments/go-live" / run_id / "evidence").is_dir()


def test_run_list_filters_by_the_whole_path(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/a/go-live.md": "- [ ] x\n", "content/b/go-live.md": "- [ ] y\n"})
    _start(run_cli, project, "a/go-live")
    listed = run_cli("run", "list", "--checklist", "b/go-live", "--json", "-C", project)
    assert json.loads(listed.stdout) == []


def test_record_in_another_checklists_folder_is_an_error(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/a/go-live.md": "- [ ] x\n", "content/b/go-live.md": "- [ ] y\n"})
    run_id = _start(run_cli, project, "a/go-live")
    moved = project / "content/runs/b/go-live"
    moved.mkdir(parents=True)
    (project / "content/runs/a/go-live" / f"{run_id}.yml").rename(moved / f"{run_id}.yml")
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert (f"content/runs/b/go-live/{run_id}.yml:1: record of checklist 'a/go-live' is in runs/b/go-live/"
            in result.stderr)


def test_lookup_by_id_parses_one_file(write_project, run_cli: RunCli,  # type: ignore[no-untyped-def]
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files: dict[str, str | bytes] = {f"content/team-{n}/page-{n}.md": f"---\ntitle: P{n}\nid: p-{n}\n---\n- [ ] x\n"
                                     for n in range(40)}
    files["content/ops/deploy.md"] = "---\nowner: SRE\n---\n- [ ] Deploy\n"
    files["content/broken-body.md"] = b"---\ntitle: x\n---\n- [ ] \xff\xfe broken bytes\n"
    project = write_project(files)
    calls: list[str] = []
    real = scan_module.parse_document

    def counting(data: bytes, source: str, rel: str) -> Any:
        calls.append(rel)
        return real(data, source, rel)

    monkeypatch.setattr(scan_module, "parse_document", counting)
    _start(run_cli, project, "ops/deploy")
    assert calls == ["ops/deploy.md"]
    calls.clear()
    _start(run_cli, project, "p-7")
    assert calls == ["team-7/page-7.md"]
    calls.clear()  # an unknown ID is answered with suggestions, still without parsing the whole site
    result = run_cli("run", "start", "team-7/page-7", "--release", "v1", "-C", project)
    assert result.exit_code == 1 and "did you mean p-7" in result.stderr, result.output
    assert len(calls) <= 3, calls


def test_lookup_is_case_sensitive_and_refuses_a_claimed_twice_id(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    wrong_case = run_cli("run", "start", "Ops/Deploy", "--release", "v1", "-C",
                         write_project({"content/ops/deploy.md": "- [ ] x\n"}))
    assert wrong_case.exit_code == 1
    assert "unknown checklist 'Ops/Deploy'; did you mean ops/deploy?" in wrong_case.stderr
    project = write_project({"content/ops/deploy.md": "- [ ] x\n", "content/x.md": "---\nid: gate\n---\n- [ ] y\n",
                             "content/y.md": "---\nid: gate\n---\n- [ ] z\n"})
    twice = run_cli("run", "start", "gate", "--release", "v1", "-C", project)
    assert twice.exit_code == 1
    assert "content/y.md:1: checklist ID 'gate' is already used by content/x.md" in twice.stderr


def test_old_flat_records_are_named_with_the_fix(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    """Records made before IDs became paths (runs/deploy/ for content/ops/deploy.md) are not lost silently."""
    project = write_project({"content/ops/deploy.md": "---\nid: deploy\n---\n- [ ] Deploy\n"})
    run_id = _start(run_cli, project, "deploy")
    source = project / "content/ops/deploy.md"
    source.write_text("- [ ] Deploy\n")  # what an upgrading user has: no id, so the ID is now ops/deploy
    result = run_cli("build", "-C", project, "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert warnings == [(f"content/ops/deploy.md:1: checklist ID is now 'ops/deploy' (IDs default to the path), but 1 "
                        f"run record names it 'deploy' (content/runs/deploy/{run_id}.yml); add 'id: deploy' to its "
                        "front matter to keep them its history")]
    assert run_cli("build", "-C", project, "--strict").exit_code == 1
    source.write_text("---\nid: deploy\n---\n- [ ] Deploy\n")
    fixed = run_cli("build", "-C", project, "--json")
    assert json.loads(fixed.stdout)["warnings"] == []
    assert run_id in (project / "output/ops/deploy.html").read_text(encoding="utf-8")


ISSUE_TEMPLATE = """\
---
name: Bug report
about: Create a report to help us improve
title: "[BUG] "
labels: bug, triage
assignees: [octocat]
---
## Checks

- [ ] I searched existing issues
"""


def _repo(write_project: Any, site_yml: str = "") -> Path:
    files: dict[str, str | bytes] = {
        "content/.github/PULL_REQUEST_TEMPLATE.md": "## Checklist\n\n- [ ] Tests pass\n- [ ] Docs updated\n",
        "content/.github/ISSUE_TEMPLATE/bug_report.md": ISSUE_TEMPLATE,
        "content/.gitlab/merge_request_templates/release.md": "- [ ] Changelog\n",
        "content/.git/HEAD.md": "- [ ] not a checklist\n",
        "content/node_modules/pkg/README.md": "- [ ] not ours\n",
        "content/docs/vendor/lib/CHANGELOG.md": "- [ ] not ours either\n",
        "content/_drafts/idea.md": "- [ ] later\n",
        "content/docs/release.md": "- [ ] Tag\n",
    }
    if site_yml:
        files["content/site.yml"] = site_yml
    return write_project(files)  # type: ignore[no-any-return]


def test_dot_folders_are_checklists_and_skips_are_listed(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = _repo(write_project)
    result = run_cli("build", "-C", project, "--strict")
    assert result.exit_code == 0, result.output
    assert _html_ids(project / "output") == {"github/pull-request-template", "github/issue-template/bug-report",
                                             "gitlab/merge-request-templates/release", "docs/release"}
    bug = (project / "output/.github/ISSUE_TEMPLATE/bug_report.html").read_text(encoding="utf-8")
    assert "Bug report" in bug and "[BUG]" not in bug
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert notes == [("note: content: skipped .git/, _drafts/, docs/vendor/, node_modules/ (site.yml 'include'/"
                     "'exclude' decide; names starting with . or _ are skipped unless included)")]
    again = run_cli("build", "-C", project, "--json")  # up to date: still said, and not a warning
    assert json.loads(again.stdout)["skipped"] is True
    assert json.loads(again.stdout)["notes"] == [notes[0].removeprefix("note: ")]
    assert json.loads(again.stdout)["warnings"] == []


def test_include_and_exclude_settings(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = _repo(write_project, "include: ['_drafts/**', 'node_modules/pkg/**']\nexclude: ['docs/**']\n")
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    # include replaces the default include; exclude adds to the default excludes; an include beats a default exclude
    assert _html_ids(project / "output") == {"drafts/idea", "node-modules/pkg/readme"}
    assert "skipped .git/, .github/, .gitlab/, docs/ (" in result.stderr
    bad = _repo(write_project, "include: ['../outside/**', '/abs']\n")
    refused = run_cli("build", "-C", bad)
    assert refused.exit_code == 1
    assert "'include': '../outside/**' must not contain empty, '.' or '..' parts" in refused.stderr
    assert "'/abs' must be a content-relative glob" in refused.stderr


def test_issue_template_keys_are_known() -> None:
    front, _, _ = split_front_matter(ISSUE_TEMPLATE, "content/bug.md")
    assert front.warnings == ()
    assert (front.title, front.description, front.labels, front.assignees) == (
        "Bug report", "Create a report to help us improve", ("bug, triage",), ("octocat",))


@pytest.mark.parametrize("text", [
    "---\nFoo\n---\n- [ ] x\n",  # CommonMark example 96: a rule and a setext heading
    "---\n# Heading\n---\n- [ ] x\n",  # YAML would take the heading for a comment
    "---\n- [ ] x\n---\n",  # a task list between two rules
    "---\n\nIntro text\n\n- [ ] x\n",  # a rule at the top that is never "closed"
])
def test_dash_block_that_is_not_a_mapping_is_markdown(text: str) -> None:
    document = parse(text)
    assert document.kind == "checklist"
    assert document.warnings == ()


def test_example_96_renders_a_rule_and_a_heading(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/notes.md": "---\nFoo\n---\n\nText.\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    html = (project / "output/notes.html").read_text(encoding="utf-8")
    assert "<hr />" in html and '<h2 id="foo">Foo<' in html


@pytest.mark.parametrize(("text", "message"), [
    ("---\ntitle: [unclosed\n---\n- [ ] x\n", "invalid YAML front matter"),
    ("---\ntitle: x\n\n# Body\n", "front matter starts with '---' but never ends"),
])
def test_broken_front_matter_is_still_an_error(text: str, message: str) -> None:
    from generator.core.errors import SourceError

    with pytest.raises(SourceError, match=message):
        parse(text)
