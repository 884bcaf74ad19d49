"""Publishing in place (issue 15): an edit touches only the files whose bytes changed, and
the output is still exactly what a clean build writes; a killed publish is completed by
the next build; a manifest that points out of the output is never acted on."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from generator.core.errors import BuildError
from generator.core.files import read_cache_bytes, store_cache_bytes
from generator.site import build, swap
from generator.site.manifest import MANIFEST
from generator.sources.cachedir import cache_dir
from tests.helpers import RUN_SITE, SMALL_SITE, edit_text
from tests.test_attacks_output import cli_process, leftovers, snapshot

RunCli = Callable[..., Result]


@pytest.fixture
def site(write_project: Callable[..., Path], run_cli: RunCli, tmp_path: Path) -> Path:
    """Pages, a checklist with a run and its evidence, an asset folder; built once."""
    project = write_project({**SMALL_SITE, **RUN_SITE, "content/img/logo.svg": "<svg/>\n"})
    started = run_cli("run", "start", "deploy", "--release", "v1", "--operator", "Olga",
                      "--at", "2026-03-01T10:00:00Z", "-C", project)
    assert started.exit_code == 0, started.output
    log = tmp_path / "smoke.log"
    log.write_text("all green\n")
    marked = run_cli("run", "mark", started.stdout.strip(), "announce", "--status", "done", "--by", "Ari",
                     "--evidence", log, "--at", "2026-03-01T10:05:00Z", "-C", project)
    assert marked.exit_code == 0, marked.output
    assert run_cli("build", "-C", project).exit_code == 0
    return project


def inodes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in root.rglob("*") if p.is_file()}


def clean_build(project: Path, run_cli: RunCli, target: Path) -> dict[str, str]:
    result = run_cli("build", "-C", project, "-o", target, "--no-cache")
    assert result.exit_code == 0, result.output
    return snapshot(target)


def clean_site(project: Path, target: Path) -> dict[str, str]:
    build.build_site(project, target, cache=False)
    return snapshot(target)


def edit_page(project: Path) -> None:
    edit_text(project / "content/guides/style.md", "Plain page, no items.", "Plain page, one item.\n\n- [ ] x\n")


def test_an_edit_replaces_only_the_changed_files_and_equals_a_clean_build(site: Path, run_cli: RunCli,
                                                                         tmp_path: Path) -> None:
    out = site / "output"
    before, numbers, folder = snapshot(out), inodes(out), out.stat().st_ino
    edit_page(site)
    result = run_cli("build", "-C", site)
    assert result.exit_code == 0, result.output
    after = snapshot(out)
    assert after == clean_build(site, run_cli, tmp_path / "fresh")
    changed = {rel for rel, digest in after.items() if before.get(rel) != digest}
    assert "guides/style.html" in changed and len(changed) < len(after) // 2
    assert {rel for rel, number in inodes(out).items() if numbers.get(rel) != number} == changed
    assert any(rel.endswith("/evidence/smoke.log") for rel in after)  # kept copies included
    assert out.stat().st_ino == folder and leftovers(site) == []


def test_a_page_rendered_again_to_the_same_bytes_is_not_replaced(site: Path, run_cli: RunCli) -> None:
    out = site / "output"
    before, numbers = snapshot(out), inodes(out)
    page = site / "content/guides/style.md"
    page.write_text(page.read_text() + "\n\n")  # a new cache key, the same HTML
    assert run_cli("build", "-C", site).exit_code == 0
    assert {rel for rel, digest in snapshot(out).items() if before.get(rel) != digest} == {MANIFEST}
    assert {rel for rel, number in inodes(out).items() if numbers.get(rel) != number} == {MANIFEST}


def test_a_removed_page_disappears_and_the_users_files_stay(site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    out = site / "output"
    (out / "CNAME").write_text("mine\n")
    (out / "img/notes.txt").write_text("also mine\n")
    (site / "content/guides/style.md").unlink()
    (site / "content/img/logo.svg").unlink()
    edit_page_free = run_cli("build", "-C", site)
    assert edit_page_free.exit_code == 0, edit_page_free.output
    assert not (out / "guides").exists()  # launchbook's folder, left empty: removed
    assert not (out / "img/logo.svg").exists() and (out / "img/notes.txt").read_text() == "also mine\n"
    assert (out / "CNAME").read_text() == "mine\n"
    mine = {"CNAME": snapshot(out)["CNAME"], "img": "dir", "img/notes.txt": snapshot(out)["img/notes.txt"]}
    assert snapshot(out) == {**clean_build(site, run_cli, tmp_path / "fresh"), **mine}
    assert leftovers(site) == []


@pytest.mark.parametrize("mine", ["file", "folder"])
def test_a_users_entry_where_a_new_page_goes_is_refused_and_nothing_changes(site: Path, run_cli: RunCli,
                                                                           mine: str) -> None:
    out = site / "output"
    if mine == "file":
        (out / "ops/new.html").write_text("my draft\n")
    else:
        (out / "ops/new.html").mkdir()
        (out / "ops/new.html/draft.txt").write_text("my draft\n")
    edit_page(site)
    (site / "content/ops/new.md").write_text("# New\n")
    before = snapshot(out)
    result = run_cli("build", "-C", site)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {out / 'ops/new.html'}: your {mine} is where this build writes the file "
                             f"ops/new.html; nothing was changed: move or rename it, or build with --clean to move "
                             f"your files aside to output.kept/\n")
    assert snapshot(out) == before and leftovers(site) == []


def test_a_file_where_launchbooks_folder_was_and_back(site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    out = site / "output"
    (site / "content/img/logo.svg").unlink()
    (site / "content/img").rmdir()
    (site / "content/img").write_text("now a file\n")
    numbers = inodes(out)
    result = run_cli("build", "-C", site)
    assert result.exit_code == 0, result.output
    assert (out / "img").read_text() == "now a file\n"
    assert snapshot(out) == clean_build(site, run_cli, tmp_path / "fresh")
    assert inodes(out)["index.html"] == numbers["index.html"]  # published in place
    (site / "content/img").unlink()
    (site / "content/img").mkdir()
    (site / "content/img/logo.svg").write_text("<svg/>\n")
    result = run_cli("build", "-C", site)
    assert result.exit_code == 0, result.output
    assert snapshot(out) == clean_build(site, run_cli, tmp_path / "fresh2")
    assert inodes(out)["index.html"] == numbers["index.html"]


def test_a_users_file_in_launchbooks_folder_where_a_file_now_goes_is_refused(site: Path, run_cli: RunCli) -> None:
    out = site / "output"
    (out / "img/notes.txt").write_text("mine\n")
    (site / "content/img/logo.svg").unlink()
    (site / "content/img").rmdir()
    (site / "content/img").write_text("now a file\n")
    before = snapshot(out)
    result = run_cli("build", "-C", site)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {out / 'img/notes.txt'}: your file is where this build writes the "
                                    "file img; nothing was changed")
    assert snapshot(out) == before and leftovers(site) == []


def test_publish_killed_between_replaces_is_completed_by_the_next_build(site: Path, run_cli: RunCli,
                                                                         tmp_path: Path) -> None:
    out = site / "output"
    (out / "CNAME").write_text("mine\n")
    edit_page(site)
    (site / "content/ops/new.md").write_text("# New\n")  # more than one staged file
    manifest = (out / MANIFEST).read_bytes()
    killed = cli_process("build", "-C", site, env={swap.KILL_HOOK: "between-replaces"})
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    plan = json.loads((site / ".output.swap.json").read_text())  # half published: the journal tells the rest
    assert len(plan["replace"]) > 1 and (out / MANIFEST).read_bytes() == manifest  # the manifest goes in last
    assert 0 < sum(not (Path(plan["staging"]) / rel).exists() for rel in plan["replace"]) < len(plan["replace"])
    again = cli_process("build", "-C", site)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert leftovers(site) == []
    mine = {"CNAME": snapshot(out)["CNAME"]}
    assert snapshot(out) == {**clean_build(site, run_cli, tmp_path / "fresh"), **mine}


def test_publish_into_a_mount_point_killed_between_replaces(write_project: Callable[..., Path], run_cli: RunCli,
                                                             tmp_path: Path) -> None:
    project = write_project(SMALL_SITE)
    out = project / "output"
    out.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(out)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        assert run_cli("build", "-C", project).exit_code == 0
        (out / "CNAME").write_text("mine\n")
        numbers = inodes(out)
        edit_text(project / "content/guides/style.md", "no items", "no items at all")  # ops/deploy.html is kept
        killed = cli_process("build", "-C", project, env={swap.KILL_HOOK: "between-replaces"})
        killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL
        plan = json.loads((out / ".launchbook.swap.json").read_text())  # the journal lives inside a mounted output
        assert plan["replace"] == ["assets/search/words/all.js", "guides/style.html"]  # new words: "at", "all"
        again = cli_process("build", "-C", project)
        _, err = again.communicate(timeout=120)
        assert again.returncode == 0, err.decode()
        assert leftovers(out) == [] and not (out / ".launchbook.kept").exists()
        mine = {"CNAME": snapshot(out)["CNAME"]}
        assert snapshot(out) == {**clean_build(project, run_cli, tmp_path / "fresh"), **mine}
        assert inodes(out)["ops/deploy.html"] == numbers["ops/deploy.html"]
    finally:
        subprocess.run(["umount", str(out)], check=True)


def _hostile(out: Path, outside: Path, how: str) -> Path:
    """Plant, in a copy of the manifest, a file name that leads out of ``out``; returns the
    victim file outside."""
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("not yours to delete\n")
    manifest = json.loads((out / MANIFEST).read_text())
    if how == "dotdot":
        name = os.path.relpath(victim, out)
    elif how == "absolute":
        name = str(victim)
    else:
        (out / "link").symlink_to(outside, target_is_directory=True)
        name = "link/victim.txt"
    manifest["files"] = sorted([*manifest["files"], name])
    manifest["sizes"][name] = victim.stat().st_size
    (out / MANIFEST).write_text(json.dumps(manifest))
    return victim


@pytest.mark.parametrize("how", ["dotdot", "absolute", "link"])
def test_a_manifest_naming_paths_out_of_the_output_is_never_followed(site: Path, run_cli: RunCli, tmp_path: Path,
                                                                     how: str) -> None:
    out = site / "output"
    victim = _hostile(out, tmp_path / "outside", how)
    folder = out.stat().st_ino
    (site / "content/guides/style.md").unlink()  # the new site drops a page: a deletion is due
    result = run_cli("build", "-C", site)
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "not yours to delete\n"
    assert out.stat().st_ino != folder  # not trusted: the whole site was swapped in
    assert not (out / "guides/style.html").exists()
    if how == "link":
        assert (out / "link").is_symlink()  # the link is the user's entry, carried over


@pytest.mark.parametrize("other", ["same-site", "edits-a-kept-page"])
def test_another_build_publishing_meanwhile(site: Path, run_cli: RunCli, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, other: str) -> None:
    """A build whose output another build replaced while it rendered publishes against the
    output as it is now, or (when a file it kept changed) stops with nothing changed."""
    out = site / "output"
    build.build_site(site)  # as the builds below: no archive audit (the CLI's build adds one)
    real_swap_in = build.swap_in

    def another_build_first(*args: Any, **kwargs: Any) -> list[str]:
        monkeypatch.setattr(build, "swap_in", real_swap_in)
        if other == "edits-a-kept-page":
            edit_text(site / "content/ops/deploy.md", "Freeze merges", "Freeze all merges")
        build.build_site(site)
        return real_swap_in(*args, **kwargs)

    edit_text(site / "content/guides/style.md", "no items", "no items at all")  # ops/deploy.html is kept
    monkeypatch.setattr(build, "swap_in", another_build_first)
    if other == "same-site":
        build.build_site(site)
        assert snapshot(out) == clean_site(site, tmp_path / "fresh")
    else:
        before = snapshot(out)
        with pytest.raises(BuildError, match="the output folder changed while this build ran"):
            build.build_site(site)
        assert "Freeze all merges" in (out / "ops/deploy.html").read_text()  # the other build's output stays
        assert snapshot(out) == clean_site(site, tmp_path / "fresh") != before
    assert leftovers(site) == []


@pytest.mark.parametrize("damage", ["bytes", "values", "keys", "type"])
def test_a_damaged_summary_pack_is_ignored_and_replaced(site: Path, run_cli: RunCli, tmp_path: Path,
                                                        damage: str) -> None:
    """One-shot builds read every summary from one pack file; whatever is found there that is
    not a summary under its key is ignored (the per-document entries or a parse stand in)."""
    pack = cache_dir(site) / "parsed/summaries.pickle"
    packed = pickle.loads(read_cache_bytes(pack) or b"")
    assert isinstance(packed, dict) and packed
    damaged = {"bytes": b"not a pickle", "values": pickle.dumps({key: ["not a summary"] for key in packed}),
               "keys": pickle.dumps({"k" * 64: next(iter(packed.values()))}), "type": pickle.dumps([1, 2])}[damage]
    store_cache_bytes(pack, damaged)  # with a good tag: only its contents are wrong
    edit_page(site)
    result = run_cli("build", "-C", site)
    assert result.exit_code == 0, result.output
    assert snapshot(site / "output") == clean_build(site, run_cli, tmp_path / "fresh")
    assert isinstance(pickle.loads(read_cache_bytes(pack) or b""), dict) and read_cache_bytes(pack) != damaged


def test_summaries_and_diagnostics_come_back_from_the_cache_field_for_field() -> None:
    """They pickle as a call of their class with their fields (faster to load than dataclasses'
    ``__setstate__``): every field must come back in its place."""
    from generator.core.diagnostics import Diagnostic, Severity
    from generator.model import DocumentSummary

    warning = Diagnostic("content/a.md", 7, "undid escaping", "LB103", Severity.ERROR)
    summary = DocumentSummary(key="k" * 64, kind="checklist", id="deploy", title="Deploy", source="content/a.md",
                              rel_path="a.md", description="d", tags=("x", "y"), owner="ops", sha256="s" * 64,
                              nav_order=3, warnings=(warning,), links=(("b.md", 4),), counts={"items": 2})
    for value in (warning, summary, Diagnostic("p", None, "m")):
        copy = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert copy == value and type(copy) is type(value)
        assert [getattr(copy, name) for name in type(value).__slots__] == \
            [getattr(value, name) for name in type(value).__slots__]


def test_parsed_documents_come_back_from_the_document_store_field_for_field() -> None:
    """Checklists, pages, items, headings, sign-off roles and decisions pickle as a call of their
    class too (the document store of a cold build pickled 236,000 of them at 1,000 pages)."""
    import dataclasses

    from generator.sources.checklist import parse_document

    seeds = Path(__file__).resolve().parents[1] / "content"
    documents = [parse_document(path.read_bytes(), str(path), path.name) for path in sorted(seeds.rglob("*.md"))]
    kinds: set[str] = set()

    def same(copy: object, value: object) -> None:
        assert type(copy) is type(value)
        if dataclasses.is_dataclass(value):
            kinds.add(type(value).__name__)
            for field in dataclasses.fields(value):
                same(getattr(copy, field.name), getattr(value, field.name))
        elif isinstance(value, (list, tuple)):
            assert len(copy) == len(value)  # type: ignore[arg-type]
            for one, other in zip(copy, value, strict=True):  # type: ignore[call-overload]
                same(one, other)
        else:
            assert copy == value

    for document in documents:
        same(pickle.loads(pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)), document)
    assert {"Checklist", "Page", "Item", "Heading", "SignoffRole", "Decision"} <= kinds
