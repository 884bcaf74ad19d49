"""One edit under ``launchbook serve``: from the file write to the served page showing it.

The server is started on a free port (``-a 127.0.0.1:0``; it prints the URL it got) in its
own process group, and is ready once it prints ``Serving … watching for changes``. Each
edit appends a task line with a fresh token to one page; the clock runs from just before
the write until an HTTP GET of that page returns the token. Between the two, the server's
``/__launchbook/status`` (its build generation) is polled every 10 ms and the page is
fetched whenever the generation moves, so polling costs the server next to nothing;
without that endpoint the page itself is polled. The figure includes the watcher's
debounce (200 ms), as a user waiting for the page would see it. The server is stopped
with SIGINT (its Ctrl-C path), then SIGTERM, then SIGKILL of its process group.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.measure import bench_env, launchbook_command

POLL = 0.01
READY = re.compile(r"^Serving .* at (http://[^\s,]+)")
BUILT = re.compile(r"^built in ([0-9.]+) s")


class Server:
    """A ``launchbook serve`` child process and the lines it writes to stderr."""

    def __init__(self, project: Path, startup_timeout: float) -> None:
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.log: list[str] = []
        self.process = subprocess.Popen(
            launchbook_command("serve", "-C", str(project), "-a", "127.0.0.1:0"), env=bench_env(),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.started = time.perf_counter()
        self.url = ""
        while not self.url:
            _, line = self.next_line(startup_timeout - (time.perf_counter() - self.started), "start serving")
            if found := READY.match(line):
                self.url = found.group(1)
        self.ready_seconds = time.perf_counter() - self.started

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))

    def next_line(self, timeout: float, waiting_for: str) -> tuple[float, str]:
        """The next stderr line; RuntimeError if the server exits or says nothing for ``timeout`` s."""
        deadline = time.perf_counter() + max(timeout, 0.1)
        while True:
            try:
                at, line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited ({self.process.returncode}) before it could {waiting_for}: "
                                       + " | ".join(self.log[-10:])) from None
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"serve did not {waiting_for} within {timeout:.0f} s: "
                                       + " | ".join(self.log[-10:])) from None
                continue
            self.log.append(line)
            return at, line

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10) as answer:
            return bytes(answer.read())

    def generation(self) -> int | None:
        try:
            return int(json.loads(self.get("/__launchbook/status"))["generation"])
        except (urllib.error.HTTPError, ValueError, KeyError):
            return None

    def settle(self, quiet: float = 0.5, timeout: float = 300) -> list[float]:
        """Wait until the server has said nothing for ``quiet`` s; the build times it reported meanwhile."""
        builds: list[float] = []
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                _, line = self.lines.get(timeout=quiet)
            except queue.Empty:
                return builds
            self.log.append(line)
            if found := BUILT.match(line):
                builds.append(float(found.group(1)))
        raise RuntimeError("serve kept rebuilding: " + " | ".join(self.log[-10:]))

    def stop(self) -> None:
        """SIGINT (Ctrl-C), then SIGTERM, then SIGKILL to the server's process group."""
        for sent, grace in ((signal.SIGINT, 15), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sent)
            except ProcessLookupError:
                break
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                continue
        try:  # workers of a build in flight die with the server (PDEATHSIG); make sure of it
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(server: Server, path: str, token: bytes, timeout: float) -> None:
    """Return once GET ``path`` contains ``token`` (polling as the module says)."""
    started = time.perf_counter()
    seen = server.generation()
    while time.perf_counter() - started < timeout:
        current = server.generation() if seen is not None else None
        if (current is None or current != seen) and token in server.get(path):
            return
        seen = current
        if server.process.poll() is not None:
            raise RuntimeError("serve exited during an edit: " + " | ".join(server.log[-10:]))
        time.sleep(POLL)
    raise RuntimeError(f"the edit did not reach {path} within {timeout:.0f} s: " + " | ".join(server.log[-10:]))


def serve_edits(project: Path, page: Path, url_path: str, edits: int = 3, timeout: float = 300) -> dict[str, Any]:
    """Median seconds from writing ``page`` to GET ``url_path`` showing the edit, under ``serve``."""
    server = Server(project, startup_timeout=max(120.0, timeout))
    try:
        server.settle()
        try:
            server.get(url_path)
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"serve answers {exc.code} for {url_path}") from None
        seconds: list[float] = []
        rebuilds: list[float] = []
        for n in range(edits):
            token = f"serve-edit-{n}-{secrets.token_hex(6)}"
            started = time.perf_counter()
            with page.open("a", encoding="utf-8") as handle:
                handle.write(f"\n- [ ] Benchmark {token}\n")
            wait_for(server, url_path, token.encode(), timeout)
            seconds.append(time.perf_counter() - started)
            rebuilds.extend(server.settle())
        return {"edits": seconds, "server_rebuilds": rebuilds, "ready_seconds": server.ready_seconds,
                "url": url_path}
    finally:
        server.stop()
