"""Outcome rules and drift, on records built directly."""

from __future__ import annotations

import dataclasses

import pytest

from generator.runs.codec import dump_record, load_record
from generator.runs.drift import compute_drift
from generator.runs.outcome import Outcome, summarize
from generator.runs.record import (
    Decision,
    Entry,
    Evidence,
    ItemResult,
    RunRecord,
    Signoff,
    Snapshot,
    SnapshotItem,
    Status,
)
from tests.helpers import parse_checklist

SNAPSHOT = Snapshot(
    title="Deploy", source="deploy.md", source_sha256="0" * 64,
    items=(
        SnapshotItem("a", "Announce", ("Before",), 1, False),
        SnapshotItem("b", "Backup", ("Before",), 1, False),
        SnapshotItem("o", "Optional nicety", ("Before",), 1, True),
    ),
    signoff_roles=("Lead",),
)


def record(statuses: dict[str, Status], signoffs: tuple[Signoff, ...] = (), by: str = "Ari") -> RunRecord:
    results = {key: ItemResult(Entry(status, by, "2026-01-01T00:00:00Z", "reason" if status.needs_reason else ""))
               for key, status in statuses.items()}
    return RunRecord(id="r1", checklist="deploy", release="1", snapshot=SNAPSHOT, started_at="2026-01-01T00:00:00Z",
                     results=results, signoffs=signoffs)


def approve(name: str = "Lee", decision: Decision = Decision.APPROVE, role: str = "Lead") -> Signoff:
    return Signoff(role, name, decision, "approved", "2026-01-01T01:00:00Z")


D, F, N, S, B = Status.DONE, Status.FAILED, Status.NA, Status.SKIPPED, Status.BLOCKED


@pytest.mark.parametrize(
    ("statuses", "signoffs", "outcome"),
    [
        ({"a": D, "b": D}, (approve(),), Outcome.GO),
        ({"a": D, "b": N}, (approve(),), Outcome.GO),                      # n/a does not block
        ({"a": D, "b": D, "o": F}, (approve(),), Outcome.GO),              # optional never blocks
        ({"a": D, "b": D}, (), Outcome.INCOMPLETE),                        # role not signed
        ({"a": D}, (approve(),), Outcome.INCOMPLETE),                      # required item open
        ({"a": D, "b": S}, (approve(),), Outcome.INCOMPLETE),              # skipped is not done
        ({"a": D, "b": F}, (approve(),), Outcome.NO_GO),
        ({"a": B}, (), Outcome.NO_GO),
        ({"a": D, "b": D}, (approve(decision=Decision.REJECT),), Outcome.NO_GO),
        ({"a": D, "b": D}, (approve(decision=Decision.REJECT), approve()), Outcome.GO),  # later decision stands
        ({"a": D, "b": D}, (approve(), approve(decision=Decision.REJECT)), Outcome.NO_GO),
    ],
)
def test_outcome_rules(statuses: dict[str, Status], signoffs: tuple[Signoff, ...], outcome: Outcome) -> None:
    assert summarize(record(statuses, signoffs)).outcome is outcome


def test_na_is_never_counted_as_done() -> None:
    summary = summarize(record({"a": D, "b": N, "o": N}, (approve(),)))
    assert summary.counts["done"] == 1 and summary.counts["na"] == 2
    assert summary.completion == 100.0  # 1 done of 1 applicable
    half = summarize(record({"a": D}))
    assert half.completion == pytest.approx(33.3)


def test_reasons_explain_the_outcome() -> None:
    summary = summarize(record({"a": F}, (approve(decision=Decision.REJECT),)))
    assert summary.reasons == ("1 required item failed or blocked", "rejected by Lee (Lead)")
    assert summary.blocking == ("a",)
    assert summarize(record({"a": D})).reasons == ("1 required item not done", "awaiting sign-off: Lead")


def test_segregation_of_duties_flag() -> None:
    assert summarize(record({"a": D}, (approve("Ari"),), by="Ari")).sod_conflicts == ("Ari",)
    assert summarize(record({"a": D}, (approve("Lee"),), by="Ari")).sod_conflicts == ()


def test_record_round_trip_is_exact() -> None:
    original = dataclasses.replace(
        record({"a": D, "b": F}, (approve(),)),
        operator="Olga", environment="prod", change="CHG-1", change_url="https://t.example/CHG-1",
        summary="multi\nline <b>summary</b>",
        results={"a": ItemResult(Entry(D, "Ari", "2026-01-01T00:00:00Z", "", (Evidence(url="https://x.example"),
                                        Evidence(file="evidence/log.txt", sha256="a" * 64, size=3))),
                                  (Entry(F, "Ari", "2025-12-31T23:00:00Z", "first try failed"),))},
    )
    text = dump_record(original)
    assert load_record(text, "r1.yml") == original
    assert dump_record(load_record(text, "r1.yml")) == text


def test_drift_added_removed_reworded() -> None:
    now = parse_checklist(
        """
        ## Before

        - [ ] Announce loudly {#a}
        - [ ] Take a verified backup
        - [ ] Brand new step
        """
    )
    then = Snapshot("Deploy", "deploy.md", "0" * 64, (
        SnapshotItem("a", "Announce", ("Before",), 1, False),
        SnapshotItem("old-backup", "Take a backup", ("Before",), 1, False),
        SnapshotItem("gone", "Ring the bell", ("Before",), 1, False),
    ), ())
    drift = compute_drift(then, now)
    assert drift is not None
    assert drift.reworded == (("Announce", "Announce loudly"), ("Take a backup", "Take a verified backup"))
    assert drift.removed == ("Ring the bell",)
    assert drift.added == ("Brand new step",)
    assert compute_drift(then, None) is None
