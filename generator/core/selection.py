"""Which files under ``content/`` are sources: the ``include:``/``exclude:`` globs of ``site.yml``.

Names starting with ``.`` or ``_`` are left out unless an ``include`` glob names them
(by default ``.github/**`` and ``.gitlab/**``: pull-request and issue templates are
checklists teams use; setting ``include`` replaces that default). ``node_modules/`` and
``vendor/`` (at any depth) are always left out unless an ``include`` glob names them; an
``exclude`` glob adds to those and wins over ``include``. Globs are
content-relative with ``/`` separators: ``*`` and ``?`` stay within one name, ``**``
spans folders. Matching is case-sensitive.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from generator.core.locks import is_lock_file

DEFAULT_INCLUDE = (".github/**", ".gitlab/**")
DEFAULT_EXCLUDE = ("**/node_modules/**", "**/vendor/**")


def check_glob(pattern: str) -> str:
    """A problem with a glob ("" when fine)."""
    if not pattern.strip() or pattern.startswith("/") or "\\" in pattern:
        return "must be a content-relative glob with / separators, such as '.github/**'"
    if any(part in ("", ".", "..") for part in pattern.rstrip("/").split("/")):
        return "must not contain empty, '.' or '..' parts"
    return ""


def _match(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    head = pattern[0]
    if head == "**":
        return any(_match(pattern[1:], path[skip:]) for skip in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], head) and _match(pattern[1:], path[1:])


def _could_contain(pattern: tuple[str, ...], folder: tuple[str, ...]) -> bool:
    """Whether a path inside ``folder`` can match ``pattern``."""
    if not folder:
        return bool(pattern)
    if not pattern:
        return False
    head = pattern[0]
    if head == "**":
        return True
    return fnmatchcase(folder[0], head) and _could_contain(pattern[1:], folder[1:])


@functools.lru_cache(maxsize=256)
def _split(pattern: str) -> tuple[str, ...]:
    parts = pattern.rstrip("/").split("/")
    return (*parts, "**") if pattern.endswith("/") else tuple(parts)


@functools.lru_cache(maxsize=256)
def _literals(pattern: str) -> frozenset[str]:
    """The parts of a glob without wildcards: a path matches only if it has every one of them."""
    return frozenset(part for part in _split(pattern) if not any(c in part for c in "*?["))


def _matches(pattern: str, path: tuple[str, ...]) -> bool:
    """Whether the glob matches the path (most paths of a large site are refused by the literal parts alone)."""
    return _literals(pattern).issubset(path) and _match(_split(pattern), path)


def _prunes(pattern: str, folder: tuple[str, ...]) -> bool:
    return _split(pattern)[-1] == "**" and _matches(pattern, (*folder, "\0"))


@dataclass(frozen=True, slots=True)
class Selection:
    """The include/exclude rules of one site."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    """Globs bringing in hidden (``.``) and ``_`` names."""
    exclude: tuple[str, ...] = ()
    """Globs leaving files out (they win over ``include``)."""

    def excluded(self, parts: tuple[str, ...]) -> bool:
        """Whether the file at ``parts`` is left out by an ``exclude`` glob or a default one."""
        return (any(_matches(p, parts) for p in self.exclude)
                or (any(_matches(p, parts) for p in DEFAULT_EXCLUDE) and not self.included(parts)))

    def excluded_folder(self, parts: tuple[str, ...]) -> bool:
        """Whether everything in the folder at ``parts`` is left out (``x/**``-style excludes)."""
        return (any(_prunes(p, parts) for p in self.exclude)
                or (any(_prunes(p, parts) for p in DEFAULT_EXCLUDE) and not self.may_include(parts)))

    def included(self, parts: tuple[str, ...]) -> bool:
        """Whether a hidden file at ``parts`` is brought in by an ``include`` glob."""
        return any(_matches(p, parts) for p in self.include)

    def may_include(self, parts: tuple[str, ...]) -> bool:
        """Whether an ``include`` glob can match something inside the folder at ``parts``."""
        return any(_could_contain(_split(p), parts) for p in self.include)


def hidden(name: str) -> bool:
    """Names left out unless included: ``.git``, ``.DS_Store``, ``_drafts`` …"""
    return name.startswith((".", "_"))


_LEFTOVER = re.compile(r"(\.bak(\.\d+)?|~|\.sw[a-p])$|^#.*#$", re.IGNORECASE)


def is_leftover(name: str) -> bool:
    """Backups (``x.md.bak``, ``x.md.bak.2`` from ``lint --fix``), editor leftovers (``x~``,
    ``#x#``, ``.#x``, ``x.swp``) and launchbook's own lock files (``.x.yml.lock``): never
    published, from ``content/`` or from a theme."""
    return bool(_LEFTOVER.search(name)) or is_lock_file(name)
