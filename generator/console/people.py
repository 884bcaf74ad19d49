"""The people who may write through a team's run console (``serve --auth FILE``).

The file is YAML, one person a line: ``Ada Lovelace: sha256:<hex>``, the sha256 of that
person's token. Tokens are 256-bit random strings shown once by ``launchbook auth add``;
only their hashes are kept, so the file reveals no token (a slow hash adds nothing to a
random token of that length). Signing in sends the token once; the server then knows the
browser by its session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import yaml

from generator.core.errors import ConfigError
from generator.core.files import atomic_write
from generator.core.yamlload import SETTINGS_LIMITS, load_yaml, plain

PREFIX = "sha256:"
MAX_PEOPLE = 10_000


def token_hash(token: str) -> str:
    return PREFIX + hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def load_people(path: Path) -> dict[str, str]:
    """Name -> token hash; every problem is one error naming the file and line."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the people file: {exc}", shown) from None
    data = plain(load_yaml(text, shown, SETTINGS_LIMITS, error=ConfigError, what="people file"))
    if data is None:
        return {}
    if not isinstance(data, dict) or len(data) > MAX_PEOPLE:
        raise ConfigError("the people file must map each person's name to 'sha256:<hex>' of their token", shown, 1)
    people: dict[str, str] = {}
    for name, digest in data.items():
        if not isinstance(name, str) or not name.strip() or not name.isprintable():
            raise ConfigError(f"person {name!r}: a name must be printable text", shown)
        if not isinstance(digest, str) or not digest.startswith(PREFIX) or len(digest) != len(PREFIX) + 64 \
                or any(c not in "0123456789abcdef" for c in digest[len(PREFIX):]):
            raise ConfigError(f"person {name!r}: expected 'sha256:' and 64 hex digits (made by `launchbook auth "
                              "add`), never the token itself", shown)
        people[name.strip()] = digest
    return people


def who_has(people: dict[str, str], token: str) -> str | None:
    """The person whose token this is, or ``None`` (compared in constant time per person)."""
    digest = token_hash(token)
    found = None
    for name, expected in people.items():
        if hmac.compare_digest(expected, digest):
            found = name
    return found


def add_person(path: Path, name: str) -> str:
    """Give ``name`` a new token (replacing an old one); returns the token, which is stored only hashed."""
    name = name.strip()
    if not name or not name.isprintable() or len(name) > 200:
        raise ConfigError("a person's name must be printable text of at most 200 characters")
    people = load_people(path) if path.exists() else {}
    token = secrets.token_urlsafe(32)
    people[name] = token_hash(token)
    header = "# launchbook serve --auth: each person's name and the sha256 of their token (`launchbook auth add`).\n"
    body = yaml.safe_dump(dict(sorted(people.items())), allow_unicode=True, default_flow_style=False, width=1000)
    atomic_write(path, (header + body).encode("utf-8"), mode=0o600)
    return token
