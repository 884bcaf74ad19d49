"""The output's manifest: which files a launchbook build made, and what they hold.

``.launchbook-manifest.json`` is written last by every build (see :class:`OutputWriter`).
It lists every file the build made (``files``), the size of each (``sizes``), the cache key
of each page (``pages``) and the sha256 of every other file (``digests``), plus the input
fingerprint and the summary a skipped build reports. Everything in it is a function of the
inputs, so a build and a clean build write the same manifest, byte for byte.

This is the one reader. A manifest naming a path that could leave the output folder
(absolute, ``..``, empty parts) is *unsafe*: its safe names still tell which files are
launchbook's, but no later build deletes, replaces or keeps anything on its word.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.core import watched
from generator.core.errors import BuildError

MANIFEST = ".launchbook-manifest.json"

Record = tuple[str | None, str | None, int | None]
"""What a manifest says of one file: (page key, sha256, size)."""


def safe_name(rel: object) -> bool:
    """A ``/``-path that stays inside the folder it is relative to, whatever the folder holds
    (no absolute path, no ``..``, ``.`` or empty part, no NUL)."""
    if not isinstance(rel, str) or "\0" in rel:
        return False
    framed = f"/{rel}/"  # every part between two slashes: an empty, "." or ".." part shows as one of these
    return "//" not in framed and "/./" not in framed and "/../" not in framed


def folders_of(names: set[str] | frozenset[str]) -> set[str]:
    """Every folder (as a ``/``-path) that holds one of ``names``."""
    return {name.rsplit("/", i)[0] for name in names for i in range(1, name.count("/") + 1)}


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest as read from an output folder."""

    files: frozenset[str]
    """The files the build made (only the safe names)."""
    safe: bool
    """Every name in it is safe, and it records sizes: later builds may act on its word."""
    pages: dict[str, str] = field(default_factory=dict)
    """Page URL -> the page's cache key."""
    digests: dict[str, str] = field(default_factory=dict)
    """File -> sha256 of its bytes (every file that is not a keyed page)."""
    sizes: dict[str, int] = field(default_factory=dict)
    """File -> its size in bytes."""
    data: dict[str, Any] = field(default_factory=dict)
    """The whole JSON object (fingerprint, summary, warnings, notes …)."""
    stamp: tuple[int, int, int] = (0, 0, 0)
    """(inode, size, mtime) of the manifest file: another build's publish replaces it."""

    def record(self, rel: str) -> Record:
        return self.pages.get(rel), self.digests.get(rel), self.sizes.get(rel)


def _str_map(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return value


_last: list[tuple[tuple[str, int, int, int, int, int], Manifest | None]] = []
"""The last manifest read, by path and stamp: a build reads it more than once."""


def read_manifest(output: Path) -> Manifest | None:
    """The manifest of ``output`` (never read through a link), or ``None`` when there is
    none or it is not one launchbook wrote."""
    try:
        descriptor = os.open(output / MANIFEST, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            key = (str(output), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            if _last and _last[0][0] == key:
                return _last[0][1]
            raw = handle.read()
        manifest = _parse(raw, (info.st_ino, info.st_size, info.st_mtime_ns))
    except OSError:
        return None
    _last[:] = [(key, manifest)]
    return manifest


def remember_published(output: Path, data: dict[str, Any]) -> None:
    """The manifest a build just published into ``output``, as ``data`` (the object its JSON was
    made from): the next build in this process reads it without decoding the file again."""
    try:
        info = os.lstat(output / MANIFEST)
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode):
        return
    key = (str(output), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    _last[:] = [(key, _from_data(data, stamp))]
    mark = watched.mark(output)  # right after publishing: what the watcher reports from now on is news
    _published.pop(str(output), None)
    if mark is not None:
        folder = os.lstat(output)
        _published[str(output)] = (stamp, mark, (folder.st_dev, folder.st_ino))


_published: dict[str, tuple[tuple[int, int, int], int, tuple[int, int]]] = {}
"""Under a watcher (``serve``): output folder -> (its manifest's stamp, the watcher's mark taken
right after this process published it, the folder's (device, inode))."""


def changed_since_published(output: Path, manifest: Manifest) -> frozenset[str] | None:
    """When this process published ``output`` with ``manifest`` and a watcher has watched it since:
    the paths (relative, ``/``) it reported anything about since; else ``None`` (look at everything)."""
    known = _published.get(str(output))
    if known is None or known[0] != manifest.stamp:
        return None
    try:
        folder = os.lstat(output)
    except OSError:
        return None
    if (folder.st_dev, folder.st_ino) != known[2]:
        return None
    return watched.changed_since(known[1], output)


def _parse(raw: bytes, stamp: tuple[int, int, int]) -> Manifest | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    return _from_data(data, stamp)


def _from_data(data: Any, stamp: tuple[int, int, int]) -> Manifest | None:
    names = data.get("files") if isinstance(data, dict) else None
    if not isinstance(names, list):
        return None
    files = frozenset(str(name) for name in names if safe_name(name))
    pages = _str_map(data.get("pages", {}))
    digests = _str_map(data.get("digests", {}))
    sizes = data.get("sizes")
    sized = isinstance(sizes, dict) and all(isinstance(k, str) and type(v) is int for k, v in sizes.items())
    safe = (len(files) == len(names) and MANIFEST in files and sized and pages is not None and digests is not None
            and set(sizes) | {MANIFEST} == set(files) and set(pages) <= files and set(digests) <= files)
    return Manifest(files, safe, pages or {}, digests or {}, dict(sizes) if safe else {}, data, stamp)


def unchanged(manifest: Manifest, output: Path) -> bool:
    """Whether ``output``'s manifest file is still the one ``manifest`` was read from."""
    try:
        info = os.lstat(output / MANIFEST)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (info.st_ino, info.st_size, info.st_mtime_ns) == manifest.stamp


def created_by_us(output: Path) -> set[str] | None:
    """Files the build that wrote ``output`` created (its manifest), or ``None``."""
    manifest = read_manifest(output)
    return set(manifest.files) if manifest is not None else None


def user_entries(root: Path, ours: set[str] | frozenset[str] | None, skip: str = "") -> list[str]:
    """Entries under ``root`` that launchbook did not create, as ``/``-paths: the topmost
    file, link, FIFO, socket or folder (empty or holding only the user's entries) of each.
    Top-level names starting with ``skip`` (control entries) are left out."""
    if not root.is_dir():
        return []
    ours = ours or set()
    folders = folders_of(ours)
    found: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            rel = prefix + entry.name
            if not prefix and skip and entry.name.startswith(skip):
                continue
            if entry.is_dir(follow_symlinks=False) and rel in folders:
                walk(Path(entry.path), rel + "/")
            elif not (rel in ours and entry.is_file(follow_symlinks=False)):
                found.append(rel)

    walk(root, "")
    return found


def describe(path: Path) -> str:
    """What ``path`` is, in a message: link, folder, file or special file."""
    if path.is_symlink():
        return "link"
    if path.is_dir():
        return "folder"
    return "file" if path.is_file() else "special file"


def conflict_error(output: Path, conflicts: list[tuple[str, str, str]]) -> BuildError:
    """The refusal of a build whose files would land on the user's entries: ``conflicts``
    holds (the user's entry, the kind of what the build writes there, its path)."""
    rel, kind, hit = conflicts[0]
    more = f" (and {len(conflicts) - 1} more: {', '.join(c[0] for c in conflicts[1:4])})" if len(conflicts) > 1 else ""
    return BuildError(f"your {describe(output / rel)} is where this build writes the {kind} {hit}{more}; nothing was "
                      f"changed: move or rename it, or build with --clean to move your files aside to "
                      f"{output.name}.kept/", output / rel)


class PreviousOutput:
    """The output folder as the last build left it, for a build that publishes in place.

    Only a safe manifest qualifies, in an output folder that is no link and where every
    folder launchbook made is a real folder (or gone, never a link): then a file the
    manifest records is known by its record, without reading it, wherever it is still a
    regular file of the recorded size.
    """

    def __init__(self, folder: Path, manifest: Manifest, folders: set[str],
                 changed: frozenset[str] | None = None) -> None:
        self.folder, self.manifest, self.folders = folder, manifest, folders
        self._base = f"{folder}/"
        self.changed = changed
        """Under a watcher, on an output this process published: the paths it saw change since
        (only they, and what lies below one that is not a file of the manifest, are looked at);
        ``None``: every file is looked at."""
        self._changed_above = [rel + "/" for rel in changed or () if rel not in manifest.sizes]

    @classmethod
    def of(cls, output: Path, manifest: Manifest | None, skip: str = "") -> PreviousOutput | None:
        """The previous output (``manifest`` read from it) when a build may publish into it
        in place, else ``None``."""
        if manifest is None or not manifest.safe or output.is_symlink() or not output.is_dir():
            return None
        if skip and any(name.startswith(skip) for name in manifest.files):
            return None
        folders = folders_of(manifest.files)
        changed = changed_since_published(output, manifest)
        if changed is not None and not (changed & folders):  # every folder as this process left it
            return cls(output, manifest, folders, changed)
        base, device = f"{output}/", output.stat().st_dev
        for rel in folders:
            try:
                info = os.lstat(base + rel)
            except FileNotFoundError:
                continue
            except OSError:
                return None
            if not stat.S_ISDIR(info.st_mode) or info.st_dev != device:
                return None  # a link, a file or a mount point where launchbook made a folder: swap the whole site
        return cls(output, manifest, folders)

    def present(self, rel: str, size: int | None = None) -> bool:
        """Whether ``rel`` is still the regular file of the size the manifest records (and
        ``size``, when given). Every folder above it was found to be a real folder or gone."""
        recorded = self.manifest.sizes.get(rel)
        if recorded is None or (size is not None and size != recorded):
            return False
        if self.changed is not None and rel not in self.changed and not any(
                rel.startswith(above) for above in self._changed_above):
            return True  # as this process published it, and the watcher saw nothing happen to it
        try:
            info = os.lstat(self._base + rel)
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and info.st_size == recorded
