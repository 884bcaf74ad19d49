"""``launchbook serve``: build, serve on localhost, rebuild on change, reload open pages.

The built site is served as it is on disk; only HTML responses get one extra script
tag (never written to the output), which listens on a Server-Sent Events stream and
reloads the page after each successful rebuild. A failed build keeps the server and the
last good output: the error is printed and shown over every open page until a change
fixes it.

It is a local preview server, hardened for the browser next to it: it answers only to
``localhost`` names, IP literals and the name given to ``--address`` (421 otherwise, so a
DNS-rebinding page cannot read it), serves only files whose real path is inside the output
folder (symlinks out, dot segments, NUL bytes, over-long names: 404), handles at most
MAX_HANDLERS requests and MAX_EVENT_STREAMS open pages at once (503 beyond, at once), and
drops a client that takes longer than REQUEST_TIMEOUT to send its request or to take an
answer. A client going away is never reported.
"""

from __future__ import annotations

import gc
import http.server
import io
import json
import mimetypes
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.core import watched as watch_log
from generator.core.errors import ConfigError, LaunchbookError
from generator.core.files import defer_cache_writes, flush_cache_writes, keep_in_memory
from generator.core.quietgc import quiet_gc
from generator.site.asgi import App, run_asgi
from generator.site.guard import host_allowed, locate, read_head, refuse
from generator.site.relevance import starts_rebuild
from generator.site.urls import rooted as rooted_links

REQUEST_TIMEOUT = 5.0
"""Seconds a client has to send a whole request head, and to take each write of the answer."""
MAX_HANDLERS = 64
"""Requests handled at once (one thread each); more get an immediate 503."""
MAX_EVENT_STREAMS = 32
"""Open live-reload streams (one per open page); more get 503."""
KEEPALIVE = 15.0
"""Seconds between keep-alive comments on an idle live-reload stream."""
PREFIX = "/__launchbook/"
CONSOLE = PREFIX + "console/"
"""Requests under this path go to the run console (when one is mounted)."""
MAX_BODY = 32 * 1024 * 1024
"""Largest request body the console accepts (an evidence upload and its form)."""
CLIENT_JS = """\
(function () {
  var box = null;
  function show(message) {
    if (!box) {
      box = document.createElement("div");
      box.id = "launchbook-build-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:99999;" +
        "margin:0;padding:1em 1.25em;background:#7f1d1d;color:#fff;font:14px/1.5 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "launchbook: the last build failed; still showing the previous one.\\n\\n" + message;
  }
  var seen = null;
  var source = new EventSource("/__launchbook/events");
  source.onopen = function () { document.documentElement.setAttribute("data-launchbook-live", ""); };
  source.onmessage = function (event) {
    var state = JSON.parse(event.data);
    if (state.error) { show(state.error); seen = state.generation; return; }
    if (seen !== null && state.generation !== seen) { location.reload(); return; }
    if (box) { box.remove(); box = null; }
    seen = state.generation;
  };
})();
"""
TAG = b'<script src="/__launchbook/reload.js"></script>'
CONSOLE_TAG = b'<script src="/__launchbook/console/console.js" defer></script>'
NOT_BUILT = (b"<!doctype html><html lang=en><title>Not built yet</title><body><h1>Nothing built yet</h1>"
             b"<p>See the terminal for the build error.</p></body></html>")


@dataclass
class BuildState:
    """The last build's outcome, shared by the watcher and every request thread."""

    generation: int = 0
    """Counts successful builds; a change tells open pages to reload."""
    error: str = ""
    """Message of the last build if it failed, else empty."""
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, error: str = "", *, new_output: bool = True) -> None:
        with self.changed:
            if not error and new_output:
                self.generation += 1
            self.error = error
            self.changed.notify_all()

    def snapshot(self) -> dict[str, Any]:
        return {"generation": self.generation, "error": self.error}


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` -> (host, port); default host 127.0.0.1."""
    host, _, port = address.rpartition(":") if ":" in address else ("", "", address)
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"invalid address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:8000")
    return host, int(port)


def make_handler(output: Path, state: BuildState, stopping: threading.Event,
                 bound: str = "127.0.0.1", console: App | None = None) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server: LiveHTTPServer
        server_version = "launchbook"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            """One request per connection, its head read within REQUEST_TIMEOUT (slow clients are dropped)."""
            self.close_connection = True
            self.rfile.close()  # the head is read from the socket directly, against a deadline
            try:
                head = read_head(self.connection, time.monotonic() + REQUEST_TIMEOUT)
            except OSError:  # timed out, reset or closed before a whole request arrived
                return
            self.connection.settimeout(REQUEST_TIMEOUT)  # also bounds each write to a client that stops reading
            self.rfile = io.BufferedReader(io.BytesIO(head or b""))
            if head is None:
                self.requestline, self.request_version, self.command = "", "", ""
                self.send_error(431, "Request head too large")
                return
            self.handle_one_request()

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

        def do_POST(self) -> None:
            if not host_allowed(self.headers.get("Host"), bound):
                self._refuse_host(True)
            elif console is not None and urlsplit(self.path).path.startswith(CONSOLE):
                self._console()
            else:
                self._send(405, "text/plain; charset=utf-8", b"the site is read-only\n", True, Allow="GET, HEAD")

        def _refuse_host(self, body: bool) -> None:
            self._send(421, "text/plain; charset=utf-8", b"launchbook serve answers only to localhost names "
                       b"and the address it listens on (Host header refused)\n", body)

        def _console(self) -> None:
            assert console is not None
            address = self.connection.getsockname()
            run_asgi(console, method=self.command, target=self.path, headers=list(self.headers.items()),
                     connection=self.connection, client=self.client_address[:2], server=(address[0], address[1]),
                     write=self.wfile.write, max_body=MAX_BODY, buffered=self.rfile.read())

        def _respond(self, body: bool) -> None:
            if not host_allowed(self.headers.get("Host"), bound):
                self._refuse_host(body)
                return
            path = urlsplit(self.path).path
            if console is not None and path.startswith(CONSOLE) and body:
                self._console()
            elif path == PREFIX + "reload.js":
                self._send(200, "text/javascript; charset=utf-8", CLIENT_JS.encode(), body)
            elif path == PREFIX + "status":
                self._send(200, "application/json", json.dumps(state.snapshot()).encode(), body)
            elif path == PREFIX + "events":
                self._events(body)
            else:
                self._file(path, body)

        def _send(self, code: int, kind: str, content: bytes, body: bool = True, **headers: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            if body:
                self.wfile.write(content)

        def _file(self, path: str, body: bool) -> None:
            found = locate(output, path)
            if isinstance(found, str):
                self._send(301, "text/plain; charset=utf-8", b"", body, Location=found)
            elif found is not None and found.suffix == ".html":
                self._page(200, found, body)
            elif found is None and path.endswith(("/", ".html")):
                self._page(404, locate(output, "/404.html"), body, rooted=True)
            elif found is None or not self._stream_file(found, body):
                self.send_error(404)

        def _page(self, code: int, found: Path | str | None, body: bool, rooted: bool = False) -> None:
            """An HTML page with the reload script added (the site's 404 page when there is none);
            ``rooted``: the site's 404 page, answered at the requested depth, its links made to start
            at the site's root."""
            try:
                content = found.read_bytes() if isinstance(found, Path) else NOT_BUILT
            except OSError:
                code, content = 404, NOT_BUILT
            if rooted and content is not NOT_BUILT:
                content = rooted_links(content.decode("utf-8", "replace"), "/").encode("utf-8")
            marker = content.rfind(b"</body>")
            tags = (CONSOLE_TAG if console is not None else b"") + TAG
            content = content[:marker] + tags + content[marker:] if marker >= 0 else content + tags
            self._send(code, "text/html; charset=utf-8", content, body)

        def _stream_file(self, found: Path, body: bool) -> bool:
            """Any other file, streamed (each write bounded by REQUEST_TIMEOUT); False if it cannot be read."""
            try:
                source = found.open("rb")
            except OSError:
                return False
            with source:
                self.send_response(200)
                self.send_header("Content-Type", mimetypes.guess_type(found.name)[0] or "application/octet-stream")
                self.send_header("Content-Length", str(os.fstat(source.fileno()).st_size))
                self.end_headers()
                if body:
                    shutil.copyfileobj(source, self.wfile)
            return True

        def _events(self, body: bool) -> None:
            if not self.server.streams.acquire(blocking=False):
                self._send(503, "text/plain; charset=utf-8", b"too many live-reload connections\n", body,
                           Retry_After="5")
                return
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if body:
                    self._stream()
            finally:
                self.server.streams.release()

        def _stream(self) -> None:
            last: dict[str, Any] | None = None
            try:
                while not stopping.is_set():
                    with state.changed:
                        current = state.snapshot()
                        if current == last:
                            state.changed.wait(timeout=KEEPALIVE)
                            current = state.snapshot()
                    if current != last:
                        self.wfile.write(f"data: {json.dumps(current)}\n\n".encode())
                        last = current
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except OSError:  # the page went away, or stopped reading for REQUEST_TIMEOUT
                pass

    return Handler


class LiveHTTPServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server with at most MAX_HANDLERS threads; over the cap a request gets a quick 503."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.slots = threading.BoundedSemaphore(MAX_HANDLERS)
        self.streams = threading.BoundedSemaphore(MAX_EVENT_STREAMS)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away is not news; anything else is one line, never a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        print(f"serve: request from {client_address[0]} failed: {type(error).__name__}: {error}", file=sys.stderr)


class LiveServer:
    """A built site on HTTP with rebuild-on-change; ``run()`` blocks until ``stop()``."""

    def __init__(self, project: Path, output: Path, build: Callable[[], Any], host: str = "127.0.0.1", port: int = 8000,
                 report: Callable[[str], None] = print,
                 console: Callable[[threading.Event], App] | None = None,
                 warm: Callable[[], Any] | None = None) -> None:
        """``build`` rebuilds (skipping an up-to-date output); ``warm``, when given, is the build run
        once the watcher is up: it goes through every stage even when nothing changed, so the
        first edit finds the site's state in memory."""
        self.project, self.output, self.build, self.report = project, output, build, report
        self.warm = warm
        keep_in_memory()  # every rebuild after the first takes unchanged summaries and digests from memory
        defer_cache_writes()  # cache files for the next process are written after the rebuilt pages are served
        self.state = BuildState()
        self.stopping = threading.Event()
        self.output.mkdir(parents=True, exist_ok=True)
        try:
            self.server = LiveHTTPServer((host, port), make_handler(
                self.output, self.state, self.stopping, host, console(self.stopping) if console else None))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    def rebuild(self, *, announce_skip: bool = True, build: Callable[[], Any] | None = None) -> bool:
        try:
            return self._rebuild(announce_skip, build or self.build)
        finally:
            flush_cache_writes()  # the new pages are served by now
            gc.collect()  # paused while building: with the kept state each full collection costs ~0.1 s

    def _rebuild(self, announce_skip: bool, build: Callable[[], Any]) -> bool:
        started = time.perf_counter()
        try:
            with quiet_gc():
                result = build()
        except LaunchbookError as exc:
            self.state.publish(exc.format_message())
            self.report(f"build failed: {exc.format_message()}")
            return False
        except Exception as exc:  # noqa: BLE001 - a template bug must not stop the server
            self.state.publish(f"{type(exc).__name__}: {exc}")
            self.report(f"build failed: {type(exc).__name__}: {exc}")
            return False
        skipped = bool(getattr(result, "skipped", False))
        self.state.publish(new_output=not skipped)
        if skipped and not announce_skip:
            return True
        warnings = len(getattr(result, "warnings", ()))
        self.report(f"built in {time.perf_counter() - started:.2f} s"
                    + (f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""))
        return True

    def watched(self) -> list[Path]:
        """The folders whose changes start a rebuild."""
        return [path.resolve() for path in (self.project / "content", self.project / "themes") if path.is_dir()]

    def changes(self) -> Iterator[set[tuple[Any, str]]]:
        """The watcher's batches of changes, every one of them (editor temp files included):
        they all go to :mod:`generator.core.watched`, which lets a rebuild skip walking
        trees where files were only modified."""
        import watchfiles

        roots = self.watched()
        output = self.output.resolve()
        # The output is watched too, for the log alone: a build trusts the files it published there
        # and the watcher saw nothing happen to (no lstat of each of 10,000 kept pages).
        watch_log.watching([*roots, output])
        try:
            for batch in watchfiles.watch(*roots, output, watch_filter=None, stop_event=self.stopping,
                                          debounce=200, step=50, rust_timeout=300, yield_on_timeout=True):
                watch_log.record((path, change == watchfiles.Change.modified and os.path.isfile(path))
                               for change, path in batch)
                yield batch
        finally:
            watch_log.stop_watching()

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Serve and watch until stopped; ``ready`` is called once the watcher is running."""
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        watching = False
        try:
            output, project = self.output.resolve(), self.project.resolve()
            for batch in self.changes():
                changes = {(change, path) for change, path in batch
                           if not Path(path).is_relative_to(output) and starts_rebuild(project, Path(path))}
                if not batch:
                    if not watching:  # the watcher is up: catch edits made while it started
                        watching = True
                        self.rebuild(announce_skip=False, build=self.warm)
                        if ready is not None:
                            ready()
                    continue
                if not changes:
                    continue
                names = sorted({Path(path).relative_to(project).as_posix() for _, path in changes
                                if Path(path).is_relative_to(project)})
                self.report(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
                self.rebuild()
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        with self.state.changed:
            self.state.changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
