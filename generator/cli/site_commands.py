"""Commands for authors: build, serve, new, lint, inspect."""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path
from typing import Any

import click

from generator.cli.app import (
    WARNINGS_SHOWN,
    audit_hook,
    cli,
    emit_json,
    executor_option,
    json_option,
    project_option,
    verbosity,
)
from generator.core.errors import ConfigError
from generator.core.wording import counted
from generator.parallel import Executor, use_executor


@cli.command()
@project_option
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: PROJECT/output].")
@click.option("--strict", is_flag=True, help="Fail on any warning (repairs, unknown keys, broken links).")
@click.option("--clean", is_flag=True,
              help="Move files you added to the output folder aside to OUTPUT.kept/ instead of keeping them.")
@click.option("--no-cache", is_flag=True, help="Rebuild everything (ignore PROJECT/.launchbook-cache and the "
              "up-to-date check).")
@click.option("-v", "--verbose", is_flag=True, help=f"Print every warning, not only the first {50}.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@executor_option
def build(project: Path, output: Path | None, strict: bool, clean: bool, no_cache: bool, verbose: bool,
          as_json: bool, executor: Executor | None) -> None:
    """Build the site from PROJECT/content into the output folder (atomically)."""
    from generator.site.uptodate import build as build_if_needed
    from generator.terminal import progress_reporter

    quiet, level = verbosity()
    verbose = verbose or level > 0
    with use_executor(executor), progress_reporter(quiet or as_json, level) as progress:
        result = build_if_needed(project, output, strict=strict, clean=clean, cache=not no_cache, audit=audit_hook,
                                 progress=progress)
    if as_json:
        emit_json(
            {
                "output": str(result.output),
                "pages": result.pages,
                "files": result.files,
                "checklists": result.checklists,
                "items": result.items,
                "warnings": [str(w) for w in result.warnings],
                "notes": [str(n) for n in result.notes],
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
        more = counted(len(result.warnings) - len(shown), "more warning")
        click.echo(f"… and {more} (-v shows all, --json lists them)", err=True)
    for kept in result.kept:
        click.echo(f"kept your file: {kept}", err=True)
    if quiet:
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if result.skipped:
        click.echo(f"Up to date: nothing changed since the last build of {result.output} "
                   f"({counted(result.pages, 'page')}; checked in {result.seconds:.2f} s).")
        return
    click.echo(
        f"Built {counted(result.pages, 'page')} ({counted(result.checklists, 'checklist')}, "
        f"{counted(result.items, 'item')}) into {result.output} in {result.seconds:.2f} s; "
        f"{counted(len(result.warnings), 'warning')}."
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
        emit_json(to_json(document))
    else:
        click.echo(as_outline(document))



@cli.command("new")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="", help="Site title [default: from the folder name].")
@json_option
def new_command(directory: Path, title: str, as_json: bool) -> None:
    """Create a project in DIRECTORY: content with an example checklist and run, a documented
    site.yml and a theme override folder. Existing files are never overwritten; a folder that is
    already a project (checklists in content/, records in content/runs/) gets only the missing
    skeleton files, never the examples."""
    from generator.scaffold import new_project

    done = new_project(directory, title)
    if as_json:
        emit_json({"root": str(done.root), "created": done.created, "kept": done.kept,
                   "existing_project": bool(done.existing), "found": done.existing, "not_added": done.withheld})
        return
    for rel in done.created:
        click.echo(f"created {directory / rel}")
    for rel in done.kept:
        click.echo(f"kept    {directory / rel} (already there, not touched)")
    if done.existing:
        click.echo(f"not added: the example page, checklist and run ({directory} is already a project: "
                   f"{'; '.join(done.existing)})")
    if not done.created:
        click.echo("Nothing to add: every skeleton file is already there.")
    here = directory.resolve() == Path.cwd().resolve()
    click.echo(f"\nNext: {'' if here else f'cd {directory} && '}launchbook serve --open")


def _address(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A bad ``-a`` is a usage error (exit 2)."""
    from generator.site.serve import parse_address

    try:
        parse_address(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from None
    return value


@cli.command("serve")
@click.option("-a", "--address", default="127.0.0.1:8000", show_default=True, callback=_address,
              help="HOST:PORT to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: PROJECT/output].")
@click.option("--user", default=None, help="Who marks items in the run console [default: git config user.name, "
              "then the OS user].")
@click.option("--trust-proxy-header", "proxy_header", default="", metavar="HEADER",
              help="Take each person's name from this header, set by an authenticating reverse proxy (off unless "
              "named). Without it, the console is read-only on a non-loopback address.")
@click.option("--auth", "auth", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A people file (`launchbook auth add`): each person signs in with their own token.")
@click.option("--key", default=None, help="Signing key for closing runs in the console [default: "
              "$LAUNCHBOOK_SIGNING_KEY].")
@click.option("--allow-exec", is_flag=True, help="Let the console run items' ```sh {.run} blocks (loopback only).")
@click.option("--exec-timeout", type=click.FloatRange(min=1, max=86400), default=300.0, show_default=True,
              help="Seconds a runnable step may take before it is killed.")
@project_option
def serve_command(address: str, open_browser: bool, output: Path | None, user: str | None, proxy_header: str,
                  auth: Path | None, key: str | None, allow_exec: bool, exec_timeout: float, project: Path) -> None:
    """Build, serve on localhost, rebuild when content/, themes/ or site.yml change, and
    reload open pages. A failed build is shown in the page and here; the server keeps running.

    Under serve, checklist pages get a "Start a run" button and runs can be worked through in
    the browser (the run console): every mark goes through the same locked run store as
    `launchbook run mark`."""
    from generator.console.serve import console_factory
    from generator.site.serve import LiveServer, parse_address
    from generator.site.uptodate import build as build_if_needed

    host, port = parse_address(address)
    project = project.resolve()
    target = (output or project / "output").resolve()

    def build(skip_current: bool = True) -> Any:
        return build_if_needed(project, target, strict=False, clean=False, cache=True, audit=audit_hook,
                               skip_current=skip_current)

    server = LiveServer(project, target, build, host, port, report=lambda message: click.echo(message, err=True),
                        console=console_factory(project, host, user=user, proxy_header=proxy_header, key=key,
                                                auth=auth, allow_exec=allow_exec, exec_timeout=exec_timeout),
                        warm=lambda: build(skip_current=False))
    server.rebuild()

    def ready() -> None:
        click.echo(f"Serving {target} at {server.url}, watching for changes (Ctrl-C to stop)", err=True)
        if open_browser:

            webbrowser.open(server.url)

    try:
        server.run(ready)
    except KeyboardInterrupt:
        server.stop()


@cli.group("auth")
def auth_group() -> None:
    """People who may write through a team's run console (serve --auth FILE)."""


@auth_group.command("add")
@click.argument("name")
@click.option("-f", "--file", "path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The people file (created if missing; only token hashes are stored).")
@json_option
def auth_add(name: str, path: Path, as_json: bool) -> None:
    """Give NAME a new sign-in token (printed once; an earlier token of NAME stops working)."""
    from generator.console.people import add_person

    token = add_person(path, name)
    if as_json:
        emit_json({"name": name.strip(), "file": str(path), "token": token})
    else:
        click.echo(f"Token for {name.strip()} (shown once; give it to them privately):\n{token}")


@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--fix", is_flag=True, help="Rewrite the files with the repairs launchbook knows (BOM, CRLF, escaped "
              "exports, &nbsp; indentation, mojibake).")
@click.option("--no-backup", is_flag=True, help="With --fix: do not keep FILE.bak copies.")
@project_option(unless="paths")
@json_option
def lint_command(paths: tuple[Path, ...], fix: bool, no_backup: bool, project: Path, as_json: bool) -> None:
    """Check Markdown sources (default: PROJECT/content) and report every problem with
    file:line and a rule code. Exit 1 when problems remain."""
    from generator.lint.check import lint, rule_of

    result = lint(project, list(paths), fix=fix, backup=not no_backup)
    if as_json:
        emit_json({
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
        files = f"{result.files} file{'s' if result.files != 1 else ''}"
        click.echo(f"{count} problem{'s' if count != 1 else ''} in {files}"
                   + (f" ({fixable} fixable with --fix)" if fixable else "") + ".", err=True)
    if result.problems:
        sys.exit(1)
