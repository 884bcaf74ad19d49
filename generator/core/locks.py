"""The one lock: an exclusive ``flock`` tied to a path; and the ownership marks of
temporary files and folders (a ``flock`` held for as long as the writer lives, so a
later process can tell a crashed writer's leftovers from a running writer's work)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def is_lock_file(name: str) -> bool:
    """Whether a file named ``name`` is one :func:`locked` makes (``.<name>.lock``): never a
    source, never published, never part of a build's fingerprint. Any other ``.lock`` file is
    the user's."""
    return name.startswith(".") and name.endswith(".lock") and len(name) > len("..lock")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock tied to ``path`` (a hidden ``.<name>.lock`` beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.lock"
    with open(lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def locked_folder(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself (no lock file is left behind)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def mark_owned(fd: int) -> None:
    """Mark the file or folder open as ``fd`` as in use by this process (until ``fd`` is
    closed or the process dies, however it dies). Where the file system has no locks the
    mark is missing, and :func:`abandoned` then never calls the file abandoned."""
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def abandoned(path: Path) -> bool:
    """True when no living process holds the mark of :func:`mark_owned` on ``path``
    (its writer crashed). False when in use, gone or unreadable: then leave it alone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
