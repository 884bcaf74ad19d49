"""The default executor: ``fork`` workers on this machine, one per core (at most eight).

Workers inherit the parent's memory, so neither the function nor ``shared`` is pickled:
``shared`` travels as the workers' initializer argument, which a ``fork`` worker receives
as inherited memory. It is kept in this module's one worker-side global, set only inside a
worker, so two maps in the parent never see each other's. Only chunks and results cross.
Workers die with the parent (Linux ``PR_SET_PDEATHSIG``, elsewhere a check of the
parent's pid), so a killed build leaves no worker writing into its staging folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

MAX_WORKERS = 8
_PR_SET_PDEATHSIG = 1

_WORKER_SHARED: Any = None
"""In a worker: the ``shared`` value of the map it serves (never set in the parent)."""


def _start_worker(parent: int, shared: Any) -> None:
    """Worker initializer: keep ``shared``; be killed when the parent dies (exit now if it has)."""
    global _WORKER_SHARED
    _WORKER_SHARED = shared
    gc.enable()  # the parent may have paused its collector for a rebuild (serve); a worker collects its own
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def _call(function: Callable[[Any, list[Any]], list[Any]], chunk: list[Any]) -> list[Any]:
    return function(_WORKER_SHARED, chunk)


class LocalExecutor:
    """Chunks on ``fork`` workers of this process (in-process where ``fork`` is missing)."""

    name = "local"

    def open(self) -> LocalExecutor:
        """Nothing to start: each map starts and ends its own workers."""
        return self

    def workers(self) -> int:
        """How many chunks run at once (1: run in-process)."""
        if "fork" not in multiprocessing.get_all_start_methods():
            return 1
        return min(os.cpu_count() or 1, MAX_WORKERS)

    def run(self, function: Callable[[Any, list[Any]], list[Any]], shared: Any, chunks: list[list[Any]],
            freeze: bool) -> Iterator[tuple[int, list[Any]]]:
        """``(chunk index, result)`` as chunks finish. ``freeze`` moves the parent's objects
        out of the GC's sight first, so workers that only read them do not copy every page
        of memory they touch."""
        if freeze:
            gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=min(self.workers(), len(chunks)),
                                     mp_context=multiprocessing.get_context("fork"),
                                     initializer=_start_worker, initargs=(os.getpid(), shared)) as pool:
                futures: dict[Future[list[Any]], int] = {
                    pool.submit(_call, function, chunk): index for index, chunk in enumerate(chunks)}
                try:
                    for future in as_completed(futures):
                        yield futures[future], future.result()
                finally:
                    for future in futures:
                        future.cancel()
        finally:
            if freeze:
                gc.unfreeze()

    def close(self) -> None:
        """Nothing to release: each map starts and ends its own workers."""
