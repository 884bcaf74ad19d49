"""Run commands as library functions: mark, sign off, show, list (``start`` reads checklists: runs.start).

Each returns plain values for the CLI to print; nothing here prints or exits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from pathlib import Path

from generator.core.errors import SourceError
from generator.runs.evidence import check_source, store_file
from generator.runs.lookup import find_checklist
from generator.runs.record import (
    STATUS_ALIASES,
    Decision,
    Entry,
    Evidence,
    ItemResult,
    RunRecord,
    Signoff,
    SnapshotItem,
    Status,
    format_time,
    parse_time,
    utc_now,
)
from generator.runs.store import RunFile, all_run_files, find_run, read_record, update_record
from generator.runs.timeline import TOLERANCE, check_times


def when(at: str | None) -> str:
    """A user-given time (``--at``) normalised to UTC, or now."""
    if not at:
        return utc_now()
    try:
        moment = parse_time(at)
    except ValueError as exc:
        raise SourceError(f"--at {at!r} is not an ISO 8601 time with a timezone ({exc})") from None
    if moment > parse_time(utc_now()) + TOLERANCE:
        raise SourceError(f"--at {at!r} is in the future; a time that cannot be true is refused")
    return format_time(moment)


def recorded(at: str | None) -> str:
    """When an entry back-filled with ``--at`` is really written (empty without ``--at``)."""
    return utc_now() if at else ""


def _check_open(record: RunRecord, run: RunFile) -> None:
    if record.finished_at or record.sealed is not None:
        raise SourceError(f"run {record.id!r} is closed; a closed run never changes (approvers sign its report "
                          "with `launchbook run approve`)", run.shown)


def _item_or_suggest(record: RunRecord, item_id: str) -> SnapshotItem:
    item = record.snapshot.item(item_id)
    if item is not None:
        return item
    ids = [i.id for i in record.snapshot.items]
    close = difflib.get_close_matches(item_id, ids, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise SourceError(f"unknown item {item_id!r} in run {record.id!r}{hint}")


def parse_status(value: str) -> Status:
    try:
        return Status(STATUS_ALIASES.get(value.lower(), value.lower()))
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise SourceError(f"invalid status {value!r} (use one of: {allowed})") from None


def mark_item(
    project: Path, run_id: str, item_id: str, *, status: str, by: str = "", note: str = "",
    evidence: tuple[str, ...] = (), at: str | None = None, base: Path | None = None,
) -> tuple[RunFile, RunRecord]:
    """Set one item's status (earlier states stay in its history)."""
    parsed = parse_status(status)
    if parsed.needs_reason and not note.strip():
        raise SourceError(f"status {parsed.value!r} needs a note giving the reason (--note)")
    sources = [(value, check_source(value, base or Path.cwd())) for value in evidence]
    run = find_run(project, run_id)
    stamp = when(at)
    created: list[Path] = []

    def change(record: RunRecord) -> RunRecord:
        _check_open(record, run)
        item = _item_or_suggest(record, item_id)
        attached: list[Evidence] = []
        for value, path in sources:
            if path is None:
                attached.append(Evidence(url=value))
            else:
                stored, new_file = store_file(run.folder, path)
                attached.append(stored)
                if new_file is not None:
                    created.append(new_file)
        changed = apply_entry(record, item.id, Entry(parsed, by or record.operator, stamp, note.strip(),
                                                     tuple(attached), recorded(at)))
        check_times(changed, run.shown, record)
        return changed

    try:
        return run, update_record(run, change)
    except BaseException:
        for path in created:  # the record was not written: take back the files we added
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise


def apply_entry(record: RunRecord, item_id: str, entry: Entry) -> RunRecord:
    """A new record with ``entry`` as the item's current state."""
    results = dict(record.results)
    previous = results.get(item_id)
    history = (*previous.history, previous.current) if previous else ()
    results[item_id] = ItemResult(entry, history)
    return dataclasses.replace(record, results=results)


def add_signoff(
    project: Path, run_id: str, *, role: str, name: str, decision: str, meaning: str = "",
    comment: str = "", at: str | None = None, retroactive: bool = False,
) -> tuple[RunFile, RunRecord]:
    """Record an approver's decision for one of the checklist's sign-off roles."""
    try:
        parsed = Decision(decision.lower())
    except ValueError:
        raise SourceError(f"invalid decision {decision!r} (use approve or reject)") from None
    if not name.strip():
        raise SourceError("--name must not be empty")
    run = find_run(project, run_id)
    stamp = when(at)

    def change(record: RunRecord) -> RunRecord:
        _check_open(record, run)
        roles = record.snapshot.signoff_roles
        canonical = next((r for r in roles if r.casefold() == role.strip().casefold()), None)
        if roles and canonical is None:
            raise SourceError(f"unknown sign-off role {role!r}; this checklist's roles are: {', '.join(roles)}")
        default = f"{'approved' if parsed is Decision.APPROVE else 'rejected'} for {record.environment or 'release'}"
        signoff = Signoff(canonical or role.strip(), name.strip(), parsed, meaning or default, stamp, comment,
                          retroactive, recorded(at))
        changed = dataclasses.replace(record, signoffs=(*record.signoffs, signoff))
        check_times(changed, run.shown, record)
        return changed

    return run, update_record(run, change)


def show_run(project: Path, run_id: str) -> tuple[RunFile, RunRecord]:
    run = find_run(project, run_id)
    return run, read_record(run)


def list_runs(project: Path, checklist_id: str | None = None) -> list[tuple[RunFile, RunRecord]]:
    """Every run (optionally of one checklist), newest first."""
    runs = [(f, read_record(f)) for f in all_run_files(project)
            if checklist_id is None or f.checklist == checklist_id]
    runs.sort(key=lambda pair: (pair[1].started_at, pair[1].id), reverse=True)
    if checklist_id is not None and not runs:
        find_checklist(project, checklist_id)  # a typo is an unknown checklist (with suggestions), not "no runs"
    return runs
