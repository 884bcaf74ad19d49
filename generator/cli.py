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


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="launchbook")
def cli() -> None:
    """launchbook: Markdown checklists -> runbook site and signed go-live reports."""


@cli.command()
@click.option("-C", "project", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="Project folder (holds content/ and themes/).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: PROJECT/output].")
@click.option("--strict", is_flag=True, help="Fail on any warning (repairs, unknown keys, broken links).")
@click.option("--clean", is_flag=True, help="Move files you added to the output folder aside to OUTPUT.kept/ instead of keeping them.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def build(project: Path, output: Path | None, strict: bool, clean: bool, as_json: bool) -> None:
    """Build the site from PROJECT/content into the output folder (atomically)."""
    from generator.site.build import build_site

    result = build_site(project, output, strict=strict, clean=clean)
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
            }
        )
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for kept in result.kept:
        click.echo(f"kept your file: {kept}", err=True)
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


def main() -> None:
    """Console entry point."""
    sys.exit(cli.main(prog_name="launchbook", standalone_mode=True))
