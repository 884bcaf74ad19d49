"""``launchbook run close`` in archives of growing size: does a close cost more as the archive grows?

Each archive of n runs is the first n sealed runs of the cached verify archive (bench/sealed.py:
the same checklist, key and ledger, cut at line n), so the ledger, the records and the reports
are real ones. In each, one close is made untimed first (as in use, the previous close left its
ledger state and the checklist index behind), then ``--samples`` closes of fresh runs are timed
as subprocesses, the sizes taking turns; ``render`` and ``sign`` come from ``run close --json``, and ``other`` (the
close less both) is the part that used to grow with the archive (finding the run, reading the
ledger).
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

from bench.measure import launchbook_command, measure
from bench.sealed import WORK, covering_archive, key_files, read_marker

SIZES = (1, 100, 1000)
FIRST = 100_000
"""Run number of the first timed close: minutes after the archive's start, after every sealed run's."""


def cut_archive(source: Path, count: int, target: Path) -> Path:
    """``target``: the first ``count`` sealed runs of ``source`` (ledger lines, records, reports)."""
    shutil.rmtree(target, ignore_errors=True)
    (target / "content/runs/deploy").mkdir(parents=True)
    shutil.copytree(source / "keys", target / "keys")
    for name in ("site.yml", "deploy.md"):
        shutil.copy2(source / "content" / name, target / "content" / name)
    lines = (source / "content/runs/ledger.jsonl").read_bytes().splitlines(keepends=True)[:count]
    (target / "content/runs/ledger.jsonl").write_bytes(b"".join(lines))
    runs, copies = source / "content/runs/deploy", target / "content/runs/deploy"
    for line in lines:
        run = json.loads(line)["run"]
        for suffix in (".yml", ".pdf"):
            shutil.copy2(runs / f"{run}{suffix}", copies / f"{run}{suffix}")
    return target


def _fresh_run(project: Path, n: int) -> tuple[str, str]:
    """A new open run of deploy.md, every item done (what bench/sealed.py seals); its id and time."""
    from datetime import timedelta

    from bench.sealed import START, deploy_snapshot
    from generator.runs.operations import apply_entry
    from generator.runs.record import Entry, RunRecord, Status
    from generator.runs.store import create_record, run_file

    snapshot = deploy_snapshot(project)
    moment = START + timedelta(minutes=n)
    at = moment.strftime("%Y-%m-%dT%H:%M:00Z")
    record = RunRecord(id=f"{moment:%Y%m%d-%H%M}-c{n}", checklist="deploy", release=f"c{n}", snapshot=snapshot,
                       started_at=at)
    for item in snapshot.items:
        record = apply_entry(record, item.id, Entry(Status.DONE, "bench", at))
    create_record(run_file(project, "deploy", record.id), record)
    return record.id, at


def _close(project: Path, n: int) -> dict[str, float]:
    run_id, at = _fresh_run(project, n)
    timing = measure(launchbook_command("run", "close", run_id, "--key", str(key_files(project)[0]), "--force",
                                        "--at", at, "-C", str(project), "--json"))
    answer = json.loads(timing.stdout)
    render, sign = float(answer["render_seconds"]), float(answer["sign_seconds"])
    return {"wall": timing.wall, "render": render, "sign": sign, "other": timing.wall - render - sign}


def bench_close_growth(sizes: tuple[int, ...], samples: int, *, workers: int,
                       any_version: bool = False) -> dict[str, Any]:
    """Median close (and its parts) at each archive size; the source archive is sealed if need be
    (``any_version``: any complete archive big enough will do, whatever seal format made it)."""
    source = covering_archive(max(sizes), workers=workers, any_version=any_version)
    result: dict[str, Any] = {"source": source.name, "archive_version": read_marker(source).get("version"),
                              "sizes": {}}
    projects = {size: cut_archive(source, size, WORK / f"close-at-{size}") for size in sizes}
    for project in projects.values():
        _close(project, FIRST)  # untimed: leaves the ledger state and the checklist index, as a previous close does
    rows: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
    for sample in range(samples):  # sizes take turns, so a burst of load on the machine hits them alike
        for size, project in projects.items():
            rows[size].append(_close(project, FIRST + sample + 1))
    for size, project in projects.items():
        result["sizes"][str(size)] = {key: statistics.median(row[key] for row in rows[size]) for key in rows[size][0]}
        result["sizes"][str(size)]["samples"] = [row["wall"] for row in rows[size]]
        shutil.rmtree(project, ignore_errors=True)
    return result
