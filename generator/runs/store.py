"""Where run records live, and the only code that reads or writes them.

``content/runs/<checklist-id>/<run-id>.yml`` with evidence in ``<run-id>/evidence/``. A
checklist ID may be a path (``payments/go-live``): its records are then in
``content/runs/payments/go-live/``. The ledger (``runs/ledger.jsonl``), ``runs/checkpoints/``,
hidden names and each run's own folder are never taken for records.
Every change happens under an exclusive lock on the record and is written atomically
(temp file, fsync, rename), so concurrent commands never lose each other's updates
and a crash never leaves half a record.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.core.errors import SourceError
from generator.core.files import (
    FileHash,
    atomic_write,
    inside_folder,
    load_pickle,
    read_regular,
    real_folder,
    regular_file,
    store_pickle,
)
from generator.core.locks import locked
from generator.runs.codec import RUN_ID, dump_record, load_record
from generator.runs.record import RunRecord

RUNS = Path("content") / "runs"
NOT_CHECKLISTS = frozenset({"checkpoints"})
"""Folders directly under ``runs/`` that hold archive files, not a checklist's records."""


@dataclass(frozen=True, slots=True)
class RunFile:
    """A record's location."""

    path: Path
    """``…/content/runs/<checklist>/<run>.yml``."""
    project: Path
    """Project folder."""

    @property
    def folder(self) -> Path:
        """``…/content/runs/<checklist>/<run>/`` (holds ``evidence/``)."""
        return self.path.with_suffix("")

    @property
    def report(self) -> Path:
        """``…/content/runs/<checklist>/<run>.pdf``: the signed report beside the record."""
        return self.path.with_suffix(".pdf")

    @property
    def shown(self) -> str:
        return self.path.relative_to(self.project).as_posix()

    @property
    def checklist(self) -> str:
        """The checklist ID the record's folder stands for (``payments/go-live``)."""
        return self.path.parent.relative_to(runs_dir(self.project)).as_posix()


def runs_dir(project: Path) -> Path:
    return project / RUNS


def run_file(project: Path, checklist_id: str, run_id: str) -> RunFile:
    return RunFile(runs_dir(project) / checklist_id / f"{run_id}.yml", project)


def all_run_files(project: Path) -> list[RunFile]:
    """Every record, sorted by checklist then run id."""
    return _run_files(project)


def _run_files(project: Path, name: str | None = None) -> list[RunFile]:
    """Every record (named ``name`` only, when given), sorted by checklist then run id, each
    checked the same way: no record, checklist folder or run folder read through a link."""
    root = runs_dir(project)
    if not root.is_dir():
        return []
    # A record, its checklist's folder or its run's folder read through a link would publish (and
    # seal) files from elsewhere. content/ itself may be a link; content/runs must stay inside it.
    inside_folder(root, project / RUNS.parent, shown=RUNS.as_posix())
    files = [RunFile(p, project) for p in sorted(_record_paths(root, project, name))]
    for folder in sorted({f.path.parent for f in files}):
        real_folder(folder, root, shown=folder.relative_to(project).as_posix())
    for file in files:
        if file.path.is_symlink():
            regular_file(file.path, root, shown=file.shown)
        # Its checklist's folder is checked above, so a run's folder that is not a link is inside
        # too: resolving it again (10,000 times for 10,000 runs) would prove nothing more.
        if os.path.islink(file.folder):
            real_folder(file.folder, root, shown=file.folder.relative_to(project).as_posix())
    return files


def _record_paths(root: Path, project: Path, name: str | None = None) -> list[Path]:
    """``runs/<checklist path>/<run>.yml`` files (named ``name`` only, when given), at any depth
    below the first level. Every folder is still listed (a checklist's records may sit in any),
    but a record is only made into a path, sorted and checked when it is the one asked for."""
    found: list[Path] = []
    seen: set[str] = set()
    pending = [(root, 0)]
    while pending:
        folder, depth = pending.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        if depth:  # a record read through a link would publish a file from elsewhere
            inside_folder(folder, root, shown=folder.relative_to(project).as_posix())
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        stems = {e.name[:-4] for e in entries if e.name.endswith(".yml") and e.is_file()}
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if entry.is_symlink():  # a checklist's or a run's folder is never read through a link
                    real_folder(Path(entry.path), root, shown=Path(entry.path).relative_to(project).as_posix())
                if entry.name not in stems and not (depth == 0 and entry.name in NOT_CHECKLISTS):
                    pending.append((Path(entry.path), depth + 1))
            elif depth and entry.name.endswith(".yml") and (name is None or entry.name == name):
                found.append(Path(entry.path))
    return found


def find_run(project: Path, run_id: str) -> RunFile:
    """The record of ``run_id``; an unknown id gets the closest known ids suggested."""
    if not RUN_ID.match(run_id):
        raise SourceError(f"invalid run id {run_id!r}")
    matches = _run_files(project, f"{run_id}.yml")
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise SourceError(f"run id {run_id!r} exists under several checklists: "
                          + ", ".join(m.shown for m in matches))
    known = [f.path.stem for f in all_run_files(project)]
    close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.5)
    listing = "; `launchbook run list` shows the runs" if known else ""
    hint = f"; did you mean {', '.join(close)}?" if close else listing
    raise SourceError(f"unknown run {run_id!r}{hint}")


def read_record(run: RunFile, cache: Path | None = None, key: str = "") -> RunRecord:
    """Read and validate a record; with ``cache`` (a folder), reuse the parse of identical bytes.

    ``key`` is the record's :func:`record_cache_key` when the caller has it already (then a
    cached record is loaded without reading the file again).
    """
    if cache is not None and key:
        cached = load_pickle(cache / key[:2] / key)
        if isinstance(cached, RunRecord):
            return cached
    data = read_regular(run.path, runs_dir(run.project), shown=run.shown)  # never a link, FIFO or device
    if cache is not None:
        key = record_cache_key(run, data)
        cached = load_pickle(cache / key[:2] / key)
        if isinstance(cached, RunRecord):
            return cached
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("not valid UTF-8", run.shown) from None
    record = load_record(text, run.shown)
    if record.id != run.path.stem:
        raise SourceError(f"record id {record.id!r} does not match its file name", run.shown, 1)
    if record.checklist != run.checklist:
        raise SourceError(f"record of checklist {record.checklist!r} is in runs/{run.checklist}/; records live in "
                          f"runs/<checklist ID>/, so move it to runs/{record.checklist}/", run.shown, 1)
    if cache is not None:
        store_pickle(cache / key[:2] / key, record)
    return record


def record_cache_key(run: RunFile, data: bytes) -> str:
    """Key of a record's cached parse: its bytes, its path and the code that reads it."""
    return _key_of_digest(run, hashlib.sha256(data).hexdigest())


def _key_of_digest(run: RunFile, sha256: str) -> str:
    return hashlib.sha256(_CODEC_VERSION + run.shown.encode() + b"\0" + sha256.encode()).hexdigest()


def record_cache_keys(files: list[RunFile], file_hash: FileHash | None = None) -> list[str]:
    """:func:`record_cache_key` of each record (``""`` for one that cannot be read: reading
    it again reports the error). ``file_hash`` gives a file's sha256 without reading it when it
    is known unchanged (the up-to-date check's remembered hashes)."""
    keys = []
    for run in files:
        if run.path.is_symlink() or not run.path.is_file():  # a FIFO would never end; reading reports it
            keys.append("")
            continue
        try:
            keys.append(_key_of_digest(run, file_hash(run.path)) if file_hash is not None
                        else record_cache_key(run, run.path.read_bytes()))
        except OSError:
            keys.append("")
    return keys


def _codec_version() -> bytes:
    """Hash of the code that reads records: a cached parse is only reused by the same code."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in (here / "codec.py", here / "record.py", here / "store.py", here.parent / "core" / "yamlload.py"):
        digest.update(path.read_bytes())
    return digest.digest()


_CODEC_VERSION = _codec_version()



def write_record(run: RunFile, record: RunRecord) -> None:
    atomic_write(run.path, dump_record(record).encode("utf-8"))


def create_record(run: RunFile, record: RunRecord) -> None:
    """Write a new record; refuses to replace an existing one."""
    with locked(run.path.parent / "new-run"):
        if run.path.exists():
            raise SourceError(f"run {record.id!r} already exists", run.shown)
        write_record(run, record)


def update_record(run: RunFile, change: Callable[[RunRecord], RunRecord]) -> RunRecord:
    """Read, change and write one record under its lock; return the new record."""
    with locked(run.path):
        record = read_record(run)
        updated = change(record)
        write_record(run, updated)
        return updated
