"""Command line: parse options, call one library function, print.

Exit codes: 0 ok, 1 failure (an ``Error: …`` line), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from generator import __version__


WARNINGS_SHOWN = 50


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="launchbook")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary lines; warnings and errors only.")
@click.option("-v", "--verbose", count=True, help="More detail: every warning, a line per finished stage.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """launchbook: Markdown checklists -> runbook site and signed go-live reports.

    Shell completion: eval "$(_LAUNCHBOOK_COMPLETE=bash_source launchbook)" (zsh_source,
    fish_source for other shells).
    """
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def _verbosity() -> tuple[bool, int]:
    """(quiet, verbose) from the global -q/-v options."""
    obj = click.get_current_context().find_root().obj or {}
    return bool(obj.get("quiet")), int(obj.get("verbose", 0))


def _audit(project: Path, trust: list[Path], records: dict[str, Any]) -> Any:
    """The archive's integrity check, imported only when a build needs it."""
    from generator.archive.audit import audit_project

    return audit_project(project, trust, records=records)


@cli.command()
@click.option("-C", "project", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="Project folder (holds content/ and themes/).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: PROJECT/output].")
@click.option("--strict", is_flag=True, help="Fail on any warning (repairs, unknown keys, broken links).")
@click.option("--clean", is_flag=True, help="Move files you added to the output folder aside to OUTPUT.kept/ instead of keeping them.")
@click.option("--no-cache", is_flag=True, help="Rebuild everything (ignore PROJECT/.launchbook-cache and the "
              "up-to-date check).")
@click.option("-v", "--verbose", is_flag=True, help=f"Print every warning, not only the first {50}.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def build(project: Path, output: Path | None, strict: bool, clean: bool, no_cache: bool, verbose: bool,
          as_json: bool) -> None:
    """Build the site from PROJECT/content into the output folder (atomically)."""
    from generator.site.uptodate import build as build_if_needed
    from generator.terminal import progress_reporter

    quiet, level = _verbosity()
    verbose = verbose or level > 0
    with progress_reporter(quiet or as_json, level) as progress:
        result = build_if_needed(project, output, strict=strict, clean=clean, cache=not no_cache, audit=_audit,
                                 progress=progress)
    if as_json:
        _emit_json(
            {
                "output": str(result.output),
                "pages": result.pages,
                "files": result.files,
                "checklists": result.checklists,
                "items": result.items,
                "warnings": [str(w) for w in result.warnings],
                "kept": list(result.kept),
                "seconds": round(result.seconds, 3),
                "skipped": result.skipped,
            }
        )
        return
    shown = result.warnings if verbose else result.warnings[:WARNINGS_SHOWN]
    for warning in shown:
        click.echo(f"warning: {warning}", err=True)
    if len(shown) < len(result.warnings):
        click.echo(f"… and {len(result.warnings) - len(shown)} more warnings (-v shows all, --json lists them)",
                   err=True)
    for kept in result.kept:
        click.echo(f"kept your file: {kept}", err=True)
    if quiet:
        return
    if result.skipped:
        click.echo(f"Up to date: nothing changed since the last build of {result.output} "
                   f"({result.pages} pages; checked in {result.seconds:.2f} s).")
        return
    click.echo(
        f"Built {result.pages} pages ({result.checklists} checklists, {result.items} items) into "
        f"{result.output} in {result.seconds:.2f} s; {len(result.warnings)} warnings."
    )


@cli.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the parsed checklist as JSON.")
def inspect_command(file: Path, as_json: bool) -> None:
    """Parse one Markdown FILE and show its items, IDs, sections and sign-offs."""
    from generator.sources.outline import as_json as to_json
    from generator.sources.outline import as_outline, inspect_file

    document = inspect_file(file)
    if as_json:
        _emit_json(to_json(document))
    else:
        click.echo(as_outline(document))


def _project_option(function: Any) -> Any:
    return click.option("-C", "project", type=click.Path(file_okay=False, path_type=Path), default=".",
                        show_default=True, help="Project folder (holds content/).")(function)


def _json_option(function: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(function)


def _at_option(function: Any) -> Any:
    return click.option("--at", default=None, help="When it happened (ISO 8601 with timezone); default now.")(function)


def _print_run(record: Any, as_json: bool, run_file: Any, extra: dict[str, Any] | None = None) -> None:
    from generator.runs.outcome import summarize, summary_data

    summary = summarize(record)
    if as_json:
        _emit_json({"record": record.to_data(), "path": run_file.shown, "summary": summary_data(summary), **(extra or {})})
        return
    from generator.runs.show import describe

    click.echo(describe(record, summary, run_file.shown))


@cli.group()
def run() -> None:
    """Record checklist runs: start, mark items, sign off, import, show, list."""


@run.command("start")
@click.argument("checklist_id")
@click.option("--release", required=True, help="Release or version being launched.")
@click.option("--change", default="", help="Change ticket ID.")
@click.option("--change-url", default="", help="Link to the change ticket.")
@click.option("--env", "environment", default="", help="Target environment.")
@click.option("--operator", default="", help="Who runs the checklist.")
@click.option("--summary", default="", help="Free-text summary.")
@_at_option
@_project_option
@_json_option
def run_start(checklist_id: str, release: str, change: str, change_url: str, environment: str, operator: str,
              summary: str, at: str | None, project: Path, as_json: bool) -> None:
    """Start a run of CHECKLIST_ID; prints the new run id."""
    from generator.runs.operations import start_run

    run_file, record = start_run(project, checklist_id, release=release, change=change, change_url=change_url,
                                 environment=environment, operator=operator, summary=summary, at=at)
    if as_json:
        _emit_json({"id": record.id, "path": run_file.shown, "items": len(record.snapshot.items)})
    else:
        click.echo(f"Started run of {record.snapshot.title} ({len(record.snapshot.items)} items): {run_file.shown}", err=True)
        click.echo(record.id)


@run.command("mark")
@click.argument("run_id")
@click.argument("item_id")
@click.option("--status", required=True, help="open, done, failed, skipped, na or blocked.")
@click.option("--by", default="", help="Who did it (default: the run's operator).")
@click.option("--note", default="", help="Reason or remark (required for failed, skipped, na, blocked).")
@click.option("--evidence", multiple=True, help="A URL or a file to attach (repeatable).")
@_at_option
@_project_option
@_json_option
def run_mark(run_id: str, item_id: str, status: str, by: str, note: str, evidence: tuple[str, ...],
             at: str | None, project: Path, as_json: bool) -> None:
    """Set the status of ITEM_ID in RUN_ID."""
    from generator.runs.operations import mark_item

    run_file, record = mark_item(project, run_id, item_id, status=status, by=by, note=note, evidence=evidence, at=at)
    entry = record.results[item_id].current
    if as_json:
        _emit_json({"run": record.id, "item": item_id, "result": entry.to_data()})
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
@_at_option
@_project_option
@_json_option
def run_signoff(run_id: str, role: str, name: str, decision: str, meaning: str, comment: str, retroactive: bool,
                at: str | None, project: Path, as_json: bool) -> None:
    """Record a sign-off decision for RUN_ID."""
    from generator.runs.operations import add_signoff

    run_file, record = add_signoff(project, run_id, role=role, name=name, decision=decision, meaning=meaning,
                                   comment=comment, at=at, retroactive=retroactive)
    if as_json:
        _emit_json({"run": record.id, "signoff": record.signoffs[-1].to_data()})
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
@_at_option
@_project_option
@_json_option
def run_import(filled: Path, checklist_id: str, release: str, change: str, change_url: str, environment: str,
               operator: str, by: str, at: str | None, project: Path, as_json: bool) -> None:
    """Create a run from FILLED, a ticked-off copy of a checklist."""
    from generator.runs.import_markdown import import_markdown

    result = import_markdown(project, filled, checklist_id, release=release, change=change, change_url=change_url,
                             environment=environment, operator=operator, by=by, at=at)
    for line in (*result.unmatched, *result.warnings):
        if not as_json:
            click.echo(f"warning: {line}", err=True)
    extra = {"unmatched": list(result.unmatched), "warnings": list(result.warnings)}
    if as_json:
        _emit_json({"id": result.record.id, "path": result.run.shown, **extra})
    else:
        click.echo(f"Imported {len(result.record.results)} item results and {len(result.record.signoffs)} sign-offs; "
                   f"{len(result.unmatched)} lines not in the checklist: {result.run.shown}", err=True)
        click.echo(result.record.id)


@run.command("import-junit")
@click.argument("run_id")
@click.argument("xml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default="CI", show_default=True, help="Who the results are recorded as.")
@_at_option
@_project_option
@_json_option
def run_import_junit(run_id: str, xml: Path, by: str, at: str | None, project: Path, as_json: bool) -> None:
    """Apply JUnit XML test results to RUN_ID."""
    from generator.runs.import_junit import import_junit

    result = import_junit(project, run_id, xml, by=by, at=at)
    if as_json:
        _emit_json({"run": result.record.id, "applied": result.applied, "unmapped": list(result.unmapped),
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
@click.option("--tsa", "timestamp_url", default=None, help="RFC 3161 timestamp authority URL (PAdES B-T).")
@_at_option
@_project_option
@_json_option
def run_close(run_ids: tuple[str, ...], key: str | None, force: bool, timestamp_url: str | None, at: str | None,
              project: Path, as_json: bool) -> None:
    """Close RUN_ID...: write each run's signed PDF/A-3b go-live report next to its record.
    Several runs are sealed one after the other; the first failure stops the rest."""
    from generator.archive.seal import close_runs
    from generator.terminal import progress_reporter

    quiet, level = _verbosity()
    with progress_reporter(quiet or as_json or len(run_ids) < 2, level) as progress:
        done = close_runs(project, list(run_ids), key=key, force=force, at=at, timestamp_url=timestamp_url,
                          progress=progress)
    rows = []
    for sealed in done:
        report = sealed.record.extra["report"]
        rows.append({"run": sealed.record.id, "outcome": sealed.summary.outcome.value, "pdf": str(sealed.pdf),
                     "pages": sealed.pages, "sha256": report["sha256"], "signer": report["signer"],
                     "fingerprint": report["fingerprint"], "forced": sealed.record.extra["sealed"]["forced"],
                     "render_seconds": round(sealed.render_seconds, 3), "sign_seconds": round(sealed.sign_seconds, 3)})
    if as_json:
        _emit_json(rows[0] if len(rows) == 1 else {"closed": rows})
        return
    if quiet:
        return
    for row in rows:
        click.echo(f"Closed {row['run']}: {str(row['outcome']).upper()}"
                   f"{' (closed with exceptions)' if row['forced'] else ''}; {row['pages']}-page report signed by "
                   f"{row['signer']}: {row['pdf']}")


@cli.command("report")
@click.argument("run_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the draft [default: ./RUN_ID-draft.pdf].")
@_project_option
@_json_option
def report_command(run_id: str, output: Path | None, project: Path, as_json: bool) -> None:
    """Render an unsigned DRAFT report of RUN_ID (open or closed) for preview."""
    from generator.archive.seal import draft_report

    path, pages = draft_report(project, run_id, output or Path(f"{run_id}-draft.pdf"))
    if as_json:
        _emit_json({"run": run_id, "pdf": str(path), "pages": pages, "draft": True})
    else:
        click.echo(f"Wrote {pages}-page DRAFT report: {path}")


@cli.group()
def keys() -> None:
    """Signing keys for go-live reports."""


@keys.command("new")
@click.option("--name", default="launchbook local signing key", show_default=True, help="Certificate common name.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path(".launchbook/keys"),
              show_default=True, help="Folder for launchbook-signing.p12 and launchbook-signing.pem.")
@_json_option
def keys_new(name: str, out: Path, as_json: bool) -> None:
    """Create a signing key and self-signed certificate (PKCS#12, mode 0600, plus PEM)."""
    import os

    from generator.report.keys import PASSPHRASE_ENV, create_key

    key = create_key(out, name, os.environ.get(PASSPHRASE_ENV) or None)
    data = {"pkcs12": str(key.pkcs12), "certificate": str(key.certificate), "subject": key.subject,
            "fingerprint": key.fingerprint}
    if as_json:
        _emit_json(data)
    else:
        click.echo(f"Created {key.pkcs12} (keep it secret; mode 0600) and {key.certificate} (share it; list it "
                   f"under 'trust:' in site.yml).\nSubject: {key.subject}\nSHA-256: {key.fingerprint}")


@cli.command("verify")
@click.argument("targets", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A trusted signer certificate (PEM); repeatable. site.yml 'trust' is added.")
@click.option("--since", "since", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A checkpoint the ledger must extend (consistency proof); repeatable.")
@_project_option
@_json_option
def verify_command(targets: tuple[Path, ...], trust: tuple[Path, ...], since: tuple[Path, ...], project: Path,
                   as_json: bool) -> None:
    """Verify a project archive (default: the current folder), report PDFs or audit bundles."""
    from generator.archive.verify import verify_targets
    from generator.terminal import progress_reporter

    quiet, level = _verbosity()
    with progress_reporter(quiet or as_json, level) as progress:
        results = verify_targets(list(targets) or [project], list(trust), list(since), project, progress)
    if as_json:
        _emit_json({"ok": all(r.ok for r in results), "results": [{"target": r.target, "kind": r.kind, **r.data}
                                                                   for r in results]})
    elif not (quiet and all(r.ok for r in results)):
        click.echo("\n".join(r.text for r in results))
    if not all(r.ok for r in results):
        raise SystemExit(1)


@cli.command("checkpoint")
@click.option("--key", default=None, help="Signing key (default: $LAUNCHBOOK_SIGNING_KEY).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the checkpoint here (to paste into a ticket or keep elsewhere).")
@_project_option
@_json_option
def checkpoint_command(key: str | None, output: Path | None, project: Path, as_json: bool) -> None:
    """Sign the ledger's current tree head (size and root)."""
    from generator.archive.checkpoint import make_checkpoint

    path, head = make_checkpoint(project, key, output)
    if as_json:
        _emit_json({"path": str(path), **head.data()})
    else:
        click.echo(f"Checkpoint of {head.size} ledger entries, root {head.root}: {path}")


@cli.command("bundle")
@click.argument("run_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write [default: ./RUN_ID-audit-bundle.zip].")
@click.option("--key", default=None, help="Key to sign a fresh checkpoint if none covers the run yet.")
@_project_option
@_json_option
def bundle_command(run_id: str, output: Path | None, key: str | None, project: Path, as_json: bool) -> None:
    """Write an audit bundle for a sealed run: report, record, evidence, ledger proof."""
    from generator.archive.bundle import create_bundle

    path, count = create_bundle(project, run_id, output, key)
    if as_json:
        _emit_json({"run": run_id, "bundle": str(path), "files": count})
    else:
        click.echo(f"Wrote {path} ({count} files). Check it with: launchbook verify {path}")


@run.command("show")
@click.argument("run_id")
@_project_option
@_json_option
def run_show(run_id: str, project: Path, as_json: bool) -> None:
    """Show RUN_ID with its counts and outcome."""
    from generator.runs.operations import show_run

    run_file, record = show_run(project, run_id)
    _print_run(record, as_json, run_file)


@run.command("list")
@click.option("--checklist", "checklist_id", default=None, help="Only runs of this checklist.")
@_project_option
@_json_option
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
        _emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']:<34} {row['checklist']:<24} {row['release']:<14} {row['outcome']:<10} "
                   f"{row['completion']:5.1f}%  {row['started_at']}")
    if not rows:
        click.echo("No runs yet. Start one with: launchbook run start CHECKLIST_ID --release R", err=True)


@cli.command("new")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="", help="Site title [default: from the folder name].")
@_json_option
def new_command(directory: Path, title: str, as_json: bool) -> None:
    """Create a project in DIRECTORY: content with an example checklist and run, a documented
    site.yml and a theme override folder. Existing files are never overwritten."""
    from generator.scaffold import new_project

    done = new_project(directory, title)
    if as_json:
        _emit_json({"root": str(done.root), "created": done.created, "kept": done.kept})
        return
    for rel in done.created:
        click.echo(f"created {directory / rel}")
    for rel in done.kept:
        click.echo(f"kept    {directory / rel} (already there, not touched)")
    here = directory.resolve() == Path.cwd().resolve()
    click.echo(f"\nNext: {'' if here else f'cd {directory} && '}launchbook serve --open")


@cli.command("serve")
@click.option("-a", "--address", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: PROJECT/output].")
@_project_option
def serve_command(address: str, open_browser: bool, output: Path | None, project: Path) -> None:
    """Build, serve on localhost, rebuild when content/, themes/ or site.yml change, and
    reload open pages. A failed build is shown in the page and here; the server keeps running."""
    from generator.site.serve import LiveServer, parse_address
    from generator.site.uptodate import build as build_if_needed

    host, port = parse_address(address)
    project = project.resolve()
    target = (output or project / "output").resolve()

    def build() -> Any:
        return build_if_needed(project, target, strict=False, clean=False, cache=True, audit=_audit)

    server = LiveServer(project, target, build, host, port, report=lambda message: click.echo(message, err=True))
    server.rebuild()

    def ready() -> None:
        click.echo(f"Serving {target} at {server.url}, watching for changes (Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)

    try:
        server.run(ready)
    except KeyboardInterrupt:
        server.stop()


@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Rewrite the files with the repairs launchbook knows (BOM, CRLF, escaped "
              "exports, &nbsp; indentation, mojibake).")
@click.option("--no-backup", is_flag=True, help="With --fix: do not keep FILE.bak copies.")
@_project_option
@_json_option
def lint_command(paths: tuple[Path, ...], fix: bool, no_backup: bool, project: Path, as_json: bool) -> None:
    """Check Markdown sources (default: PROJECT/content) and report every problem with
    file:line and a rule code. Exit 1 when problems remain."""
    from generator.lint.check import lint, rule_of

    result = lint(project, list(paths), fix=fix, backup=not no_backup)
    if as_json:
        _emit_json({
            "files": result.files,
            "fixed": [{"path": path, "backup": backup} for path, backup in result.fixed],
            "problems": [{"path": p.path, "line": p.line, "message": p.message, **rule_of(p)} for p in result.problems],
        })
    else:
        for path, backup in result.fixed:
            click.echo(f"fixed {path}" + (f" (original kept as {backup})" if backup else ""))
        for problem in result.problems:
            rule = rule_of(problem)
            where = f"{problem.path}:{problem.line}" if problem.line else problem.path
            hint = " [--fix]" if rule["fixable"] else ""
            click.echo(f"{where}: {rule['code']} {rule['rule']}: {problem.message}{hint}")
        fixable = sum(bool(rule_of(p)["fixable"]) for p in result.problems)
        count = len(result.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {result.files} file{'s' if result.files != 1 else ''}"
                   + (f" ({fixable} fixable with --fix)" if fixable else "") + ".", err=True)
    if result.problems:
        sys.exit(1)


def main() -> None:
    """Console entry point."""
    sys.exit(cli.main(prog_name="launchbook", standalone_mode=True))
