"""Commands for auditors and key holders: keys, verify, checkpoint, bundle, timestamp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from generator.cli.app import (
    cli,
    emit_json,
    executor_option,
    force_output_option,
    json_option,
    project_option,
    require_project,
    verbosity,
)
from generator.core.wording import counted, entry_number
from generator.parallel import Executor, use_executor


def _signer_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from generator.report.keys import name_problem  # the report layer loads only for this command

    problem = name_problem(value)
    if problem is not None:
        raise click.BadParameter(f"{value!r} {problem}")
    return value

@cli.group()
def keys() -> None:
    """Signing keys for go-live reports."""


@keys.command("new")
@click.option("--name", default="launchbook local signing key", show_default=True, callback=_signer_name,
              help="Certificate common name (up to 64 characters; no emoji: validators refuse them in names).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path(".launchbook/keys"),
              show_default=True, help="Folder for launchbook-signing.p12 and launchbook-signing.pem (never inside "
              "content/ or the output folder).")
@click.option("--no-passphrase", is_flag=True, help="Leave the .p12 unencrypted (else a passphrase is asked for on a "
              "terminal, or read from $LAUNCHBOOK_SIGNING_PASSPHRASE).")
@project_option(optional=True)
@json_option
def keys_new(name: str, out: Path, no_passphrase: bool, project: Path, as_json: bool) -> None:
    """Create a signing key and self-signed certificate (PKCS#12, mode 0600, encrypted; plus PEM)."""

    from generator.report.keys import PASSPHRASE_ENV, check_key_folder, create_key

    check_key_folder(out, project)
    passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if no_passphrase and passphrase:
        raise click.UsageError(f"--no-passphrase and ${PASSPHRASE_ENV} contradict each other; choose one")
    if not no_passphrase and passphrase is None:
        if not sys.stdin.isatty():
            raise click.UsageError(
                "the new key needs a passphrase and there is no terminal to ask for one: set "
                f"${PASSPHRASE_ENV}, run on a terminal (you will be asked twice), or pass --no-passphrase "
                "for an unencrypted key")
        passphrase = click.prompt("Passphrase for the new key", hide_input=True, confirmation_prompt=True,
                                  err=True)
    key = create_key(out, name, passphrase)
    data = {"pkcs12": str(key.pkcs12), "certificate": str(key.certificate), "subject": key.subject,
            "fingerprint": key.fingerprint, "encrypted": passphrase is not None}
    if as_json:
        emit_json(data)
    else:
        sealing = (f"set ${PASSPHRASE_ENV} to its passphrase when sealing" if passphrase is not None
                   else "unencrypted: protect the file")
        click.echo(f"Created {key.pkcs12} (keep it secret; mode 0600; {sealing}) and {key.certificate} (share it; "
                   f"list it under 'trust:' in site.yml).\nSubject: {key.subject}\nSHA-256: {key.fingerprint}")


@cli.command("verify")
@click.argument("targets", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A certificate (PEM) you trust for signers and checkpoints; repeatable. Only these are trusted.")
@click.option("--trust-tsa", "trust_tsa", multiple=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A trusted timestamp authority root certificate (PEM); repeatable. Only a timestamp from one of "
              "these proves when a report was signed (its signer certificate is checked at that time).")
@click.option("--trust-project", is_flag=True, help="Also trust the certificates the archive's own site.yml lists "
              "(the archive then vouches for itself: for its owners, not for auditors).")
@click.option("--since", "since", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A checkpoint the ledger must extend (consistency proof); repeatable.")
@executor_option
@project_option(unless="targets")
@json_option
def verify_command(targets: tuple[Path, ...], trust: tuple[Path, ...], trust_tsa: tuple[Path, ...],
                   trust_project: bool, since: tuple[Path, ...], executor: Executor | None, project: Path,
                   as_json: bool) -> None:
    """Verify a project archive (default: the current folder), report PDFs or audit bundles."""
    from generator.archive.verify import verify_targets
    from generator.terminal import progress_reporter

    quiet, level = verbosity()
    with use_executor(executor), progress_reporter(quiet or as_json, level) as progress:
        results = verify_targets(list(targets) or [project], list(trust), list(since), project, progress,
                                 list(trust_tsa), trust_project=trust_project)
    if as_json:
        emit_json({"ok": all(r.ok for r in results), "results": [{"target": r.target, "kind": r.kind, **r.data}
                                                                   for r in results]})
    elif not (quiet and all(r.ok for r in results)):
        click.echo("\n".join(r.text for r in results))
    if not all(r.ok for r in results):
        raise SystemExit(1)


@cli.command("checkpoint")
@click.option("--key", default=None, help="Signing key (default: $LAUNCHBOOK_SIGNING_KEY).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the checkpoint here (to paste into a ticket or keep elsewhere).")
@force_output_option
@project_option
@json_option
def checkpoint_command(key: str | None, output: Path | None, force: bool, project: Path, as_json: bool) -> None:
    """Sign the ledger's current tree head (size and root)."""
    from generator.archive.checkpoint import make_checkpoint

    path, head = make_checkpoint(project, key, output, force=force)
    if as_json:
        emit_json({"path": str(path), **head.data()})
    else:
        click.echo(f"Checkpoint of {counted(head.size, 'ledger entry')}, root {head.root}: {path}")


@cli.command("bundle")
@click.argument("run_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip to write [default: ./RUN_ID-audit-bundle.zip].")
@click.option("--key", default=None, help="Key to sign a fresh checkpoint if none covers the run yet.")
@force_output_option
@project_option
@json_option
def bundle_command(run_id: str, output: Path | None, key: str | None, force: bool, project: Path,
                   as_json: bool) -> None:
    """Write an audit bundle for a sealed run: report, record, evidence, ledger proof."""
    from generator.archive.bundle import create_bundle

    path, count = create_bundle(project, run_id, output, key, force=force)
    if as_json:
        emit_json({"run": run_id, "bundle": str(path), "files": count})
    else:
        click.echo(f"Wrote {path} ({count} files). Check it with: launchbook verify {path}")


@cli.command("timestamp")
@click.argument("target", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--tsa", "timestamp_url", default=None, help="RFC 3161 timestamp authority URL (default: site.yml "
              "timestamp_url).")
@click.option("--trust", "trust", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A trusted certificate (PEM), e.g. the timestamp authority's root; repeatable. site.yml 'trust' "
              "is added.")
@project_option(unless="target")
@json_option
def timestamp_command(target: Path | None, timestamp_url: str | None, trust: tuple[Path, ...], project: Path,
                      as_json: bool) -> None:
    """Renew sealed reports (PROJECT: all of them; REPORT: one) with a document timestamp (PAdES B-LTA).

    Run it again before the newest timestamp authority certificate expires; each renewal is an
    allowed revision recorded in the ledger."""
    from generator.archive.renew import timestamp_reports

    if target is not None and target.is_dir():
        require_project(target)
        project, target = target, None
    elif target is not None:
        require_project(project)
    done = timestamp_reports(project, target, timestamp_url=timestamp_url, trust=list(trust))
    rows = [{"run": r.run, "pdf": str(r.pdf), "pades_level": r.level, "stamped_at": r.stamped_at,
             "ledger_seq": r.ledger_seq, "ledger_entry": entry_number(r.ledger_seq), "sha256": r.sha256} for r in done]
    if as_json:
        emit_json({"timestamped": rows})
        return
    if not rows:
        click.echo("No sealed reports to timestamp.")
    for row in rows:
        click.echo(f"Timestamped {row['run']} at {row['stamped_at']}: PAdES {row['pades_level']}, ledger entry "
                   f"{row['ledger_entry']}: {row['pdf']}")
