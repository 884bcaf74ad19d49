"""What ``launchbook serve`` refuses before it touches the disk: foreign Host names, paths that
leave the output folder, slow or oversized request heads.

Every function here is pure or works on one socket; the server (``serve``) decides the
limits. A refused path is ``None`` (the caller answers 404: no such page), never an
exception, so a crafted request cannot reach a traceback.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from pathlib import Path
from urllib.parse import quote, unquote

MAX_PATH = 4096
"""Longest URL path (bytes, still percent-encoded) worth looking up; longer cannot name a file."""
MAX_NAME = 255
"""Longest file name a file system allows (NAME_MAX); a longer segment cannot exist."""
MAX_HEAD = 65536
"""Largest request head (request line and headers) read from a client."""
_BUSY_TEXT = b"launchbook serve is busy; retry.\n"
BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
        + str(len(_BUSY_TEXT)).encode() + b"\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + _BUSY_TEXT)


def host_allowed(header: str | None, bound: str) -> bool:
    """Whether a ``Host`` header names this server: a localhost name, an IP address or the bound name.

    A DNS-rebinding page reaches the server under its own domain name, so names other than
    ``localhost``, ``*.localhost`` and the one given to ``--address`` are refused. IP literals
    cannot be rebound and are allowed (that is how ``--address 0.0.0.0:8000`` is reached from
    another machine). A request without ``Host`` (HTTP/1.0) is not from a browser and passes.
    """
    if header is None:
        return True
    host = header.strip().lower()
    if host.startswith("["):
        name, closed, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
        if not closed or (rest and not rest.startswith(":")):
            return False
    else:
        name, _, port = host.partition(":")
    if port and not port.isdigit():
        return False
    name = name.rstrip(".")
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost") or name == bound.strip("[]").lower().rstrip("."):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def locate(root: Path, url_path: str) -> Path | str | None:
    """The file under ``root`` a URL path names; a ``str`` is a redirect (folder without ``/``).

    Refused (``None``): NUL bytes, backslashes, ``.``/``..`` segments (also percent-encoded),
    undecodable bytes, over-long paths or names, and anything whose real path (symlinks
    resolved) is outside ``root``. A folder serves its ``index.html``; there are no listings.
    """
    if len(url_path) > MAX_PATH:
        return None
    try:
        text = unquote(url_path, errors="strict")
    except UnicodeDecodeError:
        return None
    parts = [part for part in text.split("/") if part]
    if "\0" in text or "\\" in text or any(part in (".", "..") or len(part.encode()) > MAX_NAME for part in parts):
        return None
    try:
        base = root.resolve(strict=True)
        found = base.joinpath(*parts).resolve(strict=True)
        if not found.is_relative_to(base):
            return None
        if found.is_dir():
            if not text.endswith("/"):
                return "/" + "".join(quote(part) + "/" for part in parts)
            found = (found / "index.html").resolve(strict=True)
        if not found.is_relative_to(base) or not found.is_file():
            return None
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a name the OS refuses
        return None
    return found


def read_head(connection: socket.socket, deadline: float, limit: int = MAX_HEAD) -> bytes | None:
    """Read a request head (up to the blank line) before ``deadline``; ``None`` when over ``limit``.

    The deadline bounds the whole head, not each read, so a client sending one byte a second
    (slowloris) is dropped as surely as one that sends nothing: ``TimeoutError`` either way.
    """
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        if len(data) > limit:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request head not received in time")
        connection.settimeout(remaining)
        chunk = connection.recv(8192)
        if not chunk:
            raise ConnectionAbortedError("client closed before sending a whole request")
        data += chunk
    return data


def refuse(connection: socket.socket) -> None:
    """Answer 503 on a connection the server has no thread for, without waiting on the client."""
    try:
        connection.settimeout(0.05)
        try:
            connection.recv(MAX_HEAD)  # take what the client sent, so closing does not reset the answer
        except OSError:
            pass
        connection.sendall(BUSY)
    except OSError:
        pass
