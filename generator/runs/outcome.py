"""What a run means: counts, completion, go / no-go / incomplete. Derived, never stored.

Rules:

* ``no-go`` when any *required* item is failed or blocked, or an approver's latest
  decision is reject;
* ``go`` when every required item is done or n/a and every sign-off role of the
  checklist has an approval (and nobody's latest decision is reject);
* ``incomplete`` otherwise (open or skipped required items, roles not yet signed).

A skipped required item is unfinished work, like an open one: closing a run with either
needs ``--force`` and the report then says "closed with exceptions" (:func:`unfinished_required`).

N/A is never counted as done: completion is done / (items − n/a). Optional items are
counted but never block. An approver who also executed items is flagged (segregation
of duties).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from generator.runs.record import Decision, RunRecord, Signoff, SnapshotItem, Status


class Outcome(Enum):
    """The verdict of a run."""

    GO = "go"
    NO_GO = "no-go"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Everything derived from a record."""

    counts: dict[str, int]
    """Status value -> number of items (every status present, zero included)."""
    total: int
    """Items in the snapshot."""
    required: int
    """Items that are not optional."""
    completion: float
    """Percent done of applicable items (n/a excluded), 0–100, one decimal."""
    outcome: Outcome
    """go / no-go / incomplete."""
    reasons: tuple[str, ...]
    """Why the outcome is not go (or why it is no-go)."""
    blocking: tuple[str, ...]
    """Required item IDs that are failed or blocked."""
    missing_roles: tuple[str, ...]
    """Sign-off roles without an approval."""
    rejected: tuple[Signoff, ...]
    """Sign-offs whose signer's latest decision is reject."""
    sod_conflicts: tuple[str, ...]
    """Approvers who also executed items (segregation of duties)."""


def latest_signoffs(signoffs: tuple[Signoff, ...]) -> list[Signoff]:
    """Each signer's latest decision per role (a later sign-off supersedes an earlier one)."""
    latest: dict[tuple[str, str], Signoff] = {}
    for signoff in signoffs:
        latest[(signoff.role.casefold(), signoff.name.casefold())] = signoff
    return list(latest.values())


UNFINISHED = frozenset({Status.OPEN, Status.SKIPPED})
"""States of a required item that stop a run from being closed without ``--force``."""


def unfinished_required(record: RunRecord) -> list[SnapshotItem]:
    """Required items still open or skipped, in checklist order."""
    return [i for i in record.snapshot.items if not i.optional and record.status_of(i.id) in UNFINISHED]


def summarize(record: RunRecord) -> RunSummary:
    """Derive counts, completion and outcome from a record."""
    items = record.snapshot.items
    counts = {status.value: 0 for status in Status}
    for item in items:
        counts[record.status_of(item.id).value] += 1
    required = [item for item in items if not item.optional]
    applicable = len(items) - counts[Status.NA.value]
    completion = round(100.0 * counts[Status.DONE.value] / applicable, 1) if applicable else 100.0

    blocking = tuple(i.id for i in required if record.status_of(i.id) in (Status.FAILED, Status.BLOCKED))
    unfinished = [i.id for i in required if record.status_of(i.id) not in (Status.DONE, Status.NA)]
    current = latest_signoffs(record.signoffs)
    rejected = tuple(s for s in current if s.decision is Decision.REJECT)
    approved_roles = {s.role.casefold() for s in current if s.decision is Decision.APPROVE}
    missing = tuple(r for r in record.snapshot.signoff_roles if r.casefold() not in approved_roles)

    executors = {r.current.by.casefold() for r in record.results.values() if r.current.by}
    executors |= {e.by.casefold() for r in record.results.values() for e in r.history if e.by}
    sod = tuple(sorted({s.name for s in record.signoffs if s.name.casefold() in executors}))

    reasons: list[str] = []
    if blocking:
        reasons.append(f"{len(blocking)} required item{'s' if len(blocking) != 1 else ''} failed or blocked")
    if rejected:
        reasons.append("rejected by " + ", ".join(f"{s.name} ({s.role})" for s in rejected))
    if blocking or rejected:
        outcome = Outcome.NO_GO
    else:
        if unfinished:
            reasons.append(f"{len(unfinished)} required item{'s' if len(unfinished) != 1 else ''} not done")
        if missing:
            reasons.append("awaiting sign-off: " + ", ".join(missing))
        outcome = Outcome.INCOMPLETE if reasons else Outcome.GO
    return RunSummary(
        counts=counts,
        total=len(items),
        required=len(required),
        completion=completion,
        outcome=outcome,
        reasons=tuple(reasons),
        blocking=blocking,
        missing_roles=missing,
        rejected=rejected,
        sod_conflicts=sod,
    )


def summary_data(summary: RunSummary) -> dict[str, object]:
    """The summary as plain data (``run show --json``)."""
    return {
        "counts": summary.counts,
        "total": summary.total,
        "required": summary.required,
        "completion": summary.completion,
        "outcome": summary.outcome.value,
        "reasons": list(summary.reasons),
        "blocking": list(summary.blocking),
        "missing_roles": list(summary.missing_roles),
        "rejected": [{"role": s.role, "name": s.name} for s in summary.rejected],
        "segregation_of_duties": list(summary.sod_conflicts),
    }
