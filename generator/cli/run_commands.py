"""Commands for operators: run start/mark/signoff/import/close/approve/show/list, report."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.app import (
    at_option,
    cli,
    emit_json,
    force_output_option,
    json_option,
    print_run,
    project_option,
    verbosity,
)
from generator.core.wording import entry_number
from generator.runs.record import STATUS_NAMES


@cli.group()
def run() -> None:
    """Record checklist runs: start, mark items, sign off, import, close, approve, show, list."""


@run.command("start")
@click.argument("checklist_id")
@click.option("--release", required=True, help="Release or version being launched.")
@click.option("--change", default="", help="Change ticket ID.")
@click.option("--change-url", default="", help="Link to the change ticket.")
@click.option("--env", "environment", default="", help="Target environment.")
@click.option("--operator", default="", help="Who runs the checklist.")
@click.option("--summary", default="", help="Free-text summary.")
@at_option
@project_option
@json_option
def run_start(checklist_id: str, release: str, change: str, change_url: str, environment: str, operator: str,
              summary: str, at: str | None, project: Path, as_json: bool) -> None:
    """Start a run of CHECKLIST_ID; prints the new run id."""
    from generator.runs.start import start_run

    run_file, record = start_run(project, checklist_id, release=release, change=change, change_url=change_url,
                                 environment=environment, operator=operator, summary=summary, at=at)
    if as_json:
        emit_json({"id": record.id, "path": run_file.shown, "items": len(record.snapshot.items)})
    else:
        click.echo(f"Started run of {record.snapshot.title} ({len(record.snapshot.items)} items): {run_file.shown}",
                   err=True)
        click.echo(record.id)


@run.command("mark")
@click.argument("run_id")
@click.argument("item_id")
@click.option("--status", required=True, type=click.Choice(STATUS_NAMES, case_sensitive=False),
              help="open, done, failed, skipped, na (n/a) or blocked.")
@click.option("--by", default="", help="Who did it (default: the run's operator).")
@click.option("--note", default="", help="Reason or remark (required for failed, skipped, na, blocked).")
@click.option("--evidence", multiple=True, help="A URL or a file to attach (repeatable).")
@at_option
@project_option
@json_option
def run_mark(run_id: str, item_id: str, status: str, by: str, note: str, evidence: tuple[str, ...],
             at: str | None, project: Path, as_json: bool) -> None:
    """Set the status of ITEM_ID in RUN_ID."""
    from generator.runs.operations import mark_item

    run_file, record = mark_item(project, run_id, item_id, status=status, by=by, note=note, evidence=evidence, at=at)
    entry = record.results[item_id].current
    if as_json:
        emit_json({"run": record.id, "item": item_id, "result": entry.to_data()})
    else:
        click.echo(f"{item_id}: {entry.status.value} by {entry.by or '-'} at {entry.at}")


@run.command("signoff")
@click.argument("run_id")
@click.option("--role", required=True, help="One of the checklist's sign-off roles.")
@click.option("--name", required=True, help="Printed name of the approver.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject"]), help="approve or reject.")
@click.option("--meaning", default="", help='What the signature means, e.g. "approved for production".')
@click.option("--comment", default="", help="Optional comment.")
@click.option("--retroactive", is_flag=True, help="Approval given after the fact (emergency change); audits accept "
              "a time after the run's finish only with this mark.")
@at_option
@project_option
@json_option
def run_signoff(run_id: str, role: str, name: str, decision: str, meaning: str, comment: str, retroactive: bool,
                at: str | None, project: Path, as_json: bool) -> None:
    """Record a sign-off decision for RUN_ID."""
    from generator.runs.operations import add_signoff

    run_file, record = add_signoff(project, run_id, role=role, name=name, decision=decision, meaning=meaning,
                                   comment=comment, at=at, retroactive=retroactive)
    if as_json:
        emit_json({"run": record.id, "signoff": record.signoffs[-1].to_data()})
    else:
        signoff = record.signoffs[-1]
        click.echo(f"{signoff.role}: {signoff.decision.value} by {signoff.name} at {signoff.at}")


@run.command("import")
@click.argument("filled", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--checklist", "checklist_id", required=True, help="ID of the checklist the copy was made from.")
@click.option("--release", required=True, help="Release or version.")
@click.option("--change", default="", help="Change ticket ID.")
@click.option("--change-url", default="", help="Link to the change ticket.")
@click.option("--env", "environment", default="", help="Target environment.")
@click.option("--operator", default="", help="Who ran the checklist.")
@click.option("--by", default="", help="Who ticked the items (default: operator).")
@at_option
@project_option
@json_option
def run_import(filled: Path, checklist_id: str, release: str, change: str, change_url: str, environment: str,
               operator: str, by: str, at: str | None, project: Path, as_json: bool) -> None:
    """Create a run from FILLED, a ticked-off copy of a checklist."""
    from generator.runs.import_markdown import import_markdown

    result = import_markdown(project, filled, checklist_id, release=release, change=change, change_url=change_url,
                             environment=environment, operator=operator, by=by, at=at)
    for line in (*result.unmatched, *result.warnings):
        if not as_json:
            click.echo(f"warning: {line}", err=True)
    extra = {"unmatched": [str(d) for d in result.unmatched], "warnings": [str(d) for d in result.warnings]}
    if as_json:
        emit_json({"id": result.record.id, "path": result.run.shown, **extra})
    else:
        click.echo(f"Imported {len(result.record.results)} item results and {len(result.record.signoffs)} sign-offs; "
                   f"{len(result.unmatched)} lines not in the checklist: {result.run.shown}", err=True)
        click.echo(result.record.id)


@run.command("import-junit")
@click.argument("run_id")
@click.argument("xml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default="CI", show_default=True, help="Who the results are recorded as.")
@at_option
@project_option
@json_option
def run_import_junit(run_id: str, xml: Path, by: str, at: str | None, project: Path, as_json: bool) -> None:
    """Apply JUnit XML test results to RUN_ID."""
    from generator.runs.import_junit import import_junit

    result = import_junit(project, run_id, xml, by=by, at=at)
    if as_json:
        emit_json({"run": result.record.id, "applied": result.applied, "unmapped": list(result.unmapped),
                    "unknown_items": list(result.unknown)})
        return
    for name in result.unmapped:
        click.echo(f"warning: test case maps to no item: {name}", err=True)
    for item in result.unknown:
        click.echo(f"warning: tests name an item this checklist does not have: {item}", err=True)
    for item, status in sorted(result.applied.items()):
        click.echo(f"{item}: {status}")


@run.command("close")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--key", default=None, help="Signing key: PKCS#12 file, or PEM key (then set LAUNCHBOOK_SIGNING_CERT). "
              "Default: $LAUNCHBOOK_SIGNING_KEY.")
@click.option("--force", is_flag=True, help="Close even though required items are open ('closed with exceptions').")
@click.option("--tsa", "timestamp_url", default=None, help="RFC 3161 timestamp authority URL (PAdES B-T/B-LT); "
              "default: site.yml timestamp_url. Without one the seal is B-B.")
@at_option
@project_option
@json_option
def run_close(run_ids: tuple[str, ...], key: str | None, force: bool, timestamp_url: str | None, at: str | None,
              project: Path, as_json: bool) -> None:
    """Close RUN_ID...: write each run's signed PDF/A-3b go-live report next to its record.
    Several runs are sealed one after the other; the first failure stops the rest."""
    from generator.archive.seal import close_runs
    from generator.terminal import progress_reporter

    quiet, level = verbosity()
    with progress_reporter(quiet or as_json or len(run_ids) < 2, level) as progress:
        done = close_runs(project, list(run_ids), key=key, force=force, at=at, timestamp_url=timestamp_url,
                          progress=progress)
    rows = []
    for sealed in done:
        report = sealed.record.extra["report"]
        rows.append({"run": sealed.record.id, "outcome": sealed.summary.outcome.value, "pdf": str(sealed.pdf),
                     "pages": sealed.pages, "sha256": report["sha256"], "signer": report["signer"],
                     "fingerprint": report["fingerprint"], "forced": sealed.record.extra["sealed"]["forced"],
                     "timestamped": report["timestamped"], "pades_level": report["pades_level"],
                     "pades_note": report.get("pades_note", ""),
                     "ledger_seq": sealed.record.extra["sealed"]["ledger_seq"],
                     "ledger_entry": entry_number(sealed.record.extra["sealed"]["ledger_seq"]),
                     "render_seconds": round(sealed.render_seconds, 3), "sign_seconds": round(sealed.sign_seconds, 3)})
    if as_json:
        emit_json(rows[0] if len(rows) == 1 else {"closed": rows})
        return
    if quiet:
        return
    for row in rows:
        click.echo(f"Closed {row['run']}: {str(row['outcome']).upper()}"
                   f"{' (closed with exceptions)' if row['forced'] else ''}; {row['pages']}-page report signed by "
                   f"{row['signer']}, PAdES {row['pades_level']}, ledger entry {row['ledger_entry']}: {row['pdf']}")
        if row["pades_note"]:
            click.echo(f"warning: {row['run']}: {row['pades_note']}", err=True)


@run.command("approve")
@click.argument("run_id")
@click.option("--key", default=None, help="The approver's signing key (default: $LAUNCHBOOK_SIGNING_KEY).")
@click.option("--role", default="Approver", show_default=True, help="The role the approver signs in.")
@click.option("--tsa", "timestamp_url", default=None,
              help="RFC 3161 timestamp authority URL (default: site.yml timestamp_url).")
@project_option
@json_option
def run_approve(run_id: str, key: str | None, role: str, timestamp_url: str | None, project: Path,
                as_json: bool) -> None:
    """Add an approval signature (PAdES) to a closed run's report and record it in the ledger."""
    from generator.archive.approve import approve_run

    approved = approve_run(project, run_id, key=key, role=role, timestamp_url=timestamp_url)
    if as_json:
        emit_json({"run": run_id, "pdf": str(approved.pdf), "field": approved.field, **approved.entry.data(),
                   "ledger_entry": entry_number(approved.entry.seq)})
    else:
        click.echo(f"Approved {run_id} as {approved.entry.role}: signed by {approved.entry.signer} "
                   f"(ledger entry {entry_number(approved.entry.seq)}): {approved.pdf}")


@cli.command("report")
@click.argument("run_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the draft [default: ./RUN_ID-draft.pdf].")
@force_output_option
@project_option
@json_option
def report_command(run_id: str, output: Path | None, force: bool, project: Path, as_json: bool) -> None:
    """Render an unsigned DRAFT report of RUN_ID (open or closed) for preview."""
    from generator.archive.seal import draft_report

    path, pages = draft_report(project, run_id, output or Path(f"{run_id}-draft.pdf"), force=force)
    if as_json:
        emit_json({"run": run_id, "pdf": str(path), "pages": pages, "draft": True})
    else:
        click.echo(f"Wrote {pages}-page DRAFT report: {path}")



@run.command("show")
@click.argument("run_id")
@project_option
@json_option
def run_show(run_id: str, project: Path, as_json: bool) -> None:
    """Show RUN_ID with its counts and outcome."""
    from generator.runs.operations import show_run
    from generator.runs.timeline import time_problems

    run_file, record = show_run(project, run_id)
    times = [{"message": d.message, "severity": d.severity.value} for d in time_problems(record, run_file.shown)]
    print_run(record, as_json, run_file, {"times": times})


@run.command("list")
@click.option("--checklist", "checklist_id", default=None, help="Only runs of this checklist.")
@project_option
@json_option
def run_list(checklist_id: str | None, project: Path, as_json: bool) -> None:
    """List runs, newest first."""
    from generator.runs.operations import list_runs
    from generator.runs.outcome import summarize

    rows = []
    for run_file, record in list_runs(project, checklist_id):
        summary = summarize(record)
        rows.append({"id": record.id, "checklist": record.checklist, "release": record.release,
                     "environment": record.environment, "started_at": record.started_at,
                     "finished_at": record.finished_at, "outcome": summary.outcome.value,
                     "completion": summary.completion, "path": run_file.shown})
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:<34} {row['checklist']:<24} {row['release']:<14} {row['outcome']:<10} "
                   f"{row['completion']:5.1f}%  {row['started_at']}")
    if not rows:
        click.echo("No runs yet. Start one with: launchbook run start CHECKLIST_ID --release R", err=True)
