"""Work spread over every core: chunks of a list to ``fork`` workers, results in order.

Workers inherit the parent's memory (``fork``), so the function and what it reads need
not be pickled; only chunks and results cross. Small lists run in-process, where starting
workers would cost more than it saves. ``progress(label, done, total)`` is called as
chunks finish. Workers die with the parent (Linux ``PR_SET_PDEATHSIG``, elsewhere a
check of the parent's pid), so a killed build leaves no worker writing into its staging.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: a long operation's advance."""

MAX_WORKERS = 8
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Worker initializer: be killed when the parent dies (and exit now if it already did)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def map_chunks(function: Callable[[list[T]], list[R]], items: Sequence[T], *, parallel_from: int,
               progress: Progress | None = None, label: str = "", freeze: bool = False) -> list[R]:
    """``function`` applied to chunks of ``items``; the results concatenated in item order.

    ``freeze`` moves the parent's objects out of the GC's sight first, so workers that
    only read them do not copy every page of memory they touch.
    """

    total = len(items)
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if total < parallel_from or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        whole = function(list(items))
        if progress is not None and total:
            progress(label, total, total)
        return whole
    size = max(1, total // (workers * 4))
    chunks = [list(items[i : i + size]) for i in range(0, total, size)]
    if freeze:
        gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            results: list[R] = []
            done = 0
            for chunk, rows in zip(chunks, pool.map(function, chunks), strict=True):
                results.extend(rows)
                done += len(chunk)
                if progress is not None:
                    progress(label, done, total)
            return results
    finally:
        if freeze:
            gc.unfreeze()
