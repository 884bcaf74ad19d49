"""The key that authenticates every cache file, kept outside every project.

The caches under ``PROJECT/.launchbook-cache/`` hold pickles (loading one runs code) and texts
that go into the site as they are (search fragments, navigation HTML). A project's files come
from elsewhere, and ``git`` overwrites ignored files without a word: a ``git pull`` could plant
a cache entry. So every cache file starts with an HMAC-SHA256 of its bytes under a key that is
never in a project: ``$XDG_CACHE_HOME/launchbook/cache-key`` (default ``~/.cache/…``), made at
random on first use and readable by its owner only. A file whose tag does not match is no cache
entry (it is made again). Where no key file can be kept, each process makes its own: its cache
entries are good for itself only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

TAG = 32
"""Bytes of the tag at the start of every cache file."""
_KEY_BYTES = 32
_key: tuple[bytes, bool] | None = None
"""The key and whether it is the one kept in :func:`key_path` (one value: a test resets both at once)."""


def key_path() -> Path:
    """Where the key is kept (outside every project)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "launchbook" / "cache-key"


def _state() -> tuple[bytes, bool]:
    """The key and whether it is the kept one, read or made once per process."""
    global _key
    if _key is None:
        kept = _read_or_make(key_path())
        _key = (kept or secrets.token_bytes(_KEY_BYTES), kept is not None)
    return _key


def cache_key() -> bytes:
    """This user's key, read or made once per process."""
    return _state()[0]


def key_kept() -> bool:
    """Whether the key is the one in :func:`key_path` (``False``: this process's own, where no
    key file can be kept, so cache entries are good for this process only)."""
    return _state()[1]


def _read_or_make(path: Path) -> bytes | None:
    key = _read(path)
    if key is not None:
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
        try:
            os.link(fresh, path)  # never replaces a key another process made first
        except FileExistsError:
            pass
        finally:
            os.unlink(fresh)
    except OSError:
        return None
    return _read(path)


def _read(path: Path) -> bytes | None:
    """The key file's bytes when it is a regular file of the right length, not a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        data = os.read(descriptor, _KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return data if len(data) == _KEY_BYTES else None


def tag(data: bytes) -> bytes:
    """The tag of a cache file holding ``data``."""
    return hmac.new(cache_key(), data, hashlib.sha256).digest()


def untagged(raw: bytes) -> bytes | None:
    """The data of a cache file's bytes ``raw`` when its tag is right, else ``None``."""
    if len(raw) < TAG or not hmac.compare_digest(raw[:TAG], tag(raw[TAG:])):
        return None
    return raw[TAG:]
