"""Files: the one atomic write, the one file hash, the one pickle cache entry, the one
"regular file (or real folder) inside this folder" check.

Every file launchbook writes into a project goes through :func:`atomic_write` (temp
file beside the target, fsync, rename, the folder fsynced, the temp file removed on any
failure), so a reader or a crash sees the old file or the new one, never a part of one.
A temp file is named ``.<name>.<pid>.<random>.tmp`` and marked as owned while written;
one a killed writer left behind (SIGKILL, power loss) is removed by the next write into
that folder. :func:`check_output_path` is the one check of a file path a user names
with ``-o``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import pickle
import re
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol, TypeVar

from generator.core import cachekey
from generator.core.errors import ConfigError, SourceError
from generator.core.locks import abandoned, mark_owned

_CHUNK = 1 << 20


def _file_mode() -> int:
    """Permissions a normal file creation would get (mkstemp makes files owner-only)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()
"""Mode of a newly created file under the current umask."""


def atomic_write(path: Path, data: bytes | IO[bytes], mode: int | None = FILE_MODE, *, durable: bool = True) -> None:
    """Write bytes (or a binary stream's contents) to ``path`` atomically.

    ``mode=None`` keeps the mode of the file replaced. ``durable=False`` skips the fsyncs
    (for caches, whose loss only costs time). A symlink at ``path`` is replaced by the
    file, never written through.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(path.parent)
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)  # no Ctrl-C/SIGTERM between mkstemp and the try
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal that came meanwhile is raised here
        mark_owned(handle)
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
            os.replace(temp, path)  # still open: the owner's mark lasts until the rename
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if durable:
        fsync_dir(path.parent)


TEMP_SUFFIX = ".tmp"
_STOPS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp$")
_swept: set[str] = set()


def sweep_temp_files(folder: Path) -> list[Path]:
    """Remove temp files of :func:`atomic_write` in ``folder`` whose writer is dead (once
    per folder and process; a running writer's temp file is marked and left alone)."""
    key = str(folder)
    if key in _swept:
        return []
    _swept.add(key)
    removed: list[Path] = []
    try:
        names = [entry.name for entry in os.scandir(folder) if _TEMP_NAME.match(entry.name)]
    except OSError:
        return removed
    for name in names:
        temp = folder / name
        if abandoned(temp) and not _writer_alive(name):  # between mkstemp and its mark, only the pid tells
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
                removed.append(temp)
    return removed


def _writer_alive(name: str) -> bool:
    """Whether the process whose pid the temp file's name carries still runs (a reused pid keeps
    a dead writer's file a little longer: never the other way round)."""
    match = _TEMP_NAME.match(name)
    if match is None:
        return False
    try:
        os.kill(int(match.group("pid")), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def check_output_path(path: Path, project: Path, force: bool) -> Path:
    """Where a command may write a file the user named (``-o``): never over an existing
    file without ``force``, never over a folder, never inside the project's sources
    (``content/``, ``themes/``). Returns the path (as given)."""
    target = path.absolute()
    resolved = target.resolve()
    check_outside_sources(resolved, project, "output file")
    if target.is_dir() or resolved.is_dir():
        raise ConfigError("output path is a folder; name a file", path)
    if (target.exists() or target.is_symlink()) and not force:
        raise ConfigError("output file exists; pass --force to replace it", path)
    return path


def check_output_folder(output: Path, project_dir: Path) -> None:
    """Refuse an output folder that is, is inside or holds the project, its content or themes."""
    content = (project_dir / "content").resolve()
    if output.is_relative_to(content) or content.is_relative_to(output):
        raise ConfigError("output folder overlaps the content folder; choose another -o", output)
    check_outside_sources(output, project_dir, "output folder")
    if project_dir.is_relative_to(output):
        raise ConfigError("output folder contains the project; choose another -o", output)


CACHE_DIR = ".launchbook-cache"
"""The project's cache folder (see ``generator/sources/cachedir.py``)."""


def check_outside_sources(target: Path, project: Path, what: str) -> None:
    """Refuse ``target`` (resolved) when it is, is inside or holds ``content/``, ``themes/`` or the
    cache folder (whose clean-up would delete it)."""
    for name in ("content", "themes", CACHE_DIR):
        sources = (project / name).resolve()
        if target.is_relative_to(sources):
            raise ConfigError(f"{what} is inside the project's {name}/ folder; choose another -o", target)
        if sources.is_relative_to(target):
            raise ConfigError(f"{what} would hold the project's {name}/ folder; choose another -o", target)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def file_digest(path: Path | str) -> tuple[str, int]:
    """(sha256 hex, size) of a file."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        size = handle.tell()
    return digest.hexdigest(), size


def file_sha256(path: Path | str) -> str:
    """sha256 hex of a file."""
    return file_digest(path)[0]


class FileHash(Protocol):
    """A file's sha256, possibly remembered from an earlier look (``info``: a ``stat`` of it
    already made, saving another), and its ``stat`` as this build first saw it."""

    def __call__(self, path: Path | str, info: os.stat_result | None = None, /) -> str: ...

    def stat(self, path: Path | str, /) -> os.stat_result: ...


C = TypeVar("C", bound=type)


def pickled_by_fields(cls: C) -> C:
    """Class decorator (above ``@dataclass``): instances pickle as a call of the class with their
    fields in order. A frozen dataclass with slots otherwise unpickles through the ``__setstate__``
    that dataclasses adds, which looks up the class's fields again for every object: a third of
    loading the 10,000 page summaries a one-edit build at 10,000 pages starts from."""
    names = tuple(field.name for field in dataclasses.fields(cls))

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__  # type: ignore[assignment]
    return cls


def load_pickle(path: Path | str, *, remember: bool = False) -> object | None:
    """A cache entry written by :func:`store_pickle`, or ``None`` when missing or unreadable.

    ``remember``: the entry is content-addressed (its name is the hash of everything it was
    made from), so a long-lived process that called :func:`keep_in_memory` (``serve``) keeps
    it, and its next build takes it from memory instead of reading and unpickling it again.
    """
    if remember and _MEMORY is not None and (known := _MEMORY.get(str(path))) is not None:
        return known
    data = read_cache_bytes(path)
    if data is None:
        return None
    with contextlib.suppress(pickle.UnpicklingError, EOFError, AttributeError, TypeError,
                             ValueError, ImportError, IndexError):
        value = pickle.loads(data)
        if remember:
            _remember(str(path), value)
        return value  # type: ignore[no-any-return]
    return None


def load_cache_text(path: Path | str, *, remember: bool = False) -> str | None:
    """A text cache entry, or ``None`` when missing or unreadable; ``remember`` as for
    :func:`load_pickle`."""
    if remember and _MEMORY is not None and isinstance(known := _MEMORY.get(str(path)), str):
        return known
    data = read_cache_bytes(path)
    try:
        text = data.decode("utf-8") if data is not None else None
    except ValueError:
        return None
    if remember and text is not None:
        _remember(str(path), text)
    return text


def read_cache_bytes(path: Path | str, limit: int | None = None) -> bytes | None:
    """A cache file's bytes; ``None`` when it is missing, unreadable, a link, not a regular
    file (a FIFO planted in the cache must not hang a build, a link must not be read through),
    longer than ``limit`` bytes, or not written by this user's launchbook (its tag does not
    match: see :mod:`generator.core.cachekey`)."""
    raw = _read_regular_bytes(path, None if limit is None else limit + cachekey.TAG)
    return cachekey.untagged(raw) if raw is not None else None


def _read_regular_bytes(path: Path | str, limit: int | None) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
            return None
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
        return data if limit is None or len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(descriptor)


def store_pickle(path: Path, value: object, *, remember: bool = False) -> None:
    """Write a cache entry (atomic; a failure only means a slower next run); ``remember`` as
    for :func:`load_pickle`."""
    store_cache_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    if remember:
        _remember(str(path), value)


_MEMORY: dict[str, object] | None = None
"""Content-addressed cache entries kept by a long-lived process; ``None`` in one-shot commands."""
REMEMBER_UP_TO = 250_000
"""Entries a process keeps (a long ``serve`` session starts afresh beyond this)."""


def keep_in_memory() -> None:
    """From now on, this process keeps the cache entries it reads with ``remember`` (``serve``:
    every rebuild after the first takes summaries, run digests and search entries from memory)."""
    global _MEMORY
    if _MEMORY is None:
        _MEMORY = {}


def keeping_in_memory() -> bool:
    """Whether :func:`keep_in_memory` was called in this process."""
    return _MEMORY is not None


def recall(key: str) -> object | None:
    """What :func:`remember` kept under ``key`` in this process, or ``None``."""
    return _MEMORY.get(key) if _MEMORY is not None else None


def remember(key: str, value: object) -> None:
    """Keep ``value`` (derived only from what ``key`` names, hashes included) for a later build
    in this process; nothing is kept unless :func:`keep_in_memory` was called."""
    _remember(key, value)


def _remember(key: str, value: object) -> None:
    if _MEMORY is None:
        return
    if len(_MEMORY) >= REMEMBER_UP_TO:
        _MEMORY.clear()
    _MEMORY[key] = value


_LATER: dict[str, tuple[Path, Callable[[], bytes]]] | None = None
"""Cache files to write once the rebuilt site is served (``serve``); ``None``: write at once."""


def defer_cache_writes() -> None:
    """From now on, :func:`store_cache_later` waits for :func:`flush_cache_writes` (``serve`` calls
    it after each rebuild's pages are served: the caches are for the next process, which checks
    every entry it reads, so a server killed before the flush only leaves an older cache)."""
    global _LATER
    if _LATER is None:
        _LATER = {}


def store_cache_later(path: Path, produce: Callable[[], bytes]) -> None:
    """Write the cache file ``path`` with the bytes ``produce`` makes: at once, or (after
    :func:`defer_cache_writes`) at the next :func:`flush_cache_writes`, the last wish for a path winning."""
    if _LATER is None:
        store_cache_bytes(path, produce())
    else:
        _LATER[str(path)] = (path, produce)


def flush_cache_writes() -> None:
    """Write every deferred cache file."""
    if not _LATER:
        return
    pending = list(_LATER.values())
    _LATER.clear()
    for path, produce in pending:
        store_cache_bytes(path, produce())


def store_cache_bytes(path: Path, data: bytes) -> None:
    """Write cache bytes atomically, without fsync; errors are ignored (a cache is optional).
    A file that already holds exactly these bytes is left as it is."""
    tagged = cachekey.tag(data) + data
    if _read_regular_bytes(path, len(tagged)) == tagged:
        return
    with contextlib.suppress(OSError):
        atomic_write(path, tagged, durable=False)


def regular_file(path: Path, inside: Path, *, shown: str | Path | None = None, line: int | None = None,
                 links: bool = False) -> Path:
    """``path`` when it is a regular file whose real location is inside ``inside``; else
    :class:`SourceError` naming ``shown`` (default ``path``) and ``line``.

    The file itself must not be a symbolic link (so what is read is what was checked),
    unless ``links`` allows links that stay inside ``inside``. Linked folders on the way are
    allowed only while the resolved path stays inside. A missing file is an error too:
    callers that tolerate one check first.
    """
    where = shown if shown is not None else path
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise SourceError("file not found", where, line) from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", where, line) from None
    if stat.S_ISLNK(info.st_mode) and not links:
        raise SourceError(f"is a symbolic link (to {os.readlink(path)}); launchbook reads only regular files here, "
                          "never through a link", where, line)
    inside_folder(path, inside, shown=where, line=line)
    if not Path(path).is_file():
        raise SourceError("is not a regular file", where, line)
    return path


def real_folder(path: Path, inside: Path, *, shown: str | Path | None = None, line: int | None = None) -> Path:
    """``path`` when it is not a symbolic link and its real location is inside ``inside`` (a
    missing folder passes: there is nothing to read through); else :class:`SourceError`.

    For folders whose files are trusted as a whole (a run's evidence, a checklist's runs): a
    link there would publish, embed and sign whatever it points at.
    """
    if os.path.islink(path):
        raise SourceError(f"is a symbolic link (to {os.readlink(path)}); launchbook reads this folder only as a "
                          "real folder, never through a link", shown if shown is not None else path, line)
    if os.path.lexists(path):
        inside_folder(path, inside, shown=shown, line=line)
    return path


def real_path(path: Path | str) -> Path:
    """``Path(path).resolve()``: where ``path`` really is, every link followed. An existing path
    is resolved by the kernel in one step (``O_PATH``, then its ``/proc/self/fd`` link: no file is
    opened for reading, a FIFO or device included) instead of an ``lstat`` per component (30 →
    5 µs for a run record); a missing path, a link loop, no ``/proc`` or anything odd is left to
    ``Path.resolve``."""
    flags = getattr(os, "O_PATH", 0)
    if flags:
        try:
            descriptor = os.open(path, flags | os.O_CLOEXEC)
        except (OSError, ValueError):
            return Path(path).resolve()
        try:
            found = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            found = ""
        finally:
            os.close(descriptor)
        if found.startswith("/") and not found.endswith(" (deleted)"):
            return Path(found)
    return Path(path).resolve()


def inside_folder(path: Path, inside: Path, *, shown: str | Path | None = None, line: int | None = None) -> Path:
    """``path`` when its real location (links resolved) is inside ``inside``, else :class:`SourceError`."""
    if not real_path(path).is_relative_to(real_path(inside)):
        target = os.readlink(path) if os.path.islink(path) else Path(path).resolve()
        raise SourceError(f"leads out of {inside} (a symbolic link to {target}); refusing to read through it",
                          shown if shown is not None else path, line)
    return path


def read_regular(path: Path, inside: Path, *, shown: str | Path | None = None, line: int | None = None) -> bytes:
    """The bytes of a file that passes :func:`regular_file`, opened without following a link
    (``O_NOFOLLOW``), so a link swapped in after the check is refused too."""
    regular_file(path, inside, shown=shown, line=line)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", shown if shown is not None else path, line) from None
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()
