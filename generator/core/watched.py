"""What a file watcher saw change, so a long-lived process can skip walking unchanged trees.

``serve`` watches ``content/`` and ``themes/``. Before every rebuild it hands the watcher's
raw changes (every event, editor temp files included) to :func:`record`. A walk of a watched
tree then takes a :func:`mark` before it looks at the disk, keeps its result, and the next
walk asks :func:`modified_since` that mark: when everything that happened since is a
modification of a file (no file or folder added, deleted or renamed), the tree's shape is
the same and only those files need a fresh ``stat``. Anything else, or no watcher at all
(one-shot commands), means: walk again. The same log lets a build trust the output folder
it published itself: only files the watcher saw change there since need a look on disk
(:func:`changed_since`).

The watcher is trusted as far as ``serve`` already trusts it (a change it does not report
does not start a rebuild either); a walk made under a watcher is never written to disk.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

_lock = threading.Lock()
_roots: tuple[str, ...] | None = None
"""The watched folders (absolute, resolved); ``None`` when nothing is watched."""
_log: list[tuple[str, bool]] = []
"""The changes recorded since the log was last emptied: (absolute path, whether it was only a
modification of the file's content)."""
_dropped = 0
"""How many changes were dropped from the front of the log (marks count from the first ever)."""
KEEP_UP_TO = 100_000
"""Changes kept (a mass change such as a branch switch empties the log: every walk starts afresh)."""


def watching(roots: Iterable[Path]) -> None:
    """From now on, changes under ``roots`` are reported through :func:`record`."""
    global _roots
    with _lock:
        _roots = tuple(sorted(str(root.resolve()) for root in roots))
        _identities.clear()
        for root in _roots:
            with contextlib.suppress(OSError):
                info = os.lstat(root)
                _identities[root] = (info.st_dev, info.st_ino)
        _forget()


def stop_watching() -> None:
    """Walks go to the disk again (the watcher stopped, or a test ends)."""
    global _roots
    with _lock:
        _roots = None
        _forget()


def _forget() -> None:
    global _dropped
    _dropped += len(_log) + 1  # every earlier mark is now unknown
    _log.clear()


def record(changes: Iterable[tuple[str, bool]]) -> None:
    """Changes the watcher reported: (path, ``True`` when only the file's content changed)."""
    with _lock:
        if _roots is not None:
            _log.extend((os.path.abspath(path), modified) for path, modified in changes)
            if len(_log) > KEEP_UP_TO:
                _forget()


def mark(root: Path | str) -> int | None:
    """Where the log stands before a walk of ``root`` (``None`` when ``root`` is not watched)."""
    with _lock:
        if _roots is None or not _covered(os.path.abspath(root)):
            return None
        return _dropped + len(_log)


def modified_since(start: int | None, root: Path | str) -> frozenset[str] | None:
    """The files under ``root`` whose content changed since ``start`` (a :func:`mark`), when
    nothing else under it changed; ``None`` when unknown (walk again)."""
    found = _since(start, root)
    if found is None or not all(modified for _, _, modified in found):
        return None
    return frozenset(path for path, _, _ in found)


def changed_since(start: int | None, root: Path | str) -> frozenset[str] | None:
    """Every path under ``root`` the watcher reported anything about since ``start`` (a
    :func:`mark`), relative to ``root`` with ``/`` separators; ``None`` when unknown (or when
    ``root`` itself moved or went away)."""
    found = _since(start, root)
    if found is None or any(not rel for _, rel, _ in found):
        return None
    return frozenset(rel.replace(os.sep, "/") for _, rel, _ in found)


def _since(start: int | None, root: Path | str) -> list[tuple[str, str, bool]] | None:
    """(path, path relative to ``root`` — empty for ``root`` itself —, only modified?) of every
    change at or under ``root`` since ``start``; ``None`` when the log cannot tell."""
    if start is None:
        return None
    base = os.path.abspath(root)
    prefix = base.rstrip(os.sep) + os.sep
    with _lock:
        if _roots is None or not _dropped <= start <= _dropped + len(_log) or not _covered(base):
            return None
        return [(path, path[len(prefix):] if path != base else "", modified)
                for path, modified in _log[start - _dropped:] if path == base or path.startswith(prefix)]


_identities: dict[str, tuple[int, int]] = {}
"""Each watched folder's (device, inode) when watching began."""


def _covered(path: str) -> bool:
    """Whether ``path`` lies in a watched folder that is still the folder the watcher was given
    (one moved away and replaced leaves the watcher on the old one: then nothing is vouched for)."""
    assert _roots is not None
    for root in _roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            try:
                info = os.lstat(root)
            except OSError:
                return False
            return _identities.get(root) == (info.st_dev, info.st_ino)
    return False

