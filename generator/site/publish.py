"""Publishing a build in place: only the files that changed touch the output.

When the output holds a safe manifest of a previous build (and neither ``--clean`` nor
``--no-cache`` is given), the build's staging folder receives only the files whose bytes
are new or changed; every other file of the new site is *kept* where it is (see
:class:`~generator.site.writer.OutputWriter`). Publishing then, under the swap lock:

1. finds every conflict first — a staged file (or a folder it needs) where the output
   holds a user's entry — and refuses naming the path, with nothing changed;
2. writes the journal (atomically): from here on a killed build is completed by the next;
3. removes the files the previous manifest lists and the new site does not make (regular
   files only, never through a link), and the folders launchbook made that are left empty;
4. moves each staged file into place with ``os.replace`` (atomic per file), making folders
   as needed (a launchbook folder where a file now goes was emptied in step 3);
5. moves the new manifest in last, then removes the staging folder and the journal.

Every step is redone safely from the journal: a removed file stays removed, a moved file
is no longer in the staging folder. All paths are walked from folder descriptors opened
with ``O_NOFOLLOW``, so no link in the output (the user's, or planted) is ever followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.core.errors import BuildError
from generator.core.files import fsync_dir
from generator.site.journal import Area, kill_hook, save_journal
from generator.site.manifest import (
    MANIFEST,
    PreviousOutput,
    Record,
    conflict_error,
    folders_of,
    read_manifest,
    safe_name,
    unchanged,
    user_entries,
)

_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Changes:
    """What a build left for publishing in place."""

    files: frozenset[str]
    """Every file of the new site (the manifest included)."""
    kept: dict[str, Record]
    """Files left in the output -> what the previous manifest recorded of each."""
    previous: PreviousOutput
    """The previous output as the build found it."""

    @property
    def staged(self) -> list[str]:
        return sorted(self.files - set(self.kept))


def plan_publish(area: Area, output: Path, staging: Path, changes: Changes) -> dict[str, Any]:
    """The journal of an in-place publish, made before anything changes; a
    :class:`BuildError` when a user's entry is in the way, or when another build replaced
    the output meanwhile so that a kept file is no longer what this build relied on."""
    current: PreviousOutput | None = changes.previous
    if not unchanged(changes.previous.manifest, output):  # another build published meanwhile
        current = PreviousOutput.of(output, read_manifest(output), area.skip)
        if current is not None and not all(current.manifest.record(rel) == record and current.present(rel)
                                           for rel, record in changes.kept.items()):
            current = None
    if current is None:
        raise BuildError("the output folder changed while this build ran (another build?); nothing was changed: "
                         "build again", output)
    if os.stat(staging).st_dev != os.stat(output).st_dev:
        raise BuildError("the staging folder is on another file system than the output folder (a mount point "
                         "launchbook did not recognise?); nothing was changed", output)
    old, new = current.manifest.files, changes.files
    staged, removed = changes.staged, old - new
    conflicts = _conflicts(output, staged, old, removed, current.folders)
    if conflicts:
        raise conflict_error(output, conflicts)
    prune = sorted(folders_of(removed) - folders_of(new), key=lambda rel: (-rel.count("/"), rel)) if removed else []
    return {"mode": "publish", "output": str(output), "staging": str(staging), "phase": "remove",
            "remove": sorted(removed), "prune": prune, "replace": [rel for rel in staged if rel != MANIFEST]}


def _conflicts(output: Path, staged: list[str], old: frozenset[str], removed: frozenset[str],
               old_folders: set[str]) -> list[tuple[str, str, str]]:
    """(user's entry, kind of what the build writes there, its path) for every staged file
    that would land on a user's entry, or need a folder where the user has something else."""
    modes: dict[str, int] = {}

    def mode(rel: str) -> int:
        if rel not in modes:
            try:
                modes[rel] = os.lstat(output / rel).st_mode
            except OSError:
                modes[rel] = 0
        return modes[rel]

    found: dict[str, tuple[str, str]] = {}
    for rel in staged:
        parts = rel.split("/")
        for index in range(1, len(parts)):
            above = "/".join(parts[:index])
            kind = mode(above)
            if kind == 0 or (above in removed and stat.S_ISREG(kind)):
                break  # nothing there, or launchbook's own file, removed first
            if not stat.S_ISDIR(kind):
                found[above] = ("folder", above)  # the user's file or link where a folder goes
                break
        else:
            kind = mode(rel)
            if kind == 0 or (stat.S_ISREG(kind) and rel in old):
                continue
            if stat.S_ISDIR(kind) and rel in old_folders:  # launchbook's folder, emptied first: unless the user's
                inside = {name[len(rel) + 1:] for name in old if name.startswith(rel + "/")}
                for entry in user_entries(output / rel, inside):
                    found[f"{rel}/{entry}"] = ("file", rel)
                continue
            found[rel] = ("file", rel)
    return [(rel, kind, hit) for rel, (kind, hit) in sorted(found.items())]


class _Folders:
    """Folder descriptors below a root, opened without following links (the chain of the
    folder in use is kept open; callers go through paths in sorted order)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.open: dict[str, int] = {}

    def get(self, rel: str, create: bool = False) -> int | None:
        """The descriptor of folder ``rel`` ("" is the root); ``None`` when it is missing or
        not a real folder (``create`` makes missing folders; then anything else in the way
        is an error)."""
        if rel in self.open:
            return self.open[rel]
        for name in [n for n in self.open if not (rel == n or rel.startswith(n + "/") or n == "")]:
            os.close(self.open.pop(name))
        parent, _, name = rel.rpartition("/")
        try:
            if not rel:
                descriptor = os.open(self.root, _FOLDER_FLAGS)
            else:
                above = self.get(parent, create)
                if above is None:
                    return None
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(name, dir_fd=above)
                descriptor = os.open(name, _FOLDER_FLAGS, dir_fd=above)
        except OSError as exc:
            if not create and exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                return None
            raise BuildError(f"cannot publish into this folder ({exc.strerror}): a file or link of yours is in the "
                             "way; move it, then build again to finish publishing", self.root / rel) from None
        self.open[rel] = descriptor
        return descriptor

    def close(self) -> None:
        for descriptor in self.open.values():
            os.close(descriptor)
        self.open.clear()


def _split(rel: str) -> tuple[str, str]:
    parent, _, name = rel.rpartition("/")
    return parent, name


def run_publish(plan: dict[str, Any], area: Area) -> None:
    """Carry out (or complete, after a crash) the in-place publish ``plan``, phase by phase."""
    output, staging = Path(plan["output"]), Path(plan["staging"])
    if not all(safe_name(rel) for rel in [*plan["remove"], *plan["prune"], *plan["replace"]]):
        raise BuildError("swap journal names a path out of the output folder; remove it after checking the folders "
                         "beside it", area.journal)
    try:
        _run(plan, area, output, staging)
    except OSError as exc:
        raise BuildError(f"publishing stopped half way ({exc.strerror}: {exc.filename}); the next build finishes it "
                         "once that is fixed", output) from None


def _run(plan: dict[str, Any], area: Area, output: Path, staging: Path) -> None:
    if plan["phase"] == "remove":
        folders = _Folders(output)
        try:
            for rel in plan["remove"]:
                parent, name = _split(rel)
                above = folders.get(parent)
                with contextlib.suppress(FileNotFoundError):
                    if above is not None and stat.S_ISREG(os.stat(name, dir_fd=above, follow_symlinks=False).st_mode):
                        os.unlink(name, dir_fd=above)
            for rel in plan["prune"]:  # deepest first; a folder still holding the user's entries stays
                parent, name = _split(rel)
                above = folders.get(parent)
                with contextlib.suppress(OSError):
                    if above is not None:
                        os.rmdir(name, dir_fd=above)
        finally:
            folders.close()
        plan["phase"] = "replace"
        if plan["remove"] or plan["prune"]:  # a redo must not remove what was put there since
            save_journal(area, plan)
    if plan["phase"] == "replace":  # redone, it moves only what is still staged: no phase of its own
        _replace_all(plan["replace"], staging, output, hook=True)
        staged = staging / MANIFEST
        if os.path.lexists(staged):
            with open(staged, "rb") as handle:
                os.fsync(handle.fileno())
            _replace_all([MANIFEST], staging, output)
            fsync_dir(output)
        shutil.rmtree(staging, ignore_errors=True)
    area.journal.unlink(missing_ok=True)


def _replace_all(names: list[str], staging: Path, output: Path, *, hook: bool = False) -> None:
    sources, targets = _Folders(staging), _Folders(output)
    middle = max(1, len(names) // 2)
    try:
        for index, rel in enumerate(names):
            parent, name = _split(rel)
            source = sources.get(parent)
            if source is not None:
                try:
                    os.stat(name, dir_fd=source, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # moved before a crash
                target = targets.get(parent, create=True)
                try:
                    os.replace(name, name, src_dir_fd=source, dst_dir_fd=target)
                except IsADirectoryError:
                    raise BuildError("cannot publish this file: a folder of yours is in the way; move it, then "
                                     "build again to finish publishing", output / rel) from None
            if hook and index + 1 == middle:
                kill_hook("between-replaces")
    finally:
        sources.close()
        targets.close()
