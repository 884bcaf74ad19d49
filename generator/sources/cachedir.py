"""Where the caches live, and what is removed from them.

Everything launchbook caches for a project is under ``PROJECT/.launchbook-cache/`` (safe to
delete at any time), in a folder per version of its code, ``v-<16 hex of the code digest>``:
every version re-keys every parse, so a build removes the folders other versions left
(:func:`sweep_cache`; 12 GB at 10,000 pages after a few upgrades). Within a version, every edit
leaves its page's earlier parse behind, every item marked in a run its record's earlier parse,
and every change to the site's tree each folder's earlier navigation; :func:`prune_entries`
removes those once they are a fair share of the cache (a long ``serve`` session edits the same
pages again and again, a run of 140 items is saved 140 times).

Nothing is followed through a link, and nothing launchbook did not name is removed.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import stat
import time
from collections.abc import Set
from pathlib import Path

from generator import code_digest
from generator.core.errors import SourceError
from generator.core.files import CACHE_DIR, read_cache_bytes, store_cache_bytes

_VERSION_FOLDER = re.compile(r"v-[0-9a-f]{16}")
_OLD_LAYOUT = frozenset({"parsed", "records", "nav", "search-postings", "checklist-index.json", "file-hashes.json",
                         "ledger-state.json"})
"""What launchbook kept directly in ``.launchbook-cache/`` before the cache had a folder per code version."""
_ENTRY = re.compile(r"([0-9a-f]{64})(?:\.[a-z]+)?")
"""A parse cache file: a key, and a suffix for what was derived from the document."""
SAMPLED = 8
"""Shard folders (of 256) a build looks at to estimate how much of the parse cache is stale."""
STALE_FROM = 256
"""Stale entries (estimated) below which nothing is pruned, whatever the share."""


def cache_dir(project: Path) -> Path:
    """This code's cache folder in ``project``: ``.launchbook-cache/v-<16 hex of the code digest>``,
    made if missing (where the project can be written).

    Every cache file is authenticated (:mod:`generator.core.cachekey`), so a planted entry is
    never loaded. The folder itself must be one launchbook made on this machine, not a copy or
    one a cloned repository brought along (links planted in it would lead the cache's writes
    elsewhere): it is made holding :data:`MADE_HERE`, an authenticated note of its own device and
    inode. Any other folder is moved aside and removed, and a new one made; where that cannot be
    done (a read-only project) it is left, and nothing in it is trusted. ``.launchbook-cache`` and
    the folder must be real folders, never links or files: that is a :class:`SourceError`.
    """
    top = project / CACHE_DIR
    folder = top / f"v-{code_digest()[:16]}"
    for _ in range(3):  # another process may replace it meanwhile: look again
        info = _folder_info(project, top, folder)
        if info is None:
            _make(top, folder)
            continue
        made = (info.st_dev, info.st_ino)
        if _checked.get(str(folder)) == made or _made_here(folder) == made:
            _checked[str(folder)] = made
            return folder
        aside = top / f"{_OLD_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        try:
            os.rename(folder, aside)  # one step: a process using it now keeps its files until it is done
        except FileNotFoundError:
            continue
        except OSError:
            return folder  # cannot be moved (read-only): left as it is, its files do not authenticate
        shutil.rmtree(aside, ignore_errors=True)
    return folder


def _folder_info(project: Path, top: Path, folder: Path) -> os.stat_result | None:
    """``folder``'s ``lstat`` (``None``: missing), after checking it and ``top`` are real folders."""
    info = None
    for path in (top, folder):
        shown = path.relative_to(project).as_posix()
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", shown) from None
        if not stat.S_ISDIR(info.st_mode):
            raise SourceError("is a link or a file, not launchbook's cache folder; delete it (it only holds a cache, "
                              "made again by the next build)", shown)
    return info


MADE_HERE = ".made-here"
"""In a cache folder: ``<device>:<inode>`` of the folder when launchbook made it (authenticated)."""
_checked: dict[str, tuple[int, int]] = {}
"""Cache folders this process found made here, with their (device, inode)."""


def _made_here(folder: Path) -> tuple[int, int] | None:
    data = read_cache_bytes(folder / MADE_HERE, 64)
    try:
        device, inode = (data or b"").decode("ascii").split(":")
        return int(device), int(inode)
    except ValueError:
        return None


def _make(top: Path, folder: Path) -> None:
    """Make ``folder`` with its :data:`MADE_HERE` in one rename (another process may win the
    race: its folder is as good). Where the project cannot be written, no cache is made (the
    caller's reads find nothing; its writes fail quietly)."""
    fresh = None
    try:
        top.mkdir(exist_ok=True)
        fresh = top / f"{_FRESH_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        fresh.mkdir()  # (mkdtemp would make it private to this user)
        info = os.lstat(fresh)
        store_cache_bytes(fresh / MADE_HERE, f"{info.st_dev}:{info.st_ino}".encode("ascii"))
        os.rename(fresh, folder)
        fresh = None
    except OSError:
        pass
    finally:
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)


_FRESH_PREFIX = ".v-new-"
"""A cache folder being made (renamed into place at once; one a killed process left is swept)."""
_OLD_PREFIX = ".v-old-"
"""A cache folder moved aside to be removed (one a killed process left is swept)."""


def sweep_cache(project: Path) -> list[str]:
    """Remove what other code versions left in ``project``'s cache (their ``v-*`` folders and the
    layout before those folders); nothing else in ``.launchbook-cache/`` is touched, and links are
    removed, never followed. Returns the names removed. A process of another version still using
    its folder only finds its cache empty (entries are made again on a miss)."""
    try:
        current = cache_dir(project).name
        top = project / CACHE_DIR
        device = os.lstat(top).st_dev
        entries = list(os.scandir(top))
    except (SourceError, OSError):
        return []  # after a build: a cache folder broken since is the next build's error, not this one's
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        fresh = entry.name.startswith((_FRESH_PREFIX, _OLD_PREFIX))
        if entry.name == current or not (_VERSION_FOLDER.fullmatch(entry.name) or entry.name in _OLD_LAYOUT or fresh):
            continue
        try:
            if fresh and time.time() - entry.stat(follow_symlinks=False).st_mtime < 60:
                continue  # another process is making its cache folder this moment
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)  # a file, or a link: removed, never followed
            elif entry.stat(follow_symlinks=False).st_dev == device:
                shutil.rmtree(entry.path)
            else:
                continue  # a mount point: whatever is mounted there is not launchbook's to delete
        except OSError:
            continue  # another process removing it too, or no permission: the next build tries again
        removed.append(entry.name)
    return removed


def prune_entries(folder: Path, live: Set[str], rng: random.Random | None = None) -> int:
    """Remove the files of the cache ``folder`` (parses, records, navigation) whose key is not in ``live``
    (what this build read and keeps) when, judged from :data:`SAMPLED` shard folders, more than
    :data:`STALE_FROM` of them and more than a quarter as many as ``live`` are stale. Returns the
    number of files removed. Another process still using a removed entry parses again."""
    if os.path.islink(folder) or os.path.islink(folder.parent):
        return 0  # replaced by a link since the build read it: never followed
    shards = [f"{n:02x}" for n in range(256)]
    sample = (rng or random).sample(shards, SAMPLED)
    stale = sum(len(_stale(folder / shard, live)) for shard in sample)
    estimate = stale * len(shards) // SAMPLED
    if estimate <= max(STALE_FROM, len(live) // 4):
        return 0
    removed = 0
    for shard in shards:
        for path in _stale(folder / shard, live):
            try:
                os.unlink(path)
            except OSError:
                continue  # gone already, or not ours to remove
            removed += 1
    return removed


def _stale(shard: Path, live: Set[str]) -> list[str]:
    """Paths of the regular files in ``shard`` named for a key not in ``live`` (never a link,
    a folder, or a name launchbook does not make)."""
    try:
        if os.path.islink(shard):
            return []
        entries = list(os.scandir(shard))
    except OSError:
        return []
    found = []
    for entry in entries:
        match = _ENTRY.fullmatch(entry.name)
        if match and match.group(1) not in live and entry.is_file(follow_symlinks=False):
            found.append(entry.path)
    return found
