"""``launchbook verify``: one entry point for a project archive, a report PDF or an audit
bundle, with one result shape for the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive.audit import audit_project
from generator.archive.bundle import verify_bundle
from generator.archive.revisions import check_report_against_ledger
from generator.config import load_config
from generator.core.wording import counted, entry_number
from generator.parallel import Progress
from generator.report.verify import verify_file


@dataclass(frozen=True, slots=True)
class Verified:
    """The outcome of verifying one target."""

    target: str
    """What was checked."""
    kind: str
    """``project``, ``report`` or ``bundle``."""
    ok: bool
    """True when nothing is wrong."""
    text: str
    """A readable account."""
    data: dict[str, Any]
    """The machine-readable account."""


NOT_COMPARED = ("embedded record not compared: no archived record of this run here (verify it inside its project, "
                "-C PROJECT, or verify its audit bundle)")
"""A report alone proves its signature, not that its record is the archived one: not a pass."""


def _trust_for(project: Path, extra: list[Path], trust_project: bool) -> list[Path]:
    """The auditor's --trust; the archive's own site.yml 'trust' only when asked for on purpose
    (an archive must never vouch for itself)."""
    content = project / "content"
    return [*extra, *(load_config(content, "content").trust if trust_project and content.is_dir() else ())]


def verify_targets(targets: list[Path], trust: list[Path], since: list[Path], project: Path,
                   progress: Progress | None = None, tsa_trust: list[Path] | None = None, *,
                   trust_project: bool = False) -> list[Verified]:
    """Verify each target: a folder is a project archive, ``.zip`` a bundle, anything else a PDF."""

    results: list[Verified] = []
    for target in targets:
        if target.is_dir():
            audit = audit_project(target, _trust_for(target, trust, trust_project), since, progress=progress,
                                  tsa_trust_paths=tsa_trust)
            results.append(Verified(str(target), "project", audit.ok, describe_audit(audit), audit.to_data()))
        elif target.suffix.lower() == ".zip":
            check = verify_bundle(target, _trust_for(project, trust, trust_project), tsa_trust)
            verdict = "OK" if check.ok else "PROBLEMS"
            lines = [f"{target}: bundle of run {check.run}: {verdict} (report: {check.verdict})"]
            lines += [f"  problem: {p}" for p in check.problems]
            results.append(Verified(str(target), "bundle", check.ok, "\n".join(lines), check.to_data()))
        else:
            home = project if (project / "content").is_dir() else None
            report = verify_file(target, _trust_for(project, trust, trust_project), home, tsa_trust)
            if report.record is not None and report.record_matches is None:
                report.problems.append(NOT_COMPARED)
            elif home is not None and isinstance(run_id := (report.record or {}).get("id"), str):
                report.problems.extend(check_report_against_ledger(home, run_id, target.read_bytes(), report))
            results.append(Verified(str(target), "report", report.ok, describe_report(report), report.to_data()))
    return results


def describe_report(result: Any) -> str:
    lines = [f"{result.path}: {result.verdict}" + (f"; PAdES {result.level}" if result.level else "")]
    for number, signature in enumerate(result.signatures):
        kind = "sealed" if number == 0 else "approved"
        lines.append(f"  {kind} by {signature.signer} at {signature.signed_at or '?'} ({describe_time(signature)}); "
                     f"SHA-256 {signature.fingerprint}{'; reason: ' + signature.reason if signature.reason else ''}")
    for stamp in result.timestamps:
        lines.append(f"  document timestamp by {stamp.signer} at {stamp.signed_at or '?'}"
                     f"{'' if stamp.trusted else ' (authority not trusted)'}")
    if result.record is not None:
        match = {True: "matches the archived record", False: "DIFFERS from the archived record",
                 None: "NOT compared (no archived record here)"}[result.record_matches]
        lines.append(f"  embedded record of run {result.record.get('id')}{_finished(result.record)}: {match}")
    lines += [f"  problem: {problem}" for problem in result.problems]
    return "\n".join(lines)


def _finished(record: dict[str, Any]) -> str:
    """The run's finish time when the close was back-filled: it then differs from the seal time above it."""
    sealed = record.get("sealed")
    if not isinstance(sealed, dict) or not sealed.get("recorded_at"):
        return ""
    return f" (finished {record.get('finished_at')}, back-filled: sealed later)"


def describe_time(signature: Any) -> str:
    """How the signing time is known: proven by a trusted timestamp, or only claimed."""
    stamp = signature.timestamp
    if stamp.trusted:
        return f"time proven by a trusted timestamp from {stamp.tsa}"
    if stamp.present:
        return (f"time only claimed: the timestamp from {stamp.tsa} is not trusted (pass --trust-tsa with its "
                "root certificate)")
    return "time only claimed: no timestamp"


def describe_levels(audit: Any) -> list[str]:
    """One line per sealed report: its PAdES level (B-B and B-T reports need renewing in time) and ledger entry."""
    return [f"  {run.run}: PAdES {run.report.level or '?'}"
            f"{'' if run.ledger_seq is None else f', ledger entry {entry_number(run.ledger_seq)}'}"
            for _, run in sorted(audit.runs.items()) if run.report is not None]


def describe_audit(audit: Any) -> str:
    sealed = sum(r.sealed for r in audit.runs.values())
    lines = [
        f"Ledger: {counted(audit.head.size, 'entry')}, root {audit.head.root}",
        f"Runs: {len(audit.runs)} ({sealed} sealed, {len(audit.runs) - sealed} open); "
        f"checkpoints checked: {len(audit.checkpoints)}",
    ]
    if levels := describe_levels(audit):
        lines += ["Sealed reports:", *levels]
    half = [r.run for r in audit.runs.values() if r.half_closed]
    if half:
        lines.append(f"Half-closed (interrupted `run close`): {', '.join(sorted(half))}")
    if audit.notes:
        lines.append(f"Notes: {len(audit.notes)} (entries back-filled with --at, retroactive sign-offs; listed "
                     "by --json)")
    if audit.ok:
        lines.append("Archive verified: no problems.")
    else:
        lines.append(f"{len(audit.findings)} problem{'s' if len(audit.findings) != 1 else ''}:")
        lines += [f"  {finding}" for finding in audit.findings]
    return "\n".join(lines)
