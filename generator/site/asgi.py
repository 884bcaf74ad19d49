"""One HTTP request of ``serve``'s hardened front handed to an ASGI application (the run console).

``serve`` keeps its own front for every connection: the Host check, the request-head
deadline, the handler and stream caps and the write timeouts stay in one place (see
serve.py). Requests under a mounted prefix are then run, on the handler's own thread and
event loop, by a Starlette application, which does the routing, forms, uploads and
streaming. The body is read from the socket only as the application asks for it, with a
size cap, so an upload is streamed to disk by the application, never held whole here.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]

CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The request announced a body larger than the cap."""


def run_asgi(app: App, *, method: str, target: str, headers: list[tuple[str, str]], connection: socket.socket,
             client: tuple[str, int], server: tuple[str, int], write: Callable[[bytes], object],
             max_body: int, buffered: bytes = b"") -> None:
    """Run ``app`` for one request whose head was read already; its body is still on ``connection``.

    ``buffered``: body bytes that arrived with the head. ``write`` sends bytes to the client
    (raising OSError when it has gone away or stopped reading). A body larger than
    ``max_body``, or one without Content-Length, gets 413 / 411 before the application runs.
    """
    length_text = next((v for k, v in headers if k.lower() == "content-length"), None)
    chunked = any(k.lower() == "transfer-encoding" for k, _ in headers)
    if chunked or (length_text is None and method in ("POST", "PUT", "PATCH")):
        _plain(write, 411, b"a request body needs a Content-Length\n")
        return
    try:
        length = int(length_text or "0")
    except ValueError:
        _plain(write, 400, b"bad Content-Length\n")
        return
    if length < 0:
        _plain(write, 400, b"bad Content-Length\n")
        return
    if length > max_body:
        _plain(write, 413, f"request body over {max_body} bytes\n".encode())
        return
    parts = urlsplit(target)
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": unquote(parts.path), "raw_path": parts.path.encode("latin-1"),
        "query_string": parts.query.encode("latin-1"), "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": client, "server": server,
    }
    left = length
    pending = buffered[:length]
    started = False
    finished = False

    async def receive() -> Message:
        nonlocal left, pending
        if pending:
            data, pending = pending, b""
            left -= len(data)
            return {"type": "http.request", "body": data, "more_body": left > 0}
        if left <= 0:
            if finished:
                return {"type": "http.disconnect"}
            await asyncio.sleep(3600)  # a streaming response is running; nothing more will come
            return {"type": "http.disconnect"}
        data = connection.recv(min(CHUNK, left))
        if not data:
            left = 0
            return {"type": "http.disconnect"}
        left -= len(data)
        return {"type": "http.request", "body": data, "more_body": left > 0}

    async def send(message: Message) -> None:
        nonlocal started, finished
        if message["type"] == "http.response.start":
            started = True
            lines = [f"HTTP/1.1 {message['status']} {_reason(message['status'])}".encode()]
            names = set()
            for name, value in message.get("headers", []):
                names.add(bytes(name).lower())
                lines.append(bytes(name) + b": " + bytes(value))
            if b"cache-control" not in names:
                lines.append(b"Cache-Control: no-store")
            lines.append(b"Connection: close")
            write(b"\r\n".join(lines) + b"\r\n\r\n")
        elif message["type"] == "http.response.body":
            body = bytes(message.get("body", b""))
            if body:
                write(body)
            if not message.get("more_body", False):
                finished = True

    try:
        asyncio.run(app(scope, receive, send))
    except OSError:
        return  # the client went away
    if not started:
        _plain(write, 500, b"the console did not answer\n")


def _plain(write: Callable[[bytes], object], status: int, text: bytes) -> None:
    head = (f"HTTP/1.1 {status} {_reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(text)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n").encode()
    try:
        write(head + text)
    except OSError:
        pass


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"
