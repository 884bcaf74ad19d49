"""Evidence: URLs recorded as they are, files copied into the run's evidence folder.

Files are hashed, copied and the copy checked against the hash (sha256 and size go into the
record; a source that changes meanwhile is refused), stored under a
sanitised name (the original name goes into the record when it differs), and never
overwritten: a different file with the same name gets a
numbered name, the same file is stored once.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from generator.core.errors import SourceError
from generator.core.files import atomic_write, file_digest, regular_file
from generator.core.keyfiles import file_private_key_kind
from generator.runs.record import Evidence

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def safe_name(name: str) -> str:
    """``name`` in letters, digits, ``.``, ``_`` and ``-`` only: a name every tool and file system takes."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    clean = _UNSAFE.sub("-", stem).strip("-.") or "evidence"
    clean_suffix = _UNSAFE.sub("", suffix)[:16]
    return f"{clean}.{clean_suffix}" if clean_suffix else clean


def _differs(original: str, stored: str) -> str:
    return original if original != stored else ""


def check_source(value: str, base: Path) -> Path | None:
    """Resolve an ``--evidence`` argument: ``None`` for a URL, else an existing file."""
    if is_url(value):
        return None
    path = (base / value).expanduser()
    if not path.is_file():  # a FIFO, device or folder is never opened (it could block or never end)
        what = "not a regular file" if path.exists() else "not found"
        raise SourceError(f"evidence file {what}: {value}")
    return path


def store_file(run_folder: Path, source: Path) -> tuple[Evidence, Path | None]:
    """Copy ``source``'s bytes into ``run_folder/evidence``; return the evidence and the new file (if any).

    ``source`` may be a link the user named (its bytes are copied; the stored copy is a
    regular file). A private key is refused: evidence is published and embedded in reports.
    Inside the evidence folder nothing is a link: one planted there is refused, never followed.
    """
    kind = file_private_key_kind(source)
    if kind is not None:
        raise SourceError(f"refusing to attach a {kind} as evidence: evidence is published on the site and "
                          "embedded in the signed report", source)
    digest, size = file_digest(source)
    folder = run_folder / "evidence"
    if folder.is_symlink() or (folder.exists() and not folder.resolve().is_relative_to(run_folder.resolve())):
        raise SourceError("the evidence folder is a symbolic link; refusing to store evidence through it", folder)
    folder.mkdir(parents=True, exist_ok=True)
    original = source.name
    name = safe_name(original)
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    counter = 1
    while True:
        candidate = folder / name
        if not os.path.lexists(candidate):
            break
        regular_file(candidate, folder)
        if file_digest(candidate) == (digest, size):
            return Evidence(file=f"evidence/{name}", sha256=digest, size=size, name=_differs(original, name)), None
        counter += 1
        name = f"{stem}-{counter}{dot}{suffix}"
    with open(source, "rb") as src:
        atomic_write(candidate, src)
    if file_digest(candidate) != (digest, size):  # the source changed between hashing and copying
        candidate.unlink()
        raise SourceError("evidence file changed while it was being copied; nothing was recorded, try again", source)
    return Evidence(file=f"evidence/{name}", sha256=digest, size=size, name=_differs(original, name)), candidate


def store_bytes(run_folder: Path, name: str, data: bytes) -> tuple[Evidence, Path | None]:
    """Store generated evidence (e.g. an imported JUnit XML) like a file."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / name
        source.write_bytes(data)
        return store_file(run_folder, source)
