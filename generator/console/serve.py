"""The console as ``serve`` mounts it: who acts, and the application for its prefix."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator.console.people import load_people
from generator.console.session import Sessions, default_user, is_loopback
from generator.core.errors import ConfigError


def console_factory(project: Path, host: str, *, user: str | None, proxy_header: str = "",
                    key: str | None = None, auth: Path | None = None, allow_exec: bool = False,
                    exec_timeout: float = 300.0) -> Callable[[threading.Event], Any]:
    """A function making the console application once the server's stop event exists."""
    if auth is not None and proxy_header.strip():
        raise ConfigError("use either --auth or --trust-proxy-header, not both")
    if allow_exec and not is_loopback(host):
        raise ConfigError("--allow-exec runs commands on this machine: it is refused on a non-loopback address")
    sessions = Sessions(user=(user or "").strip() or default_user(), loopback=is_loopback(host),
                        proxy_header=proxy_header.strip(), people=load_people(auth) if auth is not None else None)

    def make(stopping: threading.Event) -> Any:
        from generator.console.app import build_app  # Starlette is loaded only when serve starts

        return build_app(project, sessions, key=key, stopping=stopping, allow_exec=allow_exec,
                         exec_timeout=exec_timeout)

    return make
