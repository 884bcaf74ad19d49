"""``launchbook serve``: build, serve on localhost, rebuild on change, reload open pages.

The built site is served as it is on disk; only HTML responses get one extra script
tag (never written to the output), which listens on a Server-Sent Events stream and
reloads the page after each successful rebuild. A failed build keeps the server and the
last good output: the error is printed and shown over every open page until a change
fixes it.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.core.errors import ConfigError, LaunchbookError

PREFIX = "/__launchbook/"
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


def make_handler(output: Path, state: BuildState,
                 stopping: threading.Event) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(output), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = urlsplit(self.path).path
            if path == PREFIX + "reload.js":
                self._send(200, "text/javascript; charset=utf-8", CLIENT_JS.encode())
            elif path == PREFIX + "status":
                self._send(200, "application/json", json.dumps(state.snapshot()).encode())
            elif path == PREFIX + "events":
                self._events()
            elif self._is_html(path):
                self._html(path)
            else:
                super().do_GET()

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _is_html(self, path: str) -> bool:
            return path.endswith("/") or path.endswith(".html")

        def _html(self, path: str) -> None:
            target = Path(self.translate_path(path))
            if target.is_dir():
                target = target / "index.html"
            if not target.resolve().is_relative_to(output.resolve()):
                self.send_error(404)
                return
            try:
                body = target.read_bytes()
                code = 200
            except OSError:
                code = 404
                try:
                    body = (output / "404.html").read_bytes()
                except OSError:
                    body = (b"<!doctype html><html lang=en><title>Not built yet</title><body><h1>Nothing built yet"
                            b"</h1><p>See the terminal for the build error.</p></body></html>")
            marker = body.rfind(b"</body>")
            body = body[:marker] + TAG + body[marker:] if marker >= 0 else body + TAG
            self._send(code, "text/html; charset=utf-8", body)

        def _events(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            last: dict[str, Any] | None = None
            try:
                while not stopping.is_set():
                    with state.changed:
                        current = state.snapshot()
                        if current == last:
                            state.changed.wait(timeout=15)
                            current = state.snapshot()
                    if current != last:
                        self.wfile.write(f"data: {json.dumps(current)}\n\n".encode())
                        last = current
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class LiveServer:
    """A built site on HTTP with rebuild-on-change; ``run()`` blocks until ``stop()``."""

    def __init__(self, project: Path, output: Path, build: Callable[[], Any], host: str = "127.0.0.1", port: int = 8000,
                 report: Callable[[str], None] = print) -> None:
        self.project, self.output, self.build, self.report = project, output, build, report
        self.state = BuildState()
        self.stopping = threading.Event()
        self.output.mkdir(parents=True, exist_ok=True)
        try:
            self.server = http.server.ThreadingHTTPServer((host, port),
                                                          make_handler(self.output, self.state, self.stopping))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def rebuild(self, *, announce_skip: bool = True) -> bool:
        started = time.perf_counter()
        try:
            result = self.build()
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
        return [path for path in (self.project / "content", self.project / "themes") if path.is_dir()]

    def changes(self) -> Iterator[set[tuple[Any, str]]]:
        import watchfiles

        def relevant(_change: Any, path: str) -> bool:
            name = Path(path).name
            return not (name.startswith(".") or name.endswith((".tmp", ".lock", "~")))

        yield from watchfiles.watch(*self.watched(), watch_filter=relevant, stop_event=self.stopping,
                                    debounce=200, step=50, rust_timeout=300, yield_on_timeout=True)

    def run(self, ready: Callable[[], None] | None = None) -> None:
        """Serve and watch until stopped; ``ready`` is called once the watcher is running."""
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        watching = False
        try:
            for changes in self.changes():
                if not changes:
                    if not watching:  # the watcher is up: catch edits made while it started
                        watching = True
                        self.rebuild(announce_skip=False)
                        if ready is not None:
                            ready()
                    continue
                names = sorted({Path(path).relative_to(self.project).as_posix() for _, path in changes
                                if Path(path).is_relative_to(self.project)})
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
