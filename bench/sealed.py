"""An archive of N sealed runs, made once and kept, and ``launchbook verify`` of it.

Each run is a real one of a 15-item checklist in three sections (two items optional) with two
sign-off roles, every item done, closed by the real ``close_run``: a WeasyPrint PDF/A-3b,
a pyHanko PAdES signature, a ledger line. Sealing is the slow part, so the archive is cached
at ``bench/.work/sealed-N`` with a marker file, ``bench-sealed.json``, naming the *seal
format* that made it (a hash of the recipe below, of the files that decide what a sealed
record, its report and its ledger line hold — :data:`SEAL_FORMAT` — and of the WeasyPrint and
pyHanko versions). A change to ``verify`` keeps the archive; a change to the seal rebuilds it.
A later benchmark reuses a complete archive of the same format, resumes an interrupted one,
or starts from a copy of the largest smaller archive of the same format and seals only the
rest (the ledger simply grows, as it does in use).

Workers: ``run close`` renders and signs while it holds the ledger's lock (the sealed record
and its PDF name the ledger head they extend, so they cannot be made before the previous
line is written). Sealing from several processes is safe — ``flock`` on the ledger and on
each record, records created under a lock — and what lies outside the lock overlaps (making
the record, finding it, loading the key and the config), but the renders and signatures
follow one another: sealing takes about (render + sign) x N whatever the worker count.
A close no longer costs more as the archive grows (see generator/archive/ledgerstate.py).
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
RECIPE = "3: deploy.md (15 items, 3 sections, 2 optional, 2 roles), all done, closed --force at its start, own key"
CHECKLIST = """# Deploy the payments API

## Before

- [ ] Announce the maintenance window in #ops {#announce}
- [ ] Freeze merges to main {#freeze}
- [ ] Confirm the change ticket is approved {#ticket}
- [ ] Take a database snapshot {#snapshot}
- [ ] Check the error budget on the dashboard (optional) {#budget}

## Deploy

- [ ] Run the schema migration {#migrate}
- [ ] Deploy the canary (5 % of traffic) {#canary}
- [ ] Watch canary error rate for 15 minutes {#watch}
- [ ] Promote to all regions {#promote}
- [ ] Purge the CDN cache {#purge}

## After

- [ ] Run the smoke tests against production {#smoke}
- [ ] Verify payment webhooks arrive {#webhooks}
- [ ] Notify partners (optional) {#partners}
- [ ] Unfreeze merges {#unfreeze}
- [ ] Close the change ticket {#close-ticket}

## Sign-off

| Role | Name | Signature | Date |
|---|---|---|---|
| Release Manager | | | |
| Security | | | |
"""
SEAL_FORMAT = (
    "generator/archive/seal.py", "generator/archive/ledger.py", "generator/archive/merkle.py",
    "generator/archive/halfclosed.py", "generator/report/render.py", "generator/report/sign.py",
    "generator/report/keys.py", "generator/report/certs.py", "generator/report/glyphs.py",
    "generator/core/templating.py", "generator/runs/record.py", "generator/runs/codec.py",
    "generator/runs/outcome.py", "generator/runs/operations.py", "generator/runs/drift.py",
    "generator/runs/start.py", "generator/runs/timeline.py", "themes/default/report",
)
"""What decides the bytes of a sealed record, its report and its ledger line (folders: every file)."""
START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 25
"""Runs a worker seals before reporting back (the marker's time is saved after each)."""


def code_version() -> str:
    """The seal format: a hash of the recipe, the :data:`SEAL_FORMAT` files and the versions of the
    libraries that write the PDF and its signature. What verifies the archive is not part of it."""
    from importlib.metadata import version

    digest = hashlib.sha256(RECIPE.encode() + CHECKLIST.encode())
    for name in ("weasyprint", "pyHanko", "pyhanko-certvalidator", "pydyf", "fonttools"):
        digest.update(f"{name}=={version(name)}".encode())
    for rel in SEAL_FORMAT:
        base = ROOT / rel
        for path in sorted(base.rglob("*")) if base.is_dir() else [base]:
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
    """Run ``n`` of deploy.md, every item done, both roles signed off, closed: sealed, signed, in the ledger.

    The record is what ``run start``, ``run mark`` and ``run signoff`` would write, written at
    once under its ``run start`` id (``run start`` itself lists every record to find a free id,
    which would make the archive quadratic to build); ``run close`` is the real one.
    """
    from generator.archive.seal import close_run
    from generator.runs.operations import apply_entry
    from generator.runs.record import Decision, Entry, RunRecord, Signoff, Status
    from generator.runs.store import create_record, run_file

    moment = START + timedelta(minutes=n)
    at = moment.strftime("%Y-%m-%dT%H:%M:00Z")
    record = RunRecord(id=f"{moment:%Y%m%d-%H%M}-r{n}", checklist="deploy", release=f"r{n}", snapshot=snapshot,
                       started_at=at, change=f"CHG-{n}", environment="production", operator="Olga Bench",
                       summary=f"Payments API release r{n}",
                       signoffs=tuple(Signoff(role, name, Decision.APPROVE, "approved for production", at)
                                      for role, name in zip(snapshot.signoff_roles, ("Rhea Lead", "Sam Sec"),
                                                            strict=False)))
    for number, item in enumerate(snapshot.items):
        record = apply_entry(record, item.id, Entry(Status.DONE, ("Ari", "Bo", "Cy")[number % 3], at,
                                                    note="as planned" if number % 5 == 0 else ""))
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


def covering_archive(count: int, *, workers: int, any_version: bool = False) -> Path:
    """The smallest complete archive of this seal format (of any, with ``any_version``) with at least
    ``count`` runs; sealed if there is none."""
    version = code_version()
    found = []
    for candidate in WORK.glob("sealed-*"):
        marker = read_marker(candidate)
        same = any_version or marker.get("version") == version
        if marker.get("complete") and same and marker.get("sealed", 0) >= count:
            found.append((marker["sealed"], candidate))
    return min(found)[1] if found else Path(sealed_archive(count, workers=workers)["project"])


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
