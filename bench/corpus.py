"""Deterministic benchmark corpora from the seed checklists.

``make_corpus(dest, pages, runs)`` writes a project: ``pages`` checklist pages (the demo's
five seed checklists cycled, each copy with its own title and id, spread over folders of
at most 100 pages) and ``runs`` run records with evidence, spread over those checklists.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

from generator.runs.codec import dump_record
from generator.runs.record import Entry, Evidence, ItemResult, RunRecord, Snapshot, SnapshotItem, Status

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [
    "launches/planner-app.md", "launches/dreamcatcher.md", "launches/momentverse.md",
    "platform/go-live-readiness.md", "platform/sv-sdk.md",
]
FOLDER_SIZE = 100


def _body(rel: str) -> bytes:
    """The seed checklist's body (its demo front matter removed)."""
    return (ROOT / "content" / rel).read_bytes().split(b"\n---\n", 1)[1]


def page_path(n: int) -> str:
    return f"team-{n // FOLDER_SIZE:03d}/checklist-{n:05d}.md"


def make_pages(content: Path, pages: int) -> list[tuple[str, str]]:
    """Write the pages; return (checklist id, relative path) for each."""
    bodies = [_body(rel) for rel in SEEDS]
    made = []
    for n in range(pages):
        rel = page_path(n)
        checklist_id = f"checklist-{n:05d}"
        front = (f"---\ntitle: \"Service {n:05d}: production deployment\"\nid: {checklist_id}\n"
                 f"owner: team-{n // FOLDER_SIZE:03d}\ntags: [bench, seed-{n % len(bodies)}]\n---\n").encode()
        path = content / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(front + bodies[n % len(bodies)])
        made.append((checklist_id, rel))
    return made


def make_runs(content: Path, checklists: list[tuple[str, str]], runs: int) -> None:
    """Write ``runs`` records (deterministic statuses, one small evidence file each)."""
    from generator.sources.checklist import parse_document

    rng = random.Random(20261122)
    snapshots: dict[str, Snapshot] = {}
    for checklist_id, rel in checklists[: min(len(checklists), 50)]:
        data = (content / rel).read_bytes()
        document = parse_document(data, rel, rel)
        snapshots[checklist_id] = Snapshot(
            document.title, rel, hashlib.sha256(data).hexdigest(),
            tuple(SnapshotItem(i.id, i.text, i.section, i.depth, i.optional) for i in document.items),
            tuple(r.role for r in document.signoffs),
        )
    ids = sorted(snapshots)
    statuses = [Status.DONE] * 12 + [Status.FAILED, Status.NA, Status.SKIPPED, Status.BLOCKED, Status.OPEN]
    for n in range(runs):
        checklist_id = ids[n % len(ids)]
        snapshot = snapshots[checklist_id]
        run_id = f"2025{1 + n % 12:02d}{1 + n % 28:02d}-{n:05d}"
        at = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00Z"
        folder = content / "runs" / checklist_id
        evidence_rel = f"evidence/log-{n:05d}.txt"
        evidence_bytes = f"run {n} ok\n".encode()
        (folder / run_id / "evidence").mkdir(parents=True, exist_ok=True)
        (folder / run_id / evidence_rel).write_bytes(evidence_bytes)
        results = {}
        for index, item in enumerate(snapshot.items):
            status = rng.choice(statuses)
            if status is Status.OPEN:
                continue
            note = "recorded by the benchmark" if status.needs_reason else ""
            evidence = (Evidence(file=evidence_rel, sha256=hashlib.sha256(evidence_bytes).hexdigest(),
                                 size=len(evidence_bytes)),) if index == 0 else ()
            results[item.id] = ItemResult(Entry(status, "bench", at, note, evidence))
        record = RunRecord(id=run_id, checklist=checklist_id, release=f"v{n // 100}.{n % 100}", snapshot=snapshot,
                           started_at=at, operator="bench", environment="production", results=results)
        (folder / f"{run_id}.yml").write_text(dump_record(record), encoding="utf-8")


def make_corpus(dest: Path, pages: int, runs: int = 0) -> Path:
    """A fresh benchmark project at ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    content = dest / "content"
    content.mkdir(parents=True)
    (content / "site.yml").write_text("title: Benchmark runbooks\n")
    checklists = make_pages(content, pages)
    if runs:
        make_runs(content, checklists, runs)
    return dest
