"""``launchbook run show``: a run as readable text for a terminal."""

from __future__ import annotations

from generator.core.diagnostics import Severity
from generator.runs.outcome import RunSummary
from generator.runs.record import RunRecord, Status
from generator.runs.timeline import time_problems

_MARKS = {
    Status.OPEN: "[ ]", Status.DONE: "[x]", Status.FAILED: "[!]", Status.SKIPPED: "[-]",
    Status.NA: "[~]", Status.BLOCKED: "[#]",
}


def describe(record: RunRecord, summary: RunSummary, shown: str) -> str:
    """Header, counts, outcome, exceptions, sign-offs."""
    lines = [
        f"Run {record.id} of {record.snapshot.title} ({record.checklist})",
        f"  release {record.release}" + (f", change {record.change}" if record.change else "")
        + (f", {record.environment}" if record.environment else ""),
        f"  operator {record.operator or '-'}, started {record.started_at}"
        + (f", finished {record.finished_at}" if record.finished_at else ", in progress"),
        f"  record {shown}",
        "",
        f"Outcome: {summary.outcome.value.upper()}  ({summary.completion:.1f}% of applicable items done)",
    ]
    lines.extend(f"  - {reason}" for reason in summary.reasons)
    lines.append("  " + ", ".join(f"{count} {status}" for status, count in summary.counts.items() if count))
    exceptions = [(item, record.results[item.id].current) for item in record.snapshot.items
                  if item.id in record.results and record.results[item.id].current.status.needs_reason]
    if exceptions:
        lines += ["", "Exceptions:"]
        for item, entry in exceptions:
            optional = " (optional)" if item.optional else ""
            lines.append(f"  {_MARKS[entry.status]} {item.text}{optional}  #{item.id}")
            lines.append(f"      {entry.status.value} by {entry.by or '-'} at {entry.at}"
                         f"{_backfilled(entry.recorded_at)}: {entry.note}")
    if record.signoffs:
        lines += ["", "Sign-offs:"]
        for signoff in record.signoffs:
            lines.append(f"  {signoff.role}: {signoff.decision.value} by {signoff.name} at {signoff.at}"
                         f"{_backfilled(signoff.recorded_at)}{' (retroactive)' if signoff.retroactive else ''} "
                         f"({signoff.meaning})")
    times = time_problems(record, shown)
    impossible = [d.message for d in times if d.severity is Severity.ERROR]
    if impossible:
        lines += ["", "Times that cannot be true:", *(f"  ! {message}" for message in impossible)]
    backfilled = sum(d.severity is Severity.INFO and "back-filled" in d.message for d in times)
    if backfilled:
        entries = "entries" if backfilled != 1 else "entry"
        lines += ["", f"Back-filled with --at: {backfilled} {entries} (dated earlier than recorded; "
                      "`run show --json` has each recorded_at)"]
    if summary.sod_conflicts:
        lines += ["", "Segregation of duties: also executed items: " + ", ".join(summary.sod_conflicts)]
    return "\n".join(lines)


def _backfilled(recorded_at: str) -> str:
    return f" (back-filled, recorded {recorded_at})" if recorded_at else ""
