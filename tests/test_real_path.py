"""``core.files.real_path`` (the kernel's resolution of an existing path) answers what
``Path.resolve`` answers, for links, links to links, ``..`` after a link, FIFOs, devices,
missing paths, relative paths and link loops; a link out of a folder is still refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.core.errors import SourceError
from generator.core.files import inside_folder, real_path


def _outcome(resolve: object, path: Path | str) -> tuple[str, str]:
    try:
        return ("path", str(resolve(path)))  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer
        return ("error", type(exc).__name__)


def test_real_path_is_what_resolve_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    os.symlink(tmp_path / "a" / "b", tmp_path / "link")
    os.symlink("f", tmp_path / "a" / "b" / "relative-link")
    os.symlink(tmp_path / "link" / "relative-link", tmp_path / "link-to-link")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    os.mkfifo(tmp_path / "fifo")
    os.symlink(tmp_path / "loop-1", tmp_path / "loop-2")
    os.symlink(tmp_path / "loop-2", tmp_path / "loop-1")
    monkeypatch.chdir(tmp_path / "a")
    paths: list[Path | str] = [
        tmp_path / "a" / "b" / "f", tmp_path / "link" / "f", tmp_path / "link" / "relative-link",
        tmp_path / "link-to-link", tmp_path / "link" / ".." / "b", tmp_path / "dangling", tmp_path / "fifo",
        tmp_path / "missing" / "f", "b/f", "../link/f", ".", "/dev/null", tmp_path / "loop-1"]
    for path in paths:
        assert _outcome(real_path, path) == _outcome(lambda p: Path(p).resolve(), path), path
    assert real_path(tmp_path / "link-to-link") == tmp_path.resolve() / "a" / "b" / "f"


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inside").mkdir()
    (tmp_path / "outside").write_text("secret")
    os.symlink(tmp_path / "outside", tmp_path / "inside" / "link")
    os.symlink(tmp_path, tmp_path / "inside" / "up")
    for path in (tmp_path / "inside" / "link", tmp_path / "inside" / "up" / "outside"):
        with pytest.raises(SourceError, match="leads out of"):
            inside_folder(path, tmp_path / "inside")
    assert inside_folder(tmp_path / "inside" / "up" / "inside", tmp_path / "inside")
