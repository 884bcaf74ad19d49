"""The ledger as ``run close`` needs it: its size, tree head, newest time and whether a run is in
it, without re-reading every line of a ledger that has not changed since the last close.

Refusing to seal onto a damaged ledger means every line was parsed and checked once. What that
check found (the number of leaves, the RFC 6962 *frontier* — the roots of the perfect subtrees
that make up the tree, at most one per bit of the size — and the newest time this machine wrote)
is kept in ``.launchbook-cache/ledger-state.json`` under the sha256 of the exact bytes it covers
and of the code that checked them. The next close reads the ledger (it appends to those bytes
anyway), hashes the covered prefix, and parses only the lines after it; anything else (another
prefix, other code, a missing or unreadable cache) means the whole ledger is parsed again. The
cache is written under the ledger lock, after the ledger, so a kill between the two leaves a
cache of a prefix, whose rest the next close parses. ``verify`` never reads it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive import ledger, merkle
from generator.archive.ledger import (
    Entry,
    LedgerEntry,
    TimestampEntry,
    TreeHead,
    ledger_bytes,
    ledger_path,
    parse_entry,
    parse_ledger,
)
from generator.core.errors import SourceError
from generator.core.files import atomic_write, read_cache_bytes, store_cache_bytes
from generator.sources.cachedir import cache_dir

CACHE_NAME = "ledger-state.json"
CACHE_LIMIT = 64 * 1024
"""A frontier holds at most 64 hashes; anything longer is not a cache this module wrote."""


def _code_version() -> str:
    """What checked the covered lines: a cache made by other parsing code is not reused."""
    digest = hashlib.sha256()
    for module in (ledger, merkle):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


_CODE = _code_version()


def push_leaf(frontier: tuple[tuple[int, bytes], ...], leaf: bytes) -> tuple[tuple[int, bytes], ...]:
    """The frontier of the tree with one more leaf (RFC 6962 §2.1: perfect subtrees, largest first)."""
    nodes = [*frontier, (1, leaf)]
    while len(nodes) > 1 and nodes[-2][0] == nodes[-1][0]:
        (size, left), (_, right) = nodes[-2], nodes[-1]
        nodes[-2:] = [(size * 2, merkle.node_hash(left, right))]
    return tuple(nodes)


def frontier_root(frontier: tuple[tuple[int, bytes], ...]) -> bytes:
    """MTH of the whole tree: the subtree roots folded from the right (equal to :func:`merkle.root`)."""
    if not frontier:
        return merkle.EMPTY_ROOT
    root = frontier[-1][1]
    for _, node in reversed(frontier[:-1]):
        root = merkle.node_hash(node, root)
    return root


def prefix_roots(leaves: list[bytes]) -> list[bytes]:
    """The root of the first ``size`` leaves for every size from 0 to ``len(leaves)``: one pass,
    O(log n) hashes per size (``merkle.root`` of each prefix would be O(n²) for the archive)."""
    roots = [merkle.EMPTY_ROOT]
    frontier: tuple[tuple[int, bytes], ...] = ()
    for leaf in leaves:
        frontier = push_leaf(frontier, leaf)
        roots.append(frontier_root(frontier))
    return roots


@dataclass(frozen=True, slots=True)
class LedgerState:
    """The ledger read for appending: checked in full, every line."""

    raw: bytes
    """The ledger's bytes as read (what the next line is appended to)."""
    size: int
    """Leaves (lines) in the tree."""
    frontier: tuple[tuple[int, bytes], ...]
    """(leaves, root) of each perfect subtree, largest first."""
    last_written_at: str
    """The time field of the newest line this machine's clock wrote ("" when none)."""

    def head(self) -> TreeHead:
        return TreeHead(self.size, frontier_root(self.frontier).hex())

    def has_sealed(self, run_id: str) -> bool:
        """Whether a line seals ``run_id`` (not a later revision of its report). Every line is
        canonical JSON, where a run id (letters, digits, ``._-``) is written as is, so only the
        lines holding ``"run":"<id>"`` need parsing."""
        needle = b'"run":' + json.dumps(run_id).encode("utf-8")
        at = self.raw.find(needle)
        while at >= 0:
            start = self.raw.rfind(b"\n", 0, at) + 1
            end = self.raw.find(b"\n", at)
            line = self.raw[start:end if end >= 0 else len(self.raw)]
            entry = parse_entry(json.loads(line.decode("utf-8")))
            if isinstance(entry, LedgerEntry) and entry.run == run_id:
                return True
            at = self.raw.find(needle, at + 1)
        return False


def _cache_path(project: Path) -> Path:
    return cache_dir(project) / CACHE_NAME


def _cached(project: Path, raw: bytes) -> LedgerState | None:
    """The cached state when it covers a line-ending prefix of ``raw``, byte for byte."""
    data = read_cache_bytes(_cache_path(project), CACHE_LIMIT)
    try:
        state: Any = json.loads(data.decode("utf-8")) if data is not None else None
        if not isinstance(state, dict) or state.get("code") != _CODE:
            return None
        length, size, last = state["length"], state["size"], state["last_written_at"]
        frontier = tuple((int(n), bytes.fromhex(h)) for n, h in state["frontier"])
        if type(length) is not int or type(size) is not int or not isinstance(last, str):
            return None
        if not 0 < length <= len(raw) or raw[length - 1:length] != b"\n" or not _well_formed(frontier, size):
            return None
        if hashlib.sha256(raw[:length]).hexdigest() != state["sha256"]:
            return None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    return LedgerState(raw[:length], size, frontier, last)


def _well_formed(frontier: tuple[tuple[int, bytes], ...], size: int) -> bool:
    """Subtrees of strictly decreasing powers of two adding up to ``size``, each root a sha256."""
    sizes = [n for n, _ in frontier]
    return (sum(sizes) == size and all(n > 0 and n & (n - 1) == 0 for n in sizes)
            and all(a > b for a, b in zip(sizes, sizes[1:], strict=False))
            and all(len(h) == 32 for _, h in frontier))


def _save(project: Path, state: LedgerState) -> None:
    """Remember ``state`` (a cache: a failure only means a slower next close). Never raises: it
    runs after a ledger line is written, when failing the command would leave that line behind."""
    if not state.raw.endswith(b"\n"):
        return
    try:
        path = _cache_path(project)
    except SourceError:
        return  # the cache folder became a link or a file: nothing is remembered
    store_cache_bytes(path, json.dumps({
        "code": _CODE, "length": len(state.raw), "sha256": hashlib.sha256(state.raw).hexdigest(),
        "size": state.size, "frontier": [[n, h.hex()] for n, h in state.frontier],
        "last_written_at": state.last_written_at}).encode("utf-8"))


def read_state(project: Path) -> LedgerState:
    """The ledger for appending (caller holds the ledger lock): any problem is an error (seal
    nothing onto a damaged log), as :func:`~generator.archive.ledger.read_ledger` has it."""
    shown, raw, unreadable = ledger_bytes(project)
    if unreadable:
        raise SourceError(f"{unreadable}; refusing to seal onto it", shown)
    known = _cached(project, raw)
    start = len(known.raw) if known is not None else 0
    entries, problems, leaves = parse_ledger(raw[start:], shown, first_seq=known.size if known else 0,
                                             first_line=raw.count(b"\n", 0, start) + 1)
    if problems:
        line, message = problems[0]
        raise SourceError(f"{message}; refusing to seal onto a damaged ledger (run `launchbook verify`)", shown, line)
    frontier = known.frontier if known is not None else ()
    for leaf in leaves:
        frontier = push_leaf(frontier, leaf)
    ours = [e for e in entries if not isinstance(e, TimestampEntry)]  # a TSA's clock is not ours
    last = ours[-1].written_at if ours else known.last_written_at if known is not None else ""
    state = LedgerState(raw, (known.size if known else 0) + len(leaves), frontier, last)
    if leaves or known is None:
        _save(project, state)
    return state


def append_line(project: Path, state: LedgerState, entry: Entry) -> LedgerState:
    """Append ``entry`` to the ledger ``state`` read (caller holds the ledger lock); the file is
    replaced atomically, then the cache is updated."""
    existing = state.raw if not state.raw or state.raw.endswith(b"\n") else state.raw + b"\n"
    line = entry.line_bytes()
    atomic_write(ledger_path(project), existing + line + b"\n")
    written = state.last_written_at if isinstance(entry, TimestampEntry) else entry.written_at
    after = LedgerState(existing + line + b"\n", state.size + 1, push_leaf(state.frontier, merkle.leaf_hash(line)),
                        written)
    _save(project, after)
    return after
