"""``launchbook run start``: a new run record with a snapshot of the checklist as it is now.

Separate from ``runs.operations`` because it parses the project's Markdown (the parser
stack costs ~80 ms to import); commands that only edit records never load it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from generator.core.errors import SourceError
from generator.model import Checklist
from generator.runs.evidence import is_url
from generator.runs.lookup import find_checklist
from generator.runs.operations import when
from generator.runs.record import RunRecord, Snapshot, SnapshotItem
from generator.runs.store import RunFile, all_run_files, create_record, run_file
from generator.sources.ids import slugify


def snapshot_of(checklist: Checklist) -> Snapshot:
    return Snapshot(
        title=checklist.title,
        source=checklist.rel_path,
        source_sha256=checklist.sha256,
        items=tuple(SnapshotItem(i.id, i.text, i.section, i.depth, i.optional, i.command, i.shell)
                    for i in checklist.items),
        signoff_roles=tuple(role.role for role in checklist.signoffs),
    )


def new_run_id(project: Path, started: str, release: str) -> str:
    moment = datetime.fromisoformat(started.replace("Z", "+00:00"))
    base = f"{moment:%Y%m%d-%H%M}-{slugify(release, 'run')[:40]}"
    taken = {f.path.stem for f in all_run_files(project)}
    run_id, counter = base, 1
    while run_id in taken:
        counter += 1
        run_id = f"{base}-{counter}"
    return run_id


def start_run(
    project: Path, checklist_id: str, *, release: str, change: str = "", change_url: str = "",
    environment: str = "", operator: str = "", summary: str = "", at: str | None = None,
) -> tuple[RunFile, RunRecord]:
    """Create a run record with a snapshot of the checklist as it is now."""
    if not release.strip():
        raise SourceError("--release must not be empty")
    if change_url and not is_url(change_url):
        raise SourceError("--change-url must be an http(s) URL")
    checklist = find_checklist(project, checklist_id)
    started = when(at)
    run_id = new_run_id(project, started, release)
    record = RunRecord(
        id=run_id, checklist=checklist.id, release=release.strip(), snapshot=snapshot_of(checklist),
        started_at=started, operator=operator, environment=environment, change=change,
        change_url=change_url, summary=summary,
    )
    run = run_file(project, checklist.id, run_id)
    create_record(run, record)
    return run, record
