"""The checklist index (.launchbook-cache/checklist-index.json): after a build, finding a
checklist by ID reads one file, and every change to content/ since is still seen exactly."""

from __future__ import annotations

import builtins
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import generator.lint.check as lint_module
import generator.sources.cache as cache_module
import generator.sources.scan as scan_module
from generator.core.files import read_cache_bytes, store_cache_bytes
from generator.runs.store import find_run, read_record
from generator.sources.cachedir import cache_dir
from generator.sources.index import INDEX_NAME, load_index
from generator.sources.scan import IdScan

RunCli = Callable[..., Result]
WriteProject = Callable[..., Path]
PAGES = 200
DEPLOY = "---\ntitle: Deploy\nid: deploy\n---\n## Steps\n\n- [ ] Drain the pool\n- [ ] Ship it\n"


def _age(project: Path) -> None:
    """Date every file an hour back: files are vouched for only once settled (the racy rule)."""
    past = time.time_ns() - 3600 * 1_000_000_000
    for path in (project / "content").rglob("*"):
        os.utime(path, ns=(past, past), follow_symlinks=False)


@pytest.fixture
def built(write_project: WriteProject, run_cli: RunCli) -> Path:
    """A built project of PAGES checklists plus content/ops/deploy.md (ID ``deploy``), files settled."""
    files: dict[str, str | bytes] = {
        f"content/team-{n // 50}/page-{n}.md": f"---\ntitle: Page {n}\nid: p-{n}\n---\n- [ ] Step of {n}\n"
        for n in range(PAGES)
    }
    files["content/ops/deploy.md"] = DEPLOY
    files["content/notes.md"] = "# Notes\n\nA plain page, see [deploy](ops/deploy.md#steps).\n"
    project = write_project(files)
    _age(project)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Content-relative paths of the Markdown files opened for reading (any way) or parsed while the test runs."""
    seen: list[str] = []

    def note(path: Any) -> None:
        text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if text.endswith(".md") and "/content/" in text:
            seen.append(text.split("/content/", 1)[1])

    real_open, real_os_open, real_parse = io.open, os.open, scan_module.parse_document

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode:
            note(file)
        return real_open(file, mode, *args, **kwargs)

    def counting_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> Any:
        if flags & os.O_ACCMODE != os.O_WRONLY:
            note(path)
        return real_os_open(path, flags, *args, **kwargs)

    def counting_parse(data: bytes, shown: str, rel: str) -> Any:
        seen.append(f"parsed {rel}")
        return real_parse(data, shown, rel)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(os, "open", counting_os_open)
    for module in (scan_module, cache_module, lint_module):
        monkeypatch.setattr(module, "parse_document", counting_parse)
    yield seen


def _start(run_cli: RunCli, project: Path, checklist_id: str) -> Result:
    return run_cli("run", "start", checklist_id, "--release", "v1", "-C", project, "--json")


def _items(result: Result, project: Path) -> list[str]:
    """The item texts of the run ``run start --json`` made."""
    assert result.exit_code == 0, result.output
    record = read_record(find_run(project, json.loads(result.stdout)["id"]))
    return [item.text for item in record.snapshot.items]


def test_build_writes_the_index_of_every_document(built: Path) -> None:
    entries = load_index(cache_dir(built))
    assert len(entries) == PAGES + 2
    assert (entries["ops/deploy.md"].id, entries["ops/deploy.md"].kind) == ("deploy", "checklist")
    assert (entries["notes.md"].id, entries["notes.md"].kind) == ("notes", "page")


def test_known_id_reads_only_the_checklist(built: Path, run_cli: RunCli, reads: list[str]) -> None:
    """The proof of "one file": no other Markdown file is opened or parsed (the checklist's parse
    comes from the document store the build filled; without it, the checklist alone is read)."""
    result = _start(run_cli, built, "deploy")
    assert result.exit_code == 0, result.output
    assert reads == []
    assert IdScan(built).read == []
    for stored in (cache_dir(built) / "parsed").rglob("*"):
        if stored.is_file():
            stored.unlink()
    assert _items(_start(run_cli, built, "p-7"), built) == ["Step of 7"]
    assert reads == ["team-0/page-7.md", "parsed team-0/page-7.md"]


def test_an_edited_checklist_is_read_again(built: Path, run_cli: RunCli, reads: list[str]) -> None:
    (built / "content/ops/deploy.md").write_text(DEPLOY + "- [ ] Tell the team\n")
    assert _items(_start(run_cli, built, "deploy"), built) == ["Drain the pool", "Ship it", "Tell the team"]
    assert reads == ["ops/deploy.md", "parsed ops/deploy.md"]


def test_a_changed_id_is_seen(built: Path, run_cli: RunCli) -> None:
    source = built / "content/ops/deploy.md"
    source.write_text(DEPLOY.replace("id: deploy", "id: deploy-v2"))
    old = _start(run_cli, built, "deploy")
    assert old.exit_code == 1 and "unknown checklist 'deploy'; did you mean deploy-v2?" in old.stderr
    assert _items(_start(run_cli, built, "deploy-v2"), built) == ["Drain the pool", "Ship it"]
    source.write_text("- [ ] No front matter now\n")  # its ID is its path again
    assert _items(_start(run_cli, built, "ops/deploy"), built) == ["No front matter now"]


@pytest.mark.parametrize("how", ["new file", "edited file"])
def test_a_second_claim_on_the_id_is_the_duplicate_error(built: Path, run_cli: RunCli, how: str) -> None:
    if how == "new file":
        (built / "content/zz").mkdir()
        (built / "content/zz/copy.md").write_text(DEPLOY)
        second = "content/zz/copy.md"
    else:
        (built / "content/team-1/page-60.md").write_text("---\nid: deploy\n---\n- [ ] x\n")
        second = "content/team-1/page-60.md"
    _age(built)  # even with old times, a file the index does not know (or whose stamp differs) is read
    result = _start(run_cli, built, "deploy")
    assert result.exit_code == 1
    assert f"{second}:1: checklist ID 'deploy' is already used by content/ops/deploy.md" in result.stderr


def _index(project: Path) -> Path:
    return cache_dir(project) / INDEX_NAME


@pytest.mark.parametrize("damage", ["deleted", "garbage", "not a mapping", "other code", "bad entry", "folder"])
def test_a_missing_or_damaged_index_means_a_scan(built: Path, run_cli: RunCli, damage: str) -> None:
    index = _index(built)
    data = json.loads(read_cache_bytes(index) or b"")
    if damage == "deleted":
        index.unlink()
    elif damage == "garbage":
        store_cache_bytes(index, b"\x00{not json")
    elif damage == "not a mapping":
        store_cache_bytes(index, b"[1, 2, 3]")
    elif damage == "other code":
        store_cache_bytes(index, json.dumps({**data, "code": "0" * 64}).encode())
    elif damage == "bad entry":
        data["files"]["ops/deploy.md"][3] = "../../../etc/passwd"
        store_cache_bytes(index, json.dumps(data).encode())
    else:
        index.unlink()
        index.mkdir()
    assert _items(_start(run_cli, built, "deploy"), built) == ["Drain the pool", "Ship it"]
    if damage != "folder":
        assert load_index(cache_dir(built))["ops/deploy.md"].id == "deploy"  # the scan wrote it again


def test_a_lying_index_is_checked_against_the_files(built: Path, run_cli: RunCli) -> None:
    """Entries only name the files the walk found: one for a path outside content/ is never
    opened, and a file the index says has the ID is checked against that file's parse (and the
    index corrected)."""
    index = _index(built)
    data = json.loads(read_cache_bytes(index) or b"")
    files = data["files"]
    files["team-0/page-3.md"][4] = "deploy"  # claims deploy, with its true stamp and hash
    files["../../outside.md"] = [*files["ops/deploy.md"][:4], "outside", "checklist"]
    store_cache_bytes(index, json.dumps(data).encode())
    assert _items(_start(run_cli, built, "deploy"), built) == ["Drain the pool", "Ship it"]  # not a duplicate
    assert load_index(cache_dir(built))["team-0/page-3.md"].id == "p-3"
    assert _items(_start(run_cli, built, "p-3"), built) == ["Step of 3"]
    assert "../../outside.md" not in load_index(cache_dir(built))


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_an_index_that_is_not_a_regular_file_is_not_read(built: Path, run_cli: RunCli, tmp_path: Path,
                                                         kind: str) -> None:
    index = _index(built)
    elsewhere = tmp_path / "elsewhere.json"
    lie = json.loads(read_cache_bytes(index) or b"")
    lie["files"]["ops/deploy.md"][4] = "p-3"  # with its true stamp: if read, deploy would be unknown
    store_cache_bytes(elsewhere, json.dumps(lie).encode())  # a good tag: only the link keeps it out
    index.unlink()
    if kind == "symlink":
        index.symlink_to(elsewhere)
    else:
        os.mkfifo(index)  # opening it for reading without O_NONBLOCK would wait for a writer forever
    assert _items(_start(run_cli, built, "deploy"), built) == ["Drain the pool", "Ship it"]
    assert not index.is_symlink() and index.is_file()  # replaced by the scan's index, not written through
    assert json.loads(read_cache_bytes(elsewhere) or b"") == lie


def test_the_indexed_file_swapped_for_a_link_out_of_content_is_refused(built: Path, run_cli: RunCli,
                                                                      tmp_path: Path) -> None:
    """The same file (same inode, size and time) moved out and linked back: the stamp matches, the walk refuses."""
    source = built / "content/ops/deploy.md"
    outside = tmp_path / "outside.md"
    source.rename(outside)
    source.symlink_to(outside)
    result = _start(run_cli, built, "deploy")
    assert result.exit_code == 1 and "content/ops/deploy.md: leads out of" in result.stderr


def test_a_file_rewritten_within_its_timestamp_is_not_vouched_for(write_project: WriteProject,
                                                                  run_cli: RunCli) -> None:
    """Built right after it was written, a file is not in the index (it may change again within
    its timestamp's granularity); here it is rewritten with the same size, time and inode."""
    project = write_project({"content/a.md": "---\nid: one\n---\n- [ ] x\n"})
    source = project / "content/a.md"
    assert run_cli("build", "-C", project).exit_code == 0
    assert "a.md" not in load_index(cache_dir(project))
    info = source.stat()
    with open(source, "r+b") as handle:
        handle.write(b"---\nid: two\n---\n")
    os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert source.stat().st_ino == info.st_ino and source.stat().st_size == info.st_size
    assert _items(_start(run_cli, project, "two"), project) == ["x"]


def test_lint_of_one_file_reads_only_it_and_the_page_it_links_into(built: Path, run_cli: RunCli,
                                                                   reads: list[str]) -> None:
    result = run_cli("lint", "-C", built, built / "content/notes.md")
    assert result.exit_code == 0, result.output
    assert sorted(set(reads)) == ["notes.md", "ops/deploy.md"]  # both parses came from the document store
    (built / "content/notes.md").write_text("# Notes\n\n[x](ops/deploy.md#nowhere) [y](gone.md)\n")
    result = run_cli("lint", "-C", built, built / "content/notes.md")
    assert "broken link: ops/deploy.md#nowhere (no such anchor on that page)" in result.output
    assert "broken link: gone.md (no such page or file)" in result.output
    assert "parsed notes.md" in reads and not any(read.startswith("parsed team") for read in reads)


def test_close_reads_only_the_checklist(built: Path, run_cli: RunCli, signing_key: Any, reads: list[str]) -> None:
    run_id = json.loads(_start(run_cli, built, "deploy").stdout)["id"]
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "-C", built)
    assert result.exit_code == 0, result.output
    assert reads == []
