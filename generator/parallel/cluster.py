"""A Dask (``distributed``) cluster as the executor: ``dask://HOST:PORT`` or ``dask://local``.

``shared`` is pickled once and broadcast to every worker (``Client.scatter``); each chunk
is a task that gets it by reference, so it crosses the network once per worker, not once
per chunk. Functions are pickled by name: the workers need the same launchbook installed.
They read sources and write pages by path, so the project, its cache folder and the output
folder must be on a filesystem every worker sees at the same path.

``distributed`` is an optional extra (``pip install 'launchbook[dask]'``) and is imported
only here, only when a Dask executor is opened.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from generator.core.errors import ExecutorError

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler to answer, and for a worker to join one that has none."""
LOCAL_WORKERS = 8
INSTALL_HINT = "pip install 'launchbook[dask]'"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(f"the dask executor needs the optional Dask extra: {INSTALL_HINT}") from None
    return distributed


def _run_chunk(chunk: list[Any], function: Callable[[Any, list[Any]], list[Any]], shared: Any) -> list[Any]:
    """The task: one chunk on a worker (``shared`` arrives resolved from its scattered copy)."""
    return function(shared, chunk)


def _connect(distributed: Any, address: str, name: str) -> Any:
    """A client of the scheduler at ``address``, within :data:`CONNECT_TIMEOUT`.

    ``Client``'s own timeout bounds the TCP connect but not the handshake after it: a server
    that accepts and never answers as a scheduler (or answers as something else) would hang
    it for good. So it connects in a thread that is given up on (and left to die with the
    process) after the timeout.
    """
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = distributed.Client(f"tcp://{address}", timeout=CONNECT_TIMEOUT,
                                                   set_as_default=False)
        except Exception as exc:  # any failure to connect is reported the same way
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name="launchbook-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT + 2)
    if "client" in outcome:
        return outcome["client"]
    reason = outcome.get("error") or f"no answer as a Dask scheduler within {CONNECT_TIMEOUT:g} s"
    raise ExecutorError(f"cannot reach the Dask scheduler at {name}: {reason}")


class DaskExecutor:
    """Chunks as tasks on a Dask cluster; ``address`` is ``HOST:PORT`` or ``local``."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.name = f"dask://{address}"
        self._client: Any = None
        self._cluster: Any = None

    def open(self) -> DaskExecutor:
        """Connect to the scheduler (or start a local cluster); an unreachable one is an error."""
        distributed = _distributed()
        if self.address == "local":
            workers = min(os.cpu_count() or 1, LOCAL_WORKERS)
            self._cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                     dashboard_address=None)
            self._client = distributed.Client(self._cluster, set_as_default=False)
            return self
        self._client = _connect(distributed, self.address, self.name)
        try:
            self._client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            self.close()
            raise ExecutorError(f"the Dask scheduler at {self.name} has no workers "
                                f"(waited {CONNECT_TIMEOUT:g} s)") from None
        return self

    def workers(self) -> int:
        """Worker threads in the cluster now (each takes one chunk at a time)."""
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def run(self, function: Callable[[Any, list[Any]], list[Any]], shared: Any, chunks: list[list[Any]],
            freeze: bool) -> Iterator[tuple[int, list[Any]]]:
        """``(chunk index, result)`` as tasks finish (``freeze`` is for ``fork`` and ignored)."""
        distributed = _distributed()
        client = self._client
        [scattered] = client.scatter([shared], broadcast=True, hash=False)
        futures = client.map(_run_chunk, chunks, function=function, shared=scattered, pure=False)
        index = {future.key: number for number, future in enumerate(futures)}
        lost = (distributed.comm.CommClosedError, distributed.client.FuturesCancelledError,
                distributed.scheduler.KilledWorker, OSError, TimeoutError)
        try:
            for future, rows in distributed.as_completed(futures, loop=client.loop, with_results=True):
                yield index[future.key], rows
        except lost as exc:
            raise ExecutorError(f"the Dask cluster at {self.name} failed: {type(exc).__name__}: {exc}") from None
        finally:
            client.cancel([*futures, scattered])

    def close(self) -> None:
        """Disconnect (and stop the cluster this executor started)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
