"""Who is acting in the run console, and whether a write is really theirs.

* **Identity**: ``serve --user NAME`` (default ``git config user.name``, then the OS user) on
  a loopback address; for a team, ``--auth FILE`` (each person signs in with their own
  token; see people.py) or, behind an authenticating reverse proxy, the name in the header
  named by ``--trust-proxy-header`` (off unless named). Bound to any other address without
  either, the console is read-only: never an anonymous write.
* **CSRF**: every browser gets a random session cookie (HttpOnly, SameSite=Strict); every
  write must carry the token derived from it (HMAC with a secret that lives only in the
  server's memory) and, when the browser sends one, an ``Origin`` equal to the server's own.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import ipaddress
import secrets
import subprocess
from dataclasses import dataclass, field

COOKIE = "launchbook_console"
"""The session cookie's name."""
TOKEN_FIELD = "csrf"
"""Form field (and ``X-CSRF-Token`` header) carrying the token."""
MAX_NAME = 200
"""Longest name accepted from a proxy header."""


def default_user() -> str:
    """``git config user.name``, else the OS user name."""
    try:
        done = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False)
        name = done.stdout.strip()
        if done.returncode == 0 and name:
            return name
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Sessions:
    """Identity and CSRF checks for one console server."""

    user: str
    """Who acts when no proxy header names someone."""
    loopback: bool
    """The server listens on a loopback address only."""
    proxy_header: str = ""
    """Header an authenticating reverse proxy sets to the person's name ("" = off)."""
    people: dict[str, str] | None = None
    """Name -> token hash when people sign in (``--auth``); None = no sign-in."""
    signed_in: dict[str, str] = field(default_factory=dict)
    """Session -> the person who signed in with it (memory only: a restart signs everyone out)."""
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Key of the CSRF tokens; never leaves memory."""

    def new_session(self) -> str:
        return secrets.token_urlsafe(32)

    def token(self, session: str) -> str:
        return hmac.new(self.secret, session.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, session: str | None, token: str | None) -> bool:
        return bool(session and token) and hmac.compare_digest(self.token(str(session)), str(token))

    def who(self, headers: dict[str, str], session: str | None = None) -> str | None:
        """The acting person's name, or ``None`` when nobody may write."""
        if self.people is not None:
            return self.signed_in.get(session or "")
        if self.proxy_header:
            name = headers.get(self.proxy_header.lower(), "").strip()
            return name if name and len(name) <= MAX_NAME and name.isprintable() else None
        return self.user if self.loopback else None

    def why_not(self) -> str:
        """Why a write without a person is refused."""
        if self.people is not None:
            return "sign in with your token first"
        if self.proxy_header:
            return f"no person named by the {self.proxy_header} header; sign in through the proxy"
        return ("the console is read-only on a non-loopback address unless each person signs in "
                "(launchbook serve --auth FILE) or a reverse proxy names them (--trust-proxy-header HEADER)")
