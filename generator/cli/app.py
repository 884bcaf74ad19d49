"""The command group, its global options and the helpers every command module shares."""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

import click
from click.core import ParameterSource

from generator import __version__
from generator.core.errors import ConfigError
from generator.parallel import EXECUTOR_FORMS, Executor, parse_executor
from generator.runs.record import parse_time

WARNINGS_SHOWN = 50


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


_GLOBAL = {"-q": "-q", "--quiet": "-q", "-v": "-v", "--verbose": "-v", "-vv": "-vv"}


class _Group(click.Group):
    """``-q``/``-v`` are global but may also follow the subcommand (``launchbook build -q``),
    unless that subcommand has an option of the same name (``build -v``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        command: click.Command = self
        leaf_at = -1
        for index, token in enumerate(args):
            if token == "--":
                break
            if isinstance(command, click.Group) and token in command.commands:
                command, leaf_at = command.commands[token], index
                if not isinstance(command, click.Group):
                    break
        if leaf_at < 0 or isinstance(command, click.Group):
            return super().parse_args(ctx, args)
        own = {opt for param in command.params for opt in getattr(param, "opts", [])}
        takes_value = {opt for param in command.params if isinstance(param, click.Option)
                       and not param.is_flag and not param.count for opt in param.opts}
        head, tail = args[:leaf_at + 1], args[leaf_at + 1:]
        end = tail.index("--") if "--" in tail else len(tail)
        moves = [i < end and token in _GLOBAL and token not in own and (i == 0 or tail[i - 1] not in takes_value)
                 for i, token in enumerate(tail)]
        moved = [_GLOBAL[token] for token, move in zip(tail, moves, strict=True) if move]
        rest = [token for token, move in zip(tail, moves, strict=True) if not move]
        return super().parse_args(ctx, [*moved, *head, *rest])


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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


def verbosity() -> tuple[bool, int]:
    """(quiet, verbose) from the global -q/-v options."""
    obj = click.get_current_context().find_root().obj or {}
    return bool(obj.get("quiet")), int(obj.get("verbose", 0))


def audit_hook(project: Path, trust: list[Path], records: dict[str, Any], record_cache: Path | None) -> Any:
    """The archive's integrity check, imported only when a build needs it."""
    from generator.archive.audit import audit_project

    return audit_project(project, trust, records=records, record_cache=record_cache)


def require_project(project: Path) -> None:
    """Refuse a folder without ``content/`` (the sources every command reads, or writes runs into)."""
    if not (project / "content").is_dir():
        what = "no such folder" if not project.exists() else "content folder not found"
        raise ConfigError(f"no launchbook project here ({what}); pass -C with the project folder, or create one with "
                          f"`launchbook new {project}`", project)


_Command = TypeVar("_Command", bound=Callable[..., Any])


@overload
def project_option(function: _Command) -> _Command: ...


@overload
def project_option(*, unless: str = "", optional: bool = False) -> Callable[[_Command], _Command]: ...


def project_option(function: Any = None, *, unless: str = "", optional: bool = False) -> Any:
    """The shared ``-C PROJECT`` option; the command runs only when PROJECT is a project.

    ``unless`` names an argument that, when given, lets the command run without a project
    as long as ``-C`` itself was not given (``verify FILE.pdf``, ``lint FILE.md``).
    ``optional``: without ``-C`` the command works anywhere, consulting the current folder
    only if it is a project (``keys new`` keeps keys out of a project's content and output).
    """

    def decorate(command: Any) -> Any:
        @functools.wraps(command)
        def checked(*args: Any, **kwargs: Any) -> Any:
            explicit = click.get_current_context().get_parameter_source("project") is not ParameterSource.DEFAULT
            if explicit and optional:
                require_project(kwargs["project"])  # a -C given is checked all the same
            elif not optional and (explicit or not (unless and kwargs.get(unless))):
                require_project(kwargs["project"])
            return command(*args, **kwargs)

        return click.option("-C", "project", type=click.Path(file_okay=False, path_type=Path), default=".",
                            show_default=True, help="Project folder (holds content/).")(checked)

    return decorate(function) if function is not None else decorate


def json_option(function: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(function)


def force_output_option(function: Any) -> Any:
    return click.option("--force", "force", is_flag=True,
                        help="Replace the -o file if it exists (never inside content/ or themes/).")(function)


def _time_value(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--at`` must be an ISO 8601 time with a timezone: anything else is a usage error (exit 2)."""
    if value is not None:
        try:
            parse_time(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not an ISO 8601 time with a timezone "
                                     "(e.g. 2026-05-20T07:30:00Z)") from None
    return value


def at_option(function: Any) -> Any:
    return click.option("--at", default=None, callback=_time_value,
                        help="When it happened (ISO 8601 with timezone); default now.")(function)


def _executor_value(ctx: click.Context, param: click.Parameter, value: str | None) -> Executor | None:
    """A bad ``--executor`` is a usage error (exit 2) naming the valid forms."""
    if value is None:
        return None
    try:
        return parse_executor(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from None


def executor_option(function: Any) -> Any:
    return click.option("--executor", default=None, metavar="local|dask://HOST:PORT", callback=_executor_value,
                        envvar="LAUNCHBOOK_EXECUTOR",
                        help=f"Where per-item work runs: {EXECUTOR_FORMS} [default: local, every core]. Dask "
                        "needs the dask extra, and the project and output on a filesystem every worker "
                        "sees.")(function)


def print_run(record: Any, as_json: bool, run_file: Any, extra: dict[str, Any] | None = None) -> None:
    from generator.runs.outcome import summarize, summary_data

    summary = summarize(record)
    if as_json:
        emit_json({"record": record.to_data(), "path": run_file.shown, "summary": summary_data(summary),
                   **(extra or {})})
        return
    from generator.runs.show import describe

    click.echo(describe(record, summary, run_file.shown))



def _exit_on_signal(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def main() -> None:
    """Console entry point. SIGTERM and SIGHUP become ``SystemExit`` (like Ctrl-C becomes
    ``KeyboardInterrupt``), so a killed command still removes its temp files and staging."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) == signal.SIG_DFL:
            signal.signal(number, _exit_on_signal)
    try:
        code = cli.main(prog_name="launchbook", standalone_mode=False)
    except click.ClickException as exc:
        if "--json" in sys.argv[1:]:  # a machine that asked for JSON gets the error as JSON too
            emit_json({"ok": False, "error": {"message": exc.format_message(), "exit_code": exc.exit_code,
                                              "path": getattr(exc, "path", None), "line": getattr(exc, "line", None)}})
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
