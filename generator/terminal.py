"""How long operations show their progress: a bar on a terminal, lines or silence otherwise.

On a TTY (and without ``-q``) a rich progress bar on stderr, gone when done. When stderr
is not a terminal the output stays line-oriented for logs: nothing by default, one line
per finished stage with ``-v``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from generator.parallel import Progress


@contextlib.contextmanager
def progress_reporter(quiet: bool = False, verbose: int = 0) -> Iterator[Progress | None]:
    """A ``progress(label, done, total)`` callback for the current terminal, or ``None``."""
    if quiet:
        yield None
    elif sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                 console=Console(stderr=True), transient=True) as bar:
            tasks: dict[str, object] = {}

            def advance(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done, total=total)  # type: ignore[arg-type]

            yield advance
    elif verbose:
        def line(label: str, done: int, total: int) -> None:
            if done >= total:
                click.echo(f"{label}: {done}/{total} done", err=True)

        yield line
    else:
        yield None
