"""An archive of N sealed runs, made once and kept, and ``launchbook verify`` of it.

Sealing is the slow part (each ``run close`` renders and signs a PDF: ~0.6 s on an idle
core), so the archive is cached at ``bench/.work/sealed-N`` with a marker file,
``bench-sealed.json``, naming the code version that sealed it (a hash of every file under
``generator/`` and of this recipe). A later benchmark reuses a complete archive of the same
version, resumes an interrupted one, or starts from a copy of the largest smaller archive of
the same version and seals only the rest (the ledger simply grows, as it does in use).

Workers: ``run close`` renders and signs while it holds the ledger's lock (the sealed record
and its PDF name the ledger head they extend, so they cannot be made before the previous
line is written). Sealing from several processes is therefore safe — ``flock`` on the ledger
and on each record, records created under a lock — but only the parts outside the lock
overlap: finding the record (``find_run`` lists every record), loading the key and the config.
Measured on this 2-core machine (loaded), 12 more seals after 1,000: one process 15.6–18.0 s,
two 15.6–16.5 s. Each close also costs more as the archive grows (``find_run`` and the
ledger parse are linear in the runs: ~0.07 s + ~0.04 s per 1,000 runs), so 10,000 runs take
hours to seal the first time; hence the cache.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import ROOT, launchbook_command, measure

WORK = ROOT / "bench" / ".work"
MARKER = "bench-sealed.json"
RECIPE = "2: deploy.md with two items, all done, closed --force at its start time, self-signed key"
CHECKLIST = ("# Deploy\n\n## Before\n\n- [ ] Announce {#announce}\n- [ ] Freeze {#freeze}\n\n## Sign-off\n\n"
             "| Role | Name | Signature | Date |\n|---|---|---|---|\n| Release Manager | | | |\n")
START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 25
"""Runs a worker seals before reporting back (the marker's time is saved after each)."""


def code_version() -> str:
    """Hash of every source under generator/ (and of the recipe): what makes a sealed archive."""
    digest = hashlib.sha256(RECIPE.encode())
    for path in sorted((ROOT / "generator").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "generator", "bench/*.py"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return done.stdout.strip() + ("+changes" if dirty else "") if done.returncode == 0 else ""


def read_marker(project: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((project / MARKER).read_text()))
    except (OSError, ValueError):
        return {}


def write_marker(project: Path, **fields: Any) -> None:
    (project / MARKER).write_text(json.dumps({**read_marker(project), **fields}, indent=2, sort_keys=True) + "\n")


def new_archive(project: Path) -> None:
    from generator.report.keys import create_key

    shutil.rmtree(project, ignore_errors=True)
    (project / "content").mkdir(parents=True)
    (project / "content/deploy.md").write_text(CHECKLIST)
    key = create_key(project / "keys", "Benchmark sealer")
    (project / "content/site.yml").write_text(f"trust:\n  - ../keys/{key.certificate.name}\n")


def key_files(project: Path) -> tuple[Path, Path]:
    """(PKCS#12, certificate PEM) of the archive's sealing key."""
    keys = project / "keys"
    return next(keys.glob("*.p12")), next(keys.glob("*.pem"))


def _runs_so_far(project: Path) -> tuple[set[int], list[tuple[str, str]]]:
    """Numbers of the runs the archive has, and (id, start) of those not sealed (an interrupted sealing)."""
    from generator.runs.store import all_run_files, read_record

    numbers, unsealed = set(), []
    for run in all_run_files(project):
        numbers.add(int(run.path.stem.rsplit("-r", 1)[1]))
        record = read_record(run)
        if record.sealed is None:
            unsealed.append((record.id, record.started_at))
    return numbers, unsealed


def deploy_snapshot(project: Path) -> Any:
    """The snapshot every run of deploy.md starts from (what ``run start`` would take)."""
    from generator.runs.lookup import find_checklist
    from generator.runs.start import snapshot_of

    return snapshot_of(find_checklist(project, "deploy"))


def seal_one(project: Path, n: int, snapshot: Any) -> None:
    """Run ``n`` of deploy.md, every item done, closed: sealed, signed, in the ledger.

    The record is what ``run start`` and ``run mark`` would write, written at once under
    its ``run start`` id (``run start`` itself lists every record to find a free id, which
    would make the archive quadratic to build); ``run close`` is the real one.
    """
    from generator.archive.seal import close_run
    from generator.runs.operations import apply_entry
    from generator.runs.record import Entry, RunRecord, Status
    from generator.runs.store import create_record, run_file

    moment = START + timedelta(minutes=n)
    at = moment.strftime("%Y-%m-%dT%H:%M:00Z")
    record = RunRecord(id=f"{moment:%Y%m%d-%H%M}-r{n}", checklist="deploy", release=f"r{n}", snapshot=snapshot,
                       started_at=at)
    for item in snapshot.items:
        record = apply_entry(record, item.id, Entry(Status.DONE, "bench", at))
    create_record(run_file(project, "deploy", record.id), record)
    close_run(project, record.id, key=str(key_files(project)[0]), force=True, at=at)


def _seal_chunk(project: Path, numbers: list[int]) -> int:
    snapshot = deploy_snapshot(project)
    for n in numbers:
        seal_one(project, n, snapshot)
    return len(numbers)


def seal_numbers(project: Path, numbers: list[int], workers: int, progress: Callable[[int], None]) -> None:
    """Seal runs ``numbers`` in chunks over ``workers`` processes; ``progress(done)`` after each chunk."""
    chunks = [numbers[i:i + CHUNK] for i in range(0, len(numbers), CHUNK)]
    if workers <= 1 or len(chunks) < 2:
        for chunk in chunks:
            progress(_seal_chunk(project, chunk))
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for done in pool.imap_unordered(partial(_seal_chunk, project), chunks):
            progress(done)


def _smaller_archive(count: int, version: str) -> Path | None:
    """The largest complete archive of fewer runs sealed by this code version."""
    found = []
    for candidate in WORK.glob("sealed-*"):
        marker = read_marker(candidate)
        if marker.get("complete") and marker.get("version") == version and 0 < marker.get("sealed", 0) < count:
            found.append((marker["sealed"], candidate))
    return max(found)[1] if found else None


def sealed_archive(count: int, *, workers: int, reseal: bool = False, any_version: bool = False) -> dict[str, Any]:
    """The archive of ``count`` sealed runs (made, resumed, extended or reused); what it took."""
    from generator.archive.seal import close_run

    project, version = WORK / f"sealed-{count}", code_version()
    marker = read_marker(project)
    same = marker.get("version") == version or (any_version and marker.get("complete"))
    if marker.get("complete") and same and not reseal:
        return {**marker, "project": str(project), "reused": True}
    if not (marker and same and not reseal):
        source = None if reseal else _smaller_archive(count, version)
        if source is not None:
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(source, project)
            print(f"extending {source.name} ({read_marker(source)['sealed']} runs) to {count}", file=sys.stderr)
        else:
            new_archive(project)
            write_marker(project, seal_seconds=0.0, sealed=0)
        write_marker(project, version=version, commit=git_commit(), complete=False, recipe=RECIPE)
    started = time.perf_counter()
    have, unsealed = _runs_so_far(project)
    for run_id, at in unsealed:  # an interrupted sealing: finish those runs (close_run completes half-closed ones)
        close_run(project, run_id, key=str(key_files(project)[0]), force=True, at=at)
    missing = [n for n in range(count) if n not in have]
    total = read_marker(project).get("seal_seconds", 0.0)
    done = 0
    print(f"sealing {len(missing)} of {count} runs on {workers} processes", file=sys.stderr, flush=True)

    def progress(sealed: int) -> None:  # the marker keeps the time spent, so an interrupted sealing counts
        nonlocal done
        done += sealed
        elapsed = time.perf_counter() - started
        write_marker(project, seal_seconds=total + elapsed)
        left = elapsed / done * (len(missing) - done)
        print(f"  sealed {done}/{len(missing)} in {elapsed / 60:.1f} min; about {left / 60:.0f} min left",
              file=sys.stderr, flush=True)

    seal_numbers(project, missing, workers, progress)
    write_marker(project, seal_seconds=total + time.perf_counter() - started, sealed=count, complete=True,
                 workers=workers, sealed_on=time.strftime("%Y-%m-%d", time.gmtime()))
    return {**read_marker(project), "project": str(project), "reused": False,
            "this_run_seconds": time.perf_counter() - started, "new_runs": len(missing) + len(unsealed)}


def bench_verify(count: int, *, workers: int, reseal: bool = False, any_version: bool = False) -> dict[str, Any]:
    """Make (or reuse) the archive, then time ``launchbook verify`` of it."""
    archive = sealed_archive(count, workers=workers, reseal=reseal, any_version=any_version)
    project = Path(archive["project"])
    timing = measure(launchbook_command("verify", str(project), "--trust", str(key_files(project)[1])))
    return {"sealed": count, "seal_seconds": archive["seal_seconds"], "archive_reused": archive["reused"],
            "archive_version": archive["version"], "archive_commit": archive.get("commit", ""),
            "archive_current": archive["version"] == code_version(), "seal_workers": archive.get("workers", 1),
            "verify_wall": timing.wall, "verify_cpu": timing.cpu, "verify_rss_mb": timing.rss_mb}
