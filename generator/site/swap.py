"""Putting a finished build in place of the output folder without losing a user's file.

A build renders into a staging folder on the same file system as the output: beside it
(``.<output>.building-*``), or inside it (``<output>/.launchbook.building-*``) when the
output folder is a mount point (a Docker volume), which cannot be renamed. The swap then
renames the whole folder, or (mount point, or a rename refused with EBUSY/EXDEV/EPERM)
moves the top-level entries one by one.

Entries in the old output that launchbook did not create (not in its manifest) are the
user's: files, links, folders (empty ones too), FIFOs and sockets. They are carried into
the new output, or with ``clean`` moved aside to ``<output>.kept/`` (``.kept.2/`` … when
a name is taken there: never overwritten). Every conflict (a user entry where the new
build writes) is found before anything moves, and refused naming the path.

The swap is journaled (``.<tag>.swap.json``, written atomically before the first rename
and at each phase): a build killed mid-swap is completed by the next build, which also
removes staging folders whose build died (each is marked owned by a ``flock`` while its
build runs, so a concurrent build's staging is never touched).

A build that kept files of the previous output publishes in place instead (see
:mod:`generator.site.publish`), under the same lock and journal. The whole-folder swap
stays for first builds, ``--clean``, ``--no-cache`` and outputs without a safe manifest.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.core.errors import BuildError
from generator.core.locks import abandoned, locked_folder, mark_owned
from generator.site.journal import KILL_HOOK as KILL_HOOK
from generator.site.journal import Area, area_of, kill_hook, save_journal
from generator.site.manifest import conflict_error, created_by_us, describe, user_entries
from generator.site.publish import Changes, plan_publish, run_publish

_CANNOT_RENAME = {errno.EBUSY, errno.EXDEV, errno.EPERM}


@dataclass(slots=True)
class Staging:
    """A staging folder, marked as owned by this process while it is open."""

    path: Path
    area: Area
    fd: int = field(default=-1, repr=False)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def staging_dir(output: Path) -> Staging:
    """A fresh, empty staging folder on the same file system as ``output`` (after
    completing any interrupted swap and removing dead builds' staging folders)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    recover(output)
    area = area_of(output)
    path = Path(tempfile.mkdtemp(prefix=area.name("building-"), dir=area.folder))
    staging = Staging(path, area, os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)))
    mark_owned(staging.fd)
    return staging


def discard(staging: Staging) -> None:
    """Remove a staging folder after a failed build."""
    shutil.rmtree(staging.path, ignore_errors=True)
    staging.close()


def recover(output: Path) -> list[str]:
    """Complete a swap a killed build left half done; remove dead builds' staging folders.
    Returns where user entries found on the way were kept."""
    area = area_of(output)
    if not area.folder.is_dir():
        return []
    with locked_folder(area.folder):
        return _recover(area)


def _recover(area: Area) -> list[str]:
    kept: list[str] = []
    if area.journal.is_file():
        try:
            plan = json.loads(area.journal.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BuildError(f"unreadable swap journal ({exc}); remove it after checking the folders beside it",
                             area.journal) from None
        if plan.get("mode") == "publish":
            run_publish(plan, area)
        else:
            kept = _run(plan, area)
    for entry in sorted(area.folder.iterdir()) if area.folder.is_dir() else []:
        stale = entry.name.startswith((area.name("building-"), area.name("old-")))
        if stale and entry.is_dir() and not entry.is_symlink() and abandoned(entry):
            if entry.name.startswith(area.name("old-")):
                kept += _retire(entry, area.output, area)
            else:
                shutil.rmtree(entry, ignore_errors=True)
    return kept


def user_files(output: Path) -> list[str]:
    """User entries of an existing output folder (see :func:`user_entries`)."""
    if not output.exists():
        return []
    if not output.is_dir():
        raise BuildError("output path exists and is not a folder", output)
    return user_entries(output, created_by_us(output), area_of(output).skip)


def _carried(entries: list[str], output: Path, staging: Path) -> list[str]:
    """User entries to carry into ``staging``: a user folder the new build also makes is
    merged (its entries carried one by one)."""
    result: list[str] = []
    for rel in entries:
        old, new = output / rel, staging / rel
        if old.is_dir() and not old.is_symlink() and new.is_dir() and not new.is_symlink():
            result += _carried([f"{rel}/{child.name}" for child in sorted(old.iterdir())], output, staging)
        else:
            result.append(rel)
    return result


def _occupied(root: Path, rel: str) -> Path | None:
    """What in ``root`` stands where ``rel`` would go (itself, or a non-folder ancestor)."""
    current = root
    parts = rel.split("/")
    for index, part in enumerate(parts):
        current = current / part
        if not os.path.lexists(current):
            return None
        if index == len(parts) - 1 or current.is_symlink() or not current.is_dir():
            return current
    return None


def _kept_folder(output: Path, area: Area, entries: list[str]) -> Path:
    """``<output>.kept`` (inside a mount: ``.launchbook.kept``), or the first numbered one
    where none of ``entries`` is taken."""
    base = output / area.name("kept") if area.inside else output.with_name(output.name + ".kept")
    number = 1
    while True:
        folder = base if number == 1 else base.with_name(f"{base.name}.{number}")
        if os.path.lexists(folder) and (folder.is_symlink() or not folder.is_dir()):
            number += 1
            continue
        if not any(_occupied(folder, rel) for rel in entries):
            return folder
        number += 1


def swap_in(staging: Staging, output: Path, clean: bool, changes: Changes | None = None) -> list[str]:
    """Replace ``output`` with ``staging``; return where user entries were moved aside.
    With ``changes`` that keep files of the output, publish only the staged ones in place
    (see :mod:`generator.site.publish`)."""
    area = staging.area
    planned = False
    try:
        with locked_folder(area.folder):
            _recover(area)
            if changes is not None and changes.kept and not clean:
                journal = plan_publish(area, output, staging.path, changes)
                save_journal(area, journal)
                planned = True  # from here on, a failure is completed by the next build
                run_publish(journal, area)
                return []
            if output.exists() and not output.is_dir():
                raise BuildError("output path exists and is not a folder", output)
            entries = user_entries(output, created_by_us(output), area.skip)
            if clean:
                kept = _kept_folder(output, area, entries)
                moves = [(output / rel, kept / rel) for rel in entries]
            else:
                carried = _carried(entries, output, staging.path)
                conflicts = [(rel, hit) for rel in carried if (hit := _occupied(staging.path, rel)) is not None]
                if conflicts:
                    raise conflict_error(output, [(rel, describe(hit), hit.relative_to(staging.path).as_posix())
                                                  for rel, hit in conflicts])
                moves = [(output / rel, staging.path / rel) for rel in carried]
            retired = Path(tempfile.mkdtemp(prefix=area.name("old-"), dir=area.folder))
            plan: dict[str, Any] = {
                "output": str(output), "staging": str(staging.path), "retired": str(retired),
                "moves": [[str(a), str(b)] for a, b in moves], "phase": "move" if output.exists() else "swap",
                "entries": area.inside,
            }
            save_journal(area, plan)
            planned = True  # from here on, a failure is completed by the next build
            _run(plan, area)
            return [str(b) for a, b in moves if clean]
    except BaseException:
        if not planned:
            shutil.rmtree(staging.path, ignore_errors=True)
        raise
    finally:
        staging.close()


def _move(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` unless done already; never over an existing entry."""
    if not os.path.lexists(source) or os.path.lexists(target):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)


def _run(plan: dict[str, Any], area: Area) -> list[str]:
    """Carry out (or complete, after a crash) the swap ``plan``, phase by phase."""
    output, staging, retired = Path(plan["output"]), Path(plan["staging"]), Path(plan["retired"])
    retired.mkdir(exist_ok=True)
    if plan["phase"] == "move":
        for source, target in plan["moves"]:
            _move(Path(source), Path(target))
        plan["phase"] = "entries" if plan["entries"] else "swap"
        save_journal(area, plan)
    if plan["phase"] == "swap":
        if output.exists() and not os.path.lexists(retired / "site"):
            try:
                os.rename(output, retired / "site")
            except OSError as exc:
                if exc.errno not in _CANNOT_RENAME:
                    raise
                plan["phase"] = "entries"
                save_journal(area, plan)
        if plan["phase"] == "swap":
            kill_hook("between-renames")
            if staging.exists() and not output.exists():
                os.rename(staging, output)
            plan["phase"] = "clean"
            save_journal(area, plan)
    if plan["phase"] == "entries":
        for entry in sorted(output.iterdir()):
            if not (area.skip and entry.name.startswith(area.skip)):
                _move(entry, retired / entry.name)
        plan["phase"] = "fill"
        save_journal(area, plan)
    if plan["phase"] == "fill":
        kill_hook("between-renames")
        for entry in sorted(staging.iterdir()) if staging.is_dir() else []:
            _move(entry, output / entry.name)
        with contextlib.suppress(OSError):
            staging.rmdir()
        plan["phase"] = "clean"
        save_journal(area, plan)
    kept = _retire(retired, output, area)
    area.journal.unlink(missing_ok=True)
    return kept


def _retire(retired: Path, output: Path, area: Area) -> list[str]:
    """Delete a retired output, after moving aside anything in it launchbook did not
    create (a file added during the build, or left by a crash)."""
    kept: list[str] = []
    for root in [retired / "site", retired]:
        if not root.is_dir():
            continue
        leftovers = [rel for rel in user_entries(root, created_by_us(root)) if not (root == retired and rel == "site")]
        if leftovers:
            folder = _kept_folder(output, area, leftovers)
            for rel in leftovers:
                _move(root / rel, folder / rel)
                kept.append(str(folder / rel))
        if root == retired / "site":
            shutil.rmtree(root)
    shutil.rmtree(retired)
    return kept
