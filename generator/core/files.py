"""Files: the one atomic write, the one file hash, the one pickle cache entry.

Every file launchbook writes into a project goes through :func:`atomic_write` (temp
file beside the target, fsync, rename, the folder fsynced, the temp file removed on any
failure), so a reader or a crash sees the old file or the new one, never a part of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


def _file_mode() -> int:
    """Permissions a normal file creation would get (mkstemp makes files owner-only)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()
"""Mode of a newly created file under the current umask."""


def atomic_write(path: Path, data: bytes | BinaryIO, mode: int | None = FILE_MODE, *, durable: bool = True) -> None:
    """Write bytes (or a binary stream's contents) to ``path`` atomically.

    ``mode=None`` keeps the mode of the file replaced. ``durable=False`` skips the fsyncs
    (for caches, whose loss only costs time). A symlink at ``path`` is replaced by the
    file, never written through.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                shutil.copyfileobj(data, out, _CHUNK)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if mode is None and path.exists() and not path.is_symlink():
            shutil.copymode(path, temp)
        else:
            os.chmod(temp, FILE_MODE if mode is None else mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def file_digest(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of a file."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        size = handle.tell()
    return digest.hexdigest(), size


def file_sha256(path: Path) -> str:
    """sha256 hex of a file."""
    return file_digest(path)[0]


def load_pickle(path: Path) -> object | None:
    """A cache entry written by :func:`store_pickle`, or ``None`` when missing or unreadable."""
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError,
                             ValueError, ImportError, IndexError):
        return pickle.loads(path.read_bytes())  # type: ignore[no-any-return]
    return None


def store_pickle(path: Path, value: object) -> None:
    """Write a cache entry (atomic; a failure only means a slower next run)."""
    store_cache_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def store_cache_bytes(path: Path, data: bytes) -> None:
    """Write cache bytes atomically, without fsync; errors are ignored (a cache is optional)."""
    with contextlib.suppress(OSError):
        atomic_write(path, data, durable=False)
