"""Work spread over workers: chunks of a list to an executor, results in item order.

Three maps are independent per item (parsing sources and run records, rendering pages,
checking signed reports); they go through :func:`map_chunks`, which hands chunks to the
executor in effect:

- ``local`` (the default): ``fork`` workers on this machine, one per core.
- ``dask://HOST:PORT``: the workers of a running Dask scheduler (the optional
  ``launchbook[dask]`` extra); ``dask://local`` starts a Dask cluster on this machine,
  for trying it out.

The executor is chosen once, around everything, with :func:`use_executor` (a context
variable), so no layer between the command line and a map needs to pass it along.

A map's function is ``function(shared, chunk) -> results``, a module-level function (or a
``functools.partial`` of one). ``shared`` is what every chunk reads alike (a render job, a
cache folder); the executor delivers it to each worker once: by ``fork`` inheritance
locally, pickled and broadcast on Dask. Small lists run in-process, where starting workers
would cost more than it saves. ``progress(label, done, total)`` is called as chunks finish.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from generator.core.errors import ConfigError
from generator.parallel.cluster import DaskExecutor
from generator.parallel.local import MAX_WORKERS, LocalExecutor

__all__ = ["MAX_WORKERS", "Executor", "Progress", "current_executor", "map_chunks", "parse_executor",
           "use_executor"]

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: a long operation's advance."""

EXECUTOR_FORMS = "'local', 'dask://HOST:PORT' or 'dask://local'"
"""The valid ``--executor`` values, as error messages name them."""
_DASK = re.compile(r"dask://(?:(local)|(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5}))")


class Executor(Protocol):
    """Runs chunks somewhere and reports each as it finishes."""

    name: str

    def open(self) -> Executor:
        """Connect or start what the executor needs; itself, ready."""

    def workers(self) -> int:
        """How many chunks run at once."""

    def run(self, function: Callable[[Any, list[Any]], list[Any]], shared: Any, chunks: list[list[Any]],
            freeze: bool) -> Iterator[tuple[int, list[Any]]]:
        """``(chunk index, function(shared, chunk))`` for every chunk, in the order they finish."""

    def close(self) -> None:
        """Release workers or connections."""


_LOCAL = LocalExecutor()
_CURRENT: contextvars.ContextVar[Executor] = contextvars.ContextVar("launchbook_executor", default=_LOCAL)


def current_executor() -> Executor:
    """The executor maps use now (the local one unless :func:`use_executor` chose another)."""
    return _CURRENT.get()


def parse_executor(spec: str) -> Executor:
    """The executor a ``--executor`` value names (not yet connected); a bad one is a ConfigError."""
    text = spec.strip()
    if text == "local":
        return _LOCAL
    match = _DASK.fullmatch(text)
    if match is None:
        raise ConfigError(f"unknown executor {spec!r}: use {EXECUTOR_FORMS}")
    if match.group(1):
        return DaskExecutor("local")
    port = int(match.group(3))
    if not 0 < port < 65536:
        raise ConfigError(f"executor {spec!r}: port {port} is out of range (1-65535)")
    return DaskExecutor(f"{match.group(2)}:{port}")


@contextlib.contextmanager
def use_executor(spec: str | Executor | None) -> Iterator[Executor]:
    """Within the block, maps run on the executor ``spec`` names (``None``: the local one).

    A Dask executor is connected on entry (a missing extra or an unreachable scheduler is an
    :class:`~generator.core.errors.ExecutorError`) and closed on exit.
    """
    executor = parse_executor(spec) if isinstance(spec, str) else spec or _LOCAL
    opened = executor.open()
    token = _CURRENT.set(opened)
    try:
        yield opened
    finally:
        _CURRENT.reset(token)
        opened.close()


def map_chunks(function: Callable[[Any, list[T]], list[R]], items: Sequence[T], *, shared: Any = None,
               parallel_from: int, progress: Progress | None = None, label: str = "",
               freeze: bool = False) -> list[R]:
    """``function(shared, chunk)`` applied to chunks of ``items``; the results concatenated
    in item order, whatever order the chunks finish in.

    ``freeze`` (local workers only) moves the parent's objects out of the GC's sight first,
    so workers that only read them do not copy every page of memory they touch.
    """
    total = len(items)
    executor = current_executor()
    local = isinstance(executor, LocalExecutor)
    workers = executor.workers() if total >= parallel_from else 1
    if total < parallel_from or (local and workers < 2):  # a cluster is used even with one worker
        whole = function(shared, list(items))
        if progress is not None and total:
            progress(label, total, total)
        return whole
    size = max(1, total // (workers * 4))
    chunks = [list(items[i : i + size]) for i in range(0, total, size)]
    results: list[list[R] | None] = [None] * len(chunks)
    done = 0
    for index, rows in executor.run(function, shared, chunks, freeze):
        results[index] = rows
        done += len(chunks[index])
        if progress is not None:
            progress(label, done, total)
    return [row for rows in results if rows is not None for row in rows]
