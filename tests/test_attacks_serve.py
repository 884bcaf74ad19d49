"""Attacks on ``launchbook serve`` and on a mistyped ``-C PROJECT``.

The server is attacked over loopback with raw sockets: paths out of the output folder,
foreign Host names, NUL bytes, over-long paths, idle and slow clients, more clients than
it has threads for. Every loop is bounded and every socket has a timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from generator.site import serve
from generator.site.guard import host_allowed, locate
from tests.test_serve import Served, wait_for

RunCli = Callable[..., Result]
SECRET = "top-secret-outside-output"


def exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def get(port: int, path: str | bytes, host: str | None = "127.0.0.1", extra: bytes = b"") -> tuple[int, bytes]:
    target = path.encode() if isinstance(path, str) else path
    head = b"GET " + target + b" HTTP/1.1\r\n" + (f"Host: {host}\r\n".encode() if host is not None else b"")
    answer = exchange(port, head + extra + b"Connection: close\r\n\r\n")
    return int(answer.split(b" ", 2)[1]), answer


class Watched(Served):
    """``Served`` whose terminal can be read when the server printed nothing new."""

    def terminal(self) -> str:
        assert self.process.stderr is not None
        try:
            chunk = self.process.stderr.read()
        except TypeError:  # a non-blocking text stream with nothing to read
            chunk = None
        if chunk:
            self.log.append(chunk)
        return "".join(self.log)


def status_line(port: int, path: str) -> int:
    """Only the status of an answer (a live-reload stream never ends by itself)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        line = b""
        while b"\r\n" not in line and len(line) < 200 and (chunk := sock.recv(1)):
            line += chunk
        return int(line.split(b" ", 2)[1])


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


# ---------------------------------------------------------------- the real server, attacked from outside


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("attacked")
    made = CliRunner().invoke(cli, ["new", str(root / "site")], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    (root / "secret.txt").write_text(SECRET)
    (root / "private").mkdir()
    (root / "private/key.txt").write_text(SECRET)
    server = Watched(root / "site")
    output = root / "site/output"
    (output / "passwd").symlink_to("/etc/passwd")
    (output / "outside.txt").symlink_to(root / "secret.txt")
    (output / "private").symlink_to(root / "private")
    (output / "inside.html").symlink_to(output / "checklists/release.html")  # stays inside: served
    yield server
    server.stop()


def test_symlinks_out_of_the_output_folder_are_404(attacked: Served) -> None:
    port = port_of(attacked.url)
    for path in ("/passwd", "/outside.txt", "/private/key.txt", "/private/", "/private"):
        status, answer = get(port, path)
        assert status == 404, (path, answer[:200])
        assert SECRET.encode() not in answer and b"root:" not in answer
    status, answer = get(port, "/inside.html")
    assert status == 200 and b"/__launchbook/reload.js" in answer


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/../../secret.txt", "/checklists/../../secret.txt", "/%2e%2e/secret.txt",
    "/%2E%2E/%2e%2e/etc/passwd", "/..%2fsecret.txt", "/..%2F..%2Fetc%2Fpasswd", "/..\\secret.txt",
    "/..%5csecret.txt", "/%5c..%5c..%5cetc%5cpasswd", "//etc/passwd", "/%2fetc%2fpasswd", "/./../secret.txt",
    "/private/%2e%2e/%2e%2e/secret.txt", "http://127.0.0.1/../secret.txt",
    "/checklists/../index.html", "/checklists/%2e%2e/index.html",  # dot segments are refused even when inside
])
def test_path_traversal_is_404(attacked: Served, path: str) -> None:
    status, answer = get(port_of(attacked.url), path)
    assert status in (400, 404), answer[:200]
    assert SECRET.encode() not in answer and b"root:" not in answer


@pytest.mark.parametrize("path", [
    b"/%00", b"/index.html%00.txt", b"/checklists/%00/x.html", b"/a\x00b", b"/" + b"a" * 300,
    b"/" + b"a" * 300 + b".html", b"/" + b"ab/" * 3500, b"/" + b"a" * 10_000, b"/%ff%fe.html", b"/" + b"%41" * 3000,
])
def test_nul_bytes_and_over_long_paths_are_refused_without_a_traceback(attacked: Served, path: bytes) -> None:
    status, _ = get(port_of(attacked.url), path)
    assert status in (400, 404, 414)
    assert get(port_of(attacked.url), "/")[0] == 200  # still serving
    assert "Traceback" not in attacked.terminal()


def test_a_request_head_over_the_limit_is_refused(attacked: Served) -> None:
    status, _ = get(port_of(attacked.url), "/", extra=b"X-Fill: " + b"x" * 70_000 + b"\r\n")
    assert status in (400, 431)
    assert "Traceback" not in attacked.terminal()


@pytest.mark.parametrize("host, allowed", [
    ("localhost", True), ("localhost:{port}", True), ("LOCALHOST.:{port}", True), ("127.0.0.1:{port}", True),
    ("[::1]:{port}", True), ("docs.localhost:{port}", True), ("192.168.1.20:{port}", True), (None, True),
    ("evil.example", False), ("evil.example:{port}", False), ("127.0.0.1.evil.example", False),
    ("localhost.evil.example:{port}", False), ("", False), ("[::1", False), ("localhost:http", False),
    ("[::1]x", False),
])
def test_only_localhost_names_and_ip_literals_pass_the_host_check(attacked: Served, host: str | None,
                                                                  allowed: bool) -> None:
    port = port_of(attacked.url)
    for path in ("/", "/__launchbook/status", "/checklists/release.html"):
        status, _ = get(port, path, host.format(port=port) if host is not None else None)
        assert status == (200 if allowed else 421), (host, path)


def test_clients_that_vanish_mid_answer_print_no_traceback(attacked: Served) -> None:
    port = port_of(attacked.url)
    before = attacked.status()["generation"]
    dropped = []
    for path in ("/__launchbook/events", "/__launchbook/events", "/checklists/release.html", "/assets/"):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        sock.recv(10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = reset
        dropped.append(sock)
    for sock in dropped:
        sock.close()
    checklist = attacked.project / "content/checklists/release.md"
    checklist.write_text(checklist.read_text() + "\n")  # a rebuild makes the server write to the dead streams
    wait_for(lambda: attacked.status()["generation"] != before)
    time.sleep(0.5)
    assert attacked.process.poll() is None
    assert "Traceback" not in attacked.terminal()


# ---------------------------------------------------------------- limits, on an in-process server with small caps


@pytest.fixture
def small_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[serve.LiveServer]:
    monkeypatch.setattr(serve, "MAX_HANDLERS", 4)
    monkeypatch.setattr(serve, "MAX_EVENT_STREAMS", 2)
    monkeypatch.setattr(serve, "REQUEST_TIMEOUT", 0.5)
    monkeypatch.setattr(serve, "KEEPALIVE", 0.2)
    output = tmp_path / "output"
    output.mkdir()
    (output / "index.html").write_text("<!doctype html><title>home</title><body><p>home</p></body>")
    (output / "big.bin").write_bytes(b"\0" * 16_000_000)
    server = serve.LiveServer(tmp_path, output, lambda: None, "127.0.0.1", 0, report=lambda _message: None)
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.stop()
    thread.join(timeout=5)


def test_live_reload_streams_are_capped(small_server: serve.LiveServer) -> None:
    port = small_server.server.server_address[1]
    streams = []
    try:
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /__launchbook/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.0 200")
            streams.append(sock)
        started = time.monotonic()
        status = status_line(port, "/__launchbook/events")
        assert status == 503 and time.monotonic() - started < 2
        assert get(port, "/", "localhost")[0] == 200  # pages are still served
        streams.pop().close()
        wait_for(lambda: status_line(port, "/__launchbook/events") == 200, seconds=5)
    finally:
        for sock in streams:
            sock.close()


def test_handler_threads_are_capped_and_over_the_cap_answer_503_at_once(small_server: serve.LiveServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "REQUEST_TIMEOUT", 30.0)  # idle clients hold their thread for the whole test
    port = small_server.server.server_address[1]
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
    try:
        time.sleep(0.5)
        assert threading.active_count() - before <= 4
        started = time.monotonic()
        status, answer = get(port, "/", "localhost")
        assert status == 503 and b"Retry-After" in answer
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()
    wait_for(lambda: get(port, "/", "localhost")[0] == 200, seconds=5)


def test_clients_that_stop_reading_are_dropped(small_server: serve.LiveServer) -> None:
    port = small_server.server.server_address[1]
    stuck = []
    try:
        for _ in range(4):  # every handler thread blocked writing 16 MB nobody reads
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            stuck.append(sock)
        time.sleep(0.2)
        assert get(port, "/", "localhost")[0] == 503
        wait_for(lambda: get(port, "/", "localhost")[0] == 200, seconds=5)  # after REQUEST_TIMEOUT, not never
    finally:
        for sock in stuck:
            sock.close()


def test_idle_and_slowloris_clients_are_dropped_after_the_timeout(small_server: serve.LiveServer) -> None:
    port = small_server.server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        started = time.monotonic()
        assert idle.recv(100) == b""  # closed by the server, nothing sent
        assert time.monotonic() - started < 2.5

    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        started = time.monotonic()
        dropped = False
        for byte in b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100:  # one byte per 50 ms
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                dropped = True
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3:
                break
        if not dropped:
            slow.settimeout(1)
            try:
                dropped = slow.recv(100) == b""
            except OSError:
                dropped = True
        assert dropped and time.monotonic() - started < 3


def test_guard_functions(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/index.html").write_text("x")
    assert locate(tmp_path, "/a") == "/a/"
    assert locate(tmp_path, "/a/") == (tmp_path / "a/index.html").resolve()
    assert locate(tmp_path, "/a/%2e%2e/a/") is None
    assert host_allowed("myhost.lan:8000", "myhost.lan") and not host_allowed("other.lan:8000", "myhost.lan")


# ---------------------------------------------------------------- -C PROJECT: a mistyped one creates nothing


def commands_with_project(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                             click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands_with_project(command, (*prefix, name))
        elif any("-C" in param.opts for param in command.params):
            yield (*prefix, name), command


def filled(command: click.Command, dummy: Path) -> list[str]:
    """Arguments and required options with values Click accepts, so only -C can be wrong."""
    args: list[str] = []
    for param in command.params:
        if not param.required or "-C" in param.opts:
            continue
        value = param.type.choices[0] if isinstance(param.type, click.Choice) else \
            str(dummy) if isinstance(param.type, click.Path) else "x"
        args += [value] if isinstance(param, click.Argument) else [param.opts[0], str(value)]
    return args


COMMANDS = list(commands_with_project(cli))


def fail_if_served(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("serve started on a folder that is not a project")


def test_every_project_command_is_enumerated() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"build", "serve", "lint", "verify", "checkpoint", "bundle", "report", "run start", "run list"} <= names


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
@pytest.mark.parametrize("kind", ["missing", "not-a-project"])
def test_a_mistyped_project_is_refused_and_nothing_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              path: tuple[str, ...], command: click.Command,
                                                              kind: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    dummy = work / "dummy.xml"
    dummy.write_text("<testsuite/>")
    project = tmp_path / "missing" / "deeper" if kind == "missing" else tmp_path / "plain"
    if kind == "not-a-project":
        project.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(serve.LiveServer, "__init__", fail_if_served)
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, [*path, *filled(command, dummy), "-C", str(project)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith(f"Error: {project}: no launchbook project here ("), result.stderr
    assert "Traceback" not in result.output
    assert sorted(tmp_path.rglob("*")) == before  # not the folder, not a cache, not an output


def test_the_default_project_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["checkpoint"])
    assert result.exit_code == 1 and result.stderr.startswith("Error: .: no launchbook project here")
    assert list(tmp_path.iterdir()) == []


def test_a_file_argument_needs_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.md").write_text("# Checks\n\n- [ ] One thing {#one}\n")
    linted = CliRunner().invoke(cli, ["lint", "list.md"])
    assert "no launchbook project" not in linted.output and linted.exit_code == 0, linted.output
    (tmp_path / "report.pdf").write_bytes(b"not a pdf")
    verified = CliRunner().invoke(cli, ["verify", "report.pdf"])
    assert "no launchbook project" not in verified.output and "not a readable PDF" in verified.output
    assert CliRunner().invoke(cli, ["lint", "list.md", "-C", "nowhere"]).exit_code == 1  # but a given -C must exist
