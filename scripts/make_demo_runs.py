"""Regenerate the demo run records in content/runs/ from the seed checklists.

Usage: python scripts/make_demo_runs.py [--force]

Deterministic: fixed times, fixed people, the same records every time. Produces a clean
GO, a NO-GO with failures and a rejected sign-off, an older GO recorded against an
earlier version of the checklist (so its page shows drift), an in-progress run, a run
imported from a ticked Markdown copy, and a run fed by JUnit XML.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from generator.runs.import_junit import import_junit
from generator.runs.import_markdown import import_markdown
from generator.runs.operations import add_signoff, apply_entry, mark_item, start_run
from generator.runs.record import Entry, RunRecord, Status
from generator.runs.store import RunFile, update_record

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"


def bulk(run: RunFile, by: str, at: str, choose: Callable[[object], tuple[Status, str] | None]) -> None:
    """Mark many items at once: ``choose(item)`` gives (status, note) or None to leave open."""

    def change(record: RunRecord) -> RunRecord:
        for item in record.snapshot.items:
            picked = choose(item)
            if picked is not None:
                record = apply_entry(record, item.id, Entry(picked[0], by, at, picked[1]))
        return record

    update_record(run, change)


def sv_sdk_history() -> None:
    """v1.8.0 (GO, against an older checklist) and v1.9.0 (NO-GO)."""
    source = ROOT / "content/platform/sv-sdk.md"
    current = source.read_bytes()
    older = (current.replace(b"- [ ] Rate limiting enabled\n", b"- [ ] Rate limiting enabled on the API\n")
             .replace(b"- [ ] Secret rotation schedule defined\n", b"")
             .replace(b"- [ ] Health check endpoints working\n",
                      b"- [ ] Health check endpoints working\n- [ ] Staging smoke tests green\n"))
    try:
        source.write_bytes(older)
        run, record = start_run(ROOT, "sv-sdk-launch", release="v1.8.0", change="CHG-2291",
                                change_url="https://tickets.example.com/browse/CHG-2291", environment="production",
                                operator="Mina Okafor", at="2026-02-03T09:00:00Z",
                                summary="Quarterly SDK release; first launch with the sign-off table.")
    finally:
        source.write_bytes(current)
    bulk(run, "Mina Okafor", "2026-02-03T10:20:00Z",
         lambda item: (Status.NA, "no WAF in front of the SDK API yet") if item.optional else (Status.DONE, ""))
    for role, name, at in (("Developer", "Lars Jensen", "11:05"), ("DevOps", "Ana Souza", "11:12"),
                           ("Security", "Farah Haddad", "11:30"), ("Product Owner", "Tom Becker", "11:41")):
        add_signoff(ROOT, record.id, role=role, name=name, decision="approve", at=f"2026-02-03T{at}:00Z",
                    meaning="approved for production")

    run, record = start_run(ROOT, "sv-sdk-launch", release="v1.9.0", change="CHG-2417",
                            change_url="https://tickets.example.com/browse/CHG-2417", environment="production",
                            operator="Mina Okafor", at="2026-03-10T08:30:00Z")
    problems = {
        "hsts-header-enabled-508c9f": (
            Status.FAILED, "HSTS header missing on api.sv-sdk.example (only set on the docs host)"),
        "database-connection-ssl-enabled-0282f4": (Status.BLOCKED, "waiting for the RDS CA bundle rotation (OPS-5310)"),
        "sending-domain-warmed-up-gradual-volume-5421b2": (
            Status.SKIPPED, "warm-up postponed to next sprint by email team"),
    }
    bulk(run, "Mina Okafor", "2026-03-10T09:40:00Z", lambda item: problems.get(item.id) or (
        (Status.NA, "no WAF in front of the SDK API yet") if item.optional else (Status.DONE, "")))
    mark_item(ROOT, record.id, "health-check-endpoints-working-52e9c3", status="done", by="Mina Okafor",
              evidence=(str(DEMO / "evidence/smoke-test.log"),), at="2026-03-10T09:45:00Z")
    add_signoff(ROOT, record.id, role="Developer", name="Lars Jensen", decision="approve", at="2026-03-10T10:02:00Z")
    add_signoff(ROOT, record.id, role="Security", name="Farah Haddad", decision="reject", at="2026-03-10T10:15:00Z",
                meaning="rejected for production", comment="HSTS must be enforced on every host before launch")
    add_signoff(ROOT, record.id, role="DevOps", name="Mina Okafor", decision="approve", at="2026-03-10T10:20:00Z",
                comment="infra ready")


def go_live_readiness() -> None:
    """v3.0.0: a clean GO with evidence and all five sign-offs."""
    run, record = start_run(ROOT, "go-live-readiness", release="v3.0.0", change="CHG-2603",
                            change_url="https://tickets.example.com/browse/CHG-2603", environment="production",
                            operator="Priya Raman", at="2026-05-20T06:00:00Z",
                            summary="Major release: new billing service and MongoDB 7 upgrade.")
    reasons = {"Kubernetes": "we deploy with Docker Compose, not Kubernetes",
               "Payment Gateway": "no payment changes in this release"}

    def choose(item: object) -> tuple[Status, str]:
        section = " ".join(item.section)  # type: ignore[attr-defined]
        for key, reason in reasons.items():
            if key in section:
                return Status.NA, reason
        if item.optional:  # type: ignore[attr-defined]
            return Status.NA, "not applicable to this deployment"
        return Status.DONE, ""

    bulk(run, "Priya Raman", "2026-05-20T07:30:00Z", choose)
    mark_item(ROOT, record.id, "restore-procedure-tested-8c15ef", status="done", by="Diego Alvarez",
              evidence=(str(DEMO / "evidence/restore-drill.txt"),), at="2026-05-20T07:45:00Z",
              note="full restore into staging in 14 minutes")
    mark_item(ROOT, record.id, "end-to-end-tests-45ec90", status="done", by="Priya Raman",
              evidence=(str(DEMO / "evidence/smoke-test.log"), "https://ci.example.com/pipelines/88412"),
              at="2026-05-20T08:05:00Z")
    for role, name, at in (("Technical Lead", "Chen Wei", "08:20"), ("DevOps Lead", "Diego Alvarez", "08:24"),
                           ("Security Lead", "Farah Haddad", "08:31"), ("Product Owner", "Tom Becker", "08:40"),
                           ("CTO/VP Engineering", "Grace Hopper-Lee", "08:52")):
        add_signoff(ROOT, record.id, role=role, name=name, decision="approve", at=f"2026-05-20T{at}:00Z",
                    meaning="approved for production")


def dreamcatcher_in_progress() -> None:
    run, record = start_run(ROOT, "dreamcatcher-launch", release="v2.1.0", change="CHG-3120",
                            environment="production", operator="Noah Kim", at="2026-11-20T13:00:00Z")
    done = {item.id for item in record.snapshot.items[:72]}
    bulk(run, "Noah Kim", "2026-11-20T15:10:00Z", lambda item: (Status.DONE, "") if item.id in done else None)
    mark_item(ROOT, record.id, "test-backup-restoration-process-3dcb84", status="open", by="Noah Kim",
              note="restore drill booked for Monday; target bucket being provisioned (INFRA-771)",
              at="2026-11-20T15:30:00Z")


def momentverse_import() -> None:
    import_markdown(ROOT, DEMO / "filled/momentverse-v1.2.0.md", "momentverse-launch", release="v1.2.0",
                    change="CHG-2530", environment="production", operator="Sofia Marin", at="2026-04-02T17:00:00Z")


def planner_junit() -> None:
    run, record = start_run(ROOT, "planner-app-launch", release="v0.9.0", change="CHG-2555",
                            environment="staging", operator="Ivan Petrov", at="2026-04-14T07:30:00Z")
    import_junit(ROOT, record.id, DEMO / "junit/planner-release-gate.xml", by="CI (release-gate)",
                 at="2026-04-14T07:59:00Z")


def main(argv: list[str]) -> None:
    runs = ROOT / "content/runs"
    if runs.exists():
        if "--force" not in argv:
            sys.exit("content/runs exists; pass --force to replace the demo runs")
        shutil.rmtree(runs)
    sv_sdk_history()
    go_live_readiness()
    dreamcatcher_in_progress()
    momentverse_import()
    planner_junit()


if __name__ == "__main__":
    main(sys.argv[1:])
