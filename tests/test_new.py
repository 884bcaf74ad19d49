"""`launchbook new` in an existing folder: a real project (checklists under content/, records under
content/runs/) gets only the missing skeleton files, never the example page, checklist or run, and
is told what was kept and what was added; a new or pages-only folder gets the examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

RunCli = Callable[..., Result]
SKELETON = {"content/site.yml", "themes/custom/README.md", "themes/custom/templates/.keep",
            "themes/custom/assets/.keep", ".gitignore"}
EXAMPLES = {"content/index.md", "content/checklists/release.md"}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def new_json(run_cli: RunCli, project: Path) -> dict[str, object]:
    result = run_cli("new", project, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_new_folder_gets_the_examples(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "fresh"
    result = run_cli("new", project)
    assert result.exit_code == 0, result.output
    assert "not added" not in result.output
    made = files(project)
    assert SKELETON | EXAMPLES <= set(made)
    assert [rel for rel in made if rel.startswith("content/runs/release/") and rel.endswith(".yml")]
    assert "  - checklists" in made["content/site.yml"].decode()


def test_a_project_with_checklists_gets_only_the_missing_skeleton(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "ops"
    (project / "content/platform").mkdir(parents=True)
    (project / "content/platform/deploy.md").write_text("# Deploy\n\n- [ ] Ship it\n- [x] Tag it\n")
    (project / "content/site.yml").write_text("title: Our runbooks\n")
    before = files(project)
    data = new_json(run_cli, project)
    assert data["existing_project"] is True
    assert data["found"] == ["content/platform/deploy.md is a checklist"]
    assert set(data["created"]) == SKELETON - {"content/site.yml"}  # type: ignore[arg-type]
    assert data["kept"] == ["content/site.yml"]
    assert data["not_added"] == ["content/index.md", "content/checklists/release.md", "content/runs/release/"]
    after = files(project)
    assert {rel: after[rel] for rel in before} == before  # nothing of theirs changed
    assert not any(rel.startswith("content/") and rel not in before for rel in after)  # no example, no run
    built = run_cli("build", "-C", project, "--strict", "--json")
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["checklists"] == 1


def test_says_in_words_what_it_kept_and_what_it_added(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "ops"
    (project / "content").mkdir(parents=True)
    (project / "content/deploy.md").write_text("# Deploy\n\n1. [ ] Ship it\n")
    (project / ".gitignore").write_text("output/\n")
    result = run_cli("new", project)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"kept    {project / '.gitignore'} (already there, not touched)" in lines
    assert f"created {project / 'content/site.yml'}" in lines
    assert (f"not added: the example page, checklist and run ({project} is already a project: "
            "content/deploy.md is a checklist)") in lines
    assert (project / ".gitignore").read_text() == "output/\n"
    site_yml = (project / "content/site.yml").read_text()
    assert "nav: []" in site_yml and "  - checklists" not in site_yml  # no nav entry for a folder it did not make


def test_an_archive_never_gains_a_sample_run(run_project: Path, run_cli: RunCli) -> None:
    started = run_cli("run", "start", "deploy", "--release", "v1", "--operator", "Olga", "-C", run_project)
    assert started.exit_code == 0, started.output
    runs_before = files(run_project / "content/runs")
    data = new_json(run_cli, run_project)
    assert data["found"] == ["content/deploy.md is a checklist", "content/runs/ holds run records"]
    assert files(run_project / "content/runs") == runs_before
    assert not (run_project / "content/checklists").exists() and not (run_project / "content/index.md").exists()


@pytest.mark.parametrize("where", ["ledger.jsonl", "deploy/20260101-0000-v1.yml", "deploy/20260101-0000-v1.pdf"])
def test_records_alone_make_a_real_project(tmp_path: Path, run_cli: RunCli, where: str) -> None:
    """The checklist was moved or deleted, but the archive is still there."""
    project = tmp_path / "archive"
    (project / "content/runs" / where).parent.mkdir(parents=True)
    (project / "content/runs" / where).write_bytes(b"{}\n")
    data = new_json(run_cli, project)
    assert data["found"] == ["content/runs/ holds run records"]
    assert not any(rel.startswith("content/") and rel != "content/site.yml" for rel in data["created"])  # type: ignore[union-attr]
    assert sorted(files(project / "content/runs")) == [where]


def test_a_checklist_in_a_hidden_folder_counts(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "repo"
    (project / "content/.github").mkdir(parents=True)
    (project / "content/.github/PULL_REQUEST_TEMPLATE.md").write_text("## Checklist\n\n* [ ] Tests added\n")
    data = new_json(run_cli, project)
    assert data["found"] == ["content/.github/PULL_REQUEST_TEMPLATE.md is a checklist"]
    assert "content/checklists/release.md" in data["not_added"]  # type: ignore[operator]


def test_pages_alone_still_get_the_examples(tmp_path: Path, run_cli: RunCli) -> None:
    """Plain pages, no checklist and no records yet: not an archive, so the examples help."""
    project = tmp_path / "docs"
    (project / "content").mkdir(parents=True)
    (project / "content/about.md").write_text("# About\n\nWe run things.\n")
    (project / "content/runs").mkdir()
    (project / "content/runs/.deploy.lock").write_text("")  # a lock file left behind is not a record
    data = new_json(run_cli, project)
    assert data["existing_project"] is False and data["found"] == [] and data["not_added"] == []
    assert "content/checklists/release.md" in data["created"]  # type: ignore[operator]


def test_running_new_twice_adds_nothing(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "site"
    assert run_cli("new", project).exit_code == 0
    before = files(project)
    again = run_cli("new", project)
    assert again.exit_code == 0, again.output
    assert "Nothing to add: every skeleton file is already there." in again.output
    assert "created" not in again.output
    assert files(project) == before
    data = new_json(run_cli, project)
    assert data["created"] == [] and data["not_added"] == []
    assert SKELETON | EXAMPLES | {"content/runs/release/"} == set(data["kept"])  # type: ignore[arg-type]
