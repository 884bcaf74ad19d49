"""Under `serve`'s watcher, a rebuild after files were only modified does not walk the trees
again (the 10,000-page edit path), and still sees every change a walk would have seen."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.core import watched
from generator.core.files import keep_in_memory
from generator.site import incremental
from generator.site.uptodate import build
from generator.sources import collect
from generator.sources.collect import collect_sources

CHECKLIST = "# Release\n\n- [ ] Tag the release\n- [ ] Announce it\n"


@pytest.fixture
def project(write_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = write_project({
        "content/index.md": "# Home\n",
        "content/ops/release.md": CHECKLIST,
        "content/ops/notes/deep.md": "# Deep page\n",
        "content/logo.txt": "not an image\n",
    }).resolve()
    monkeypatch.setattr(incremental, "_walks", {})
    monkeypatch.setattr(collect, "_trees", {})
    keep_in_memory()
    watched.watching([root / "content"])
    yield root
    watched.stop_watching()


def rebuild(root: Path) -> str:
    build(root, None, strict=False, clean=False, cache=True, audit=None)
    return (root / "output/ops/release.html").read_text()


def modify(path: Path, text: str) -> None:
    path.write_text(text)
    watched.record([(str(path), True)])


def count_scandir(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = os.scandir

    def counting(path: str | Path) -> Iterator[os.DirEntry[str]]:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    return calls


def test_a_modification_is_built_without_walking_the_content_again(project: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild(project)
    calls = count_scandir(monkeypatch)
    modify(project / "content/ops/release.md", CHECKLIST.replace("Announce it", "Announce it on the status page"))
    assert "Announce it on the status page" in rebuild(project)
    assert not [call for call in calls if call.startswith(str(project / "content"))]


def test_without_a_watcher_every_build_walks(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    watched.stop_watching()
    rebuild(project)
    calls = count_scandir(monkeypatch)
    (project / "content/ops/release.md").write_text(CHECKLIST.replace("Announce it", "Announce it twice"))
    assert "Announce it twice" in rebuild(project)
    assert str(project / "content") in calls


def test_added_and_deleted_files_are_walked_for(project: Path) -> None:
    rebuild(project)
    added = project / "content/ops/new.md"
    added.write_text("# Brand new\n")
    watched.record([(str(added), False)])
    rebuild(project)
    assert (project / "output/ops/new.html").is_file()
    added.unlink()
    watched.record([(str(added), False)])
    rebuild(project)
    assert not (project / "output/ops/new.html").exists()


def test_a_change_the_log_no_longer_holds_means_a_walk(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild(project)
    monkeypatch.setattr(watched, "KEEP_UP_TO", 3)
    added = project / "content/added.md"
    added.write_text("# Added\n")
    watched.record([(str(added), False)])  # then a mass change pushes it out of the log
    watched.record([(str(project / "content/index.md"), True)] * 4)
    rebuild(project)
    assert (project / "output/added.html").is_file()


def test_a_modified_path_that_is_not_a_listed_file_means_a_walk(project: Path) -> None:
    tree = incremental.tree_files(project / "content")
    folder = project / "content/ops"
    (folder / "other.md").write_text("# Other\n")
    watched.record([(str(folder), True)])  # e.g. a folder's metadata: not a file the walk listed
    assert "ops/other.md" in [rel for rel, _, _ in incremental.tree_files(project / "content")]
    assert len(tree) == 4


def test_a_new_private_key_among_modified_assets_is_still_refused(project: Path) -> None:
    collect_sources(project / "content", "content")
    asset = project / "content/logo.txt"
    modify(asset, "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "b3BlbnNzaC1rZXktdjEAAAAA" * 3 + "\n-----END OPENSSH PRIVATE KEY-----\n")
    with pytest.raises(Exception, match="private key"):
        collect_sources(project / "content", "content")


@pytest.mark.parametrize("alias", ["symlink", "hardlink"])
def test_a_file_with_two_names_is_never_taken_from_a_remembered_walk(project: Path, alias: str) -> None:
    """The watcher reports a write under the name it was made through; the walk lists both names."""
    target = project / "content/ops/release.md"
    other = project / "content/also-release.md"
    if alias == "symlink":
        other.symlink_to(target)
    else:
        os.link(target, other)
    rebuild(project)
    modify(target, CHECKLIST + "- [ ] Close the ticket\n")
    rebuild(project)
    assert "Close the ticket" in (project / "output/also-release.html").read_text()
    sizes = {rel: info.st_size for rel, _, info in incremental.tree_files(project / "content")}
    assert sizes["also-release.md"] == sizes["ops/release.md"] == len(CHECKLIST + "- [ ] Close the ticket\n")


def test_the_published_manifest_is_remembered_exactly_as_it_reads(project: Path) -> None:
    """The next build takes the manifest from memory: it must be what reading the file gives."""
    from generator.site import manifest

    rebuild(project)
    remembered = manifest.read_manifest(project / "output")
    path = project / "output" / manifest.MANIFEST
    info = path.stat()
    read = manifest._parse(path.read_bytes(), (info.st_ino, info.st_size, info.st_mtime_ns))
    assert remembered is not None and read is not None and remembered.safe
    assert remembered == read


@pytest.fixture
def watched_output(project: Path) -> Path:
    """The project with its output watched too (as serve does), after a first build."""
    rebuild(project)
    watched.watching([project / "content", project / "output"])
    edit_checklist(project, "Announce it first")
    rebuild(project)  # publishes under the watcher: from now on the build vouches for its output
    return project


def edit_checklist(project: Path, text: str) -> None:
    modify(project / "content/ops/release.md", CHECKLIST.replace("Announce it", text))


def test_a_rebuild_trusts_the_output_it_published_and_looks_only_at_what_changed(
        watched_output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.site import manifest

    looked: list[str] = []
    real = os.lstat

    def counting(path: str | Path, *args: object, **kwargs: object) -> os.stat_result:
        if str(path).startswith(f"{watched_output / 'output'}/"):  # below it: its files and folders
            looked.append(str(path))
        return real(path)

    monkeypatch.setattr(manifest.os, "lstat", counting)
    edit_checklist(watched_output, "Announce it loudly")
    assert "Announce it loudly" in rebuild(watched_output)
    unchanged = {f"{watched_output / 'output'}/{rel}" for rel in ("index.html", "ops/notes/deep.html", "logo.txt")}
    assert not unchanged & set(looked)  # kept without a look: the watcher saw nothing happen to them


def test_an_output_file_deleted_under_the_watcher_is_made_again(watched_output: Path) -> None:
    page = watched_output / "output/ops/notes/deep.html"
    page.unlink()
    watched.record([(str(page), False)])
    edit_checklist(watched_output, "Announce it again")
    rebuild(watched_output)
    assert page.is_file() and "Deep page" in page.read_text()


def test_an_output_folder_replaced_behind_the_watcher_is_not_trusted(watched_output: Path) -> None:
    """A watcher keeps watching the folder it was given: after a swap behind its back it sees nothing."""
    output, old = watched_output / "output", watched_output / "old-output"
    output.rename(old)
    output.mkdir()
    for entry in old.iterdir():  # the same files (the manifest too: same inode, size and time), a new folder
        entry.rename(output / entry.name)
    (output / "ops/notes/deep.html").unlink()  # no event reaches the log
    edit_checklist(watched_output, "Announce it once more")
    rebuild(watched_output)
    assert (output / "ops/notes/deep.html").is_file()
