"""Run records on disk: YAML in, validated :class:`RunRecord` out, and back.

Hand-edited records are common, so every problem is reported with the file and the
line of the offending value. Paths in records never leave the run's folder.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import yaml

from generator.core.errors import SourceError
from generator.runs.record import (
    FORMAT, Decision, Entry, Evidence, ItemResult, RunRecord, Signoff, Snapshot, SnapshotItem, Status, parse_time,
)

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KNOWN = {
    "launchbook_run", "id", "checklist", "release", "change", "change_url", "environment", "operator",
    "started_at", "finished_at", "summary", "snapshot_sha256", "snapshot", "results", "signoffs",
}
EXTRA_SECTIONS = ("sealed", "report")


class _Map(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class _Seq(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers the line of itself and of each item."""

    def __init__(self, values: Any = ()) -> None:
        super().__init__(values)
        self.line = 0
        self.item_lines: list[int] = [0] * len(self)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml when available (about 10x faster); the same line numbers either way."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    result = _Map()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = value_node.start_mark.line + 1
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_str(loader: _Loader, node: yaml.Node) -> str:
    # Times and dates stay text: the record format defines them as ISO 8601 strings.
    return str(node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)


class _Reader:
    """Typed field access that raises ``SourceError`` at the right line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, message: str, line: int | None) -> SourceError:
        return SourceError(message, self.path, line)

    def map(self, value: Any, what: str, line: int | None) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(f"{what} must be a mapping", getattr(value, "line", line))
        return value

    def text(self, data: _Map, key: str, *, required: bool = False, default: str = "") -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(f"missing {key!r}", data.line)
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(f"{key!r} must be text", data.key_lines.get(key, data.line))
        return str(value)

    def time(self, data: _Map, key: str, *, required: bool = False) -> str:
        value = self.text(data, key, required=required)
        if value:
            try:
                parse_time(value)
            except ValueError as exc:
                raise self.fail(f"{key!r} is not an ISO 8601 UTC time: {value!r} ({exc})", data.key_lines.get(key)) from None
        return value

    def seq(self, data: _Map, key: str) -> _Seq:
        value = data.get(key)
        if value is None:
            return _Seq()
        if not isinstance(value, _Seq):
            raise self.fail(f"{key!r} must be a list", data.key_lines.get(key, data.line))
        return value


def load_record(text: str, path: str) -> RunRecord:
    """Parse and validate a record's YAML text."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SourceError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path,
                          mark.line + 1 if mark else None) from None
    read = _Reader(path)
    data = read.map(data, "a run record", 1)
    if data.get("launchbook_run") != FORMAT:
        raise read.fail(f"not a launchbook run record (expected 'launchbook_run: {FORMAT}')", data.line)
    run_id = read.text(data, "id", required=True)
    if not RUN_ID.match(run_id):
        raise read.fail(f"invalid run id {run_id!r}", data.key_lines.get("id"))
    snapshot = _snapshot(read, read.map(data.get("snapshot"), "'snapshot'", data.key_lines.get("snapshot", data.line)))
    stated = read.text(data, "snapshot_sha256", required=True)
    if stated != snapshot.sha256():
        raise read.fail(
            f"snapshot does not match its stated hash (snapshot_sha256 {stated[:12]}…, actual {snapshot.sha256()[:12]}…): "
            "the checklist snapshot was edited", data.key_lines.get("snapshot_sha256"))
    results = _results(read, data, snapshot)
    signoffs = tuple(_signoff(read, read.map(raw, "a sign-off", line))
                     for raw, line in zip(read.seq(data, "signoffs"), read.seq(data, "signoffs").item_lines))
    for key in data:
        if key not in _KNOWN and key not in EXTRA_SECTIONS:
            raise read.fail(f"unknown field {key!r}", data.key_lines.get(key))
    return RunRecord(
        id=run_id,
        checklist=read.text(data, "checklist", required=True),
        release=read.text(data, "release", required=True),
        snapshot=snapshot,
        started_at=read.time(data, "started_at", required=True),
        operator=read.text(data, "operator"),
        environment=read.text(data, "environment"),
        change=read.text(data, "change"),
        change_url=_url(read, data, "change_url"),
        finished_at=read.time(data, "finished_at"),
        summary=read.text(data, "summary"),
        results=results,
        signoffs=signoffs,
        extra={key: _plain(data[key]) for key in EXTRA_SECTIONS if key in data},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _url(read: _Reader, data: _Map, key: str) -> str:
    value = read.text(data, key)
    if value and not value.startswith(("https://", "http://")):
        raise read.fail(f"{key!r} must be an http(s) URL", data.key_lines.get(key))
    return value


def _snapshot(read: _Reader, data: _Map) -> Snapshot:
    items = []
    seen: set[str] = set()
    raw_items = read.seq(data, "items")
    for raw, line in zip(raw_items, raw_items.item_lines):
        entry = read.map(raw, "a snapshot item", line)
        item_id = read.text(entry, "id", required=True)
        if item_id in seen:
            raise read.fail(f"duplicate snapshot item {item_id!r}", line)
        seen.add(item_id)
        section = read.seq(entry, "section")
        depth = entry.get("depth", 1)
        optional = entry.get("optional", False)
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise read.fail("'depth' must be a whole number from 1", entry.key_lines.get("depth", line))
        if not isinstance(optional, bool):
            raise read.fail("'optional' must be true or false", entry.key_lines.get("optional", line))
        items.append(SnapshotItem(item_id, read.text(entry, "text"), tuple(str(s) for s in section), depth, optional))
    return Snapshot(
        title=read.text(data, "title"),
        source=read.text(data, "source"),
        source_sha256=read.text(data, "source_sha256"),
        items=tuple(items),
        signoff_roles=tuple(str(r) for r in read.seq(data, "signoff_roles")),
    )


def _results(read: _Reader, data: _Map, snapshot: Snapshot) -> dict[str, ItemResult]:
    raw = data.get("results") or _Map()
    results = read.map(raw, "'results'", data.key_lines.get("results", data.line))
    out: dict[str, ItemResult] = {}
    for item_id in results:
        line = results.key_lines.get(item_id, results.line)
        if snapshot.item(str(item_id)) is None:
            raise read.fail(f"result for unknown item {item_id!r} (not in the run's snapshot)", line)
        entry_map = read.map(results[item_id], f"result of {item_id!r}", line)
        history = read.seq(entry_map, "history")
        out[str(item_id)] = ItemResult(
            current=_entry(read, entry_map),
            history=tuple(_entry(read, read.map(h, "a history entry", hl)) for h, hl in zip(history, history.item_lines)),
        )
    return out


def _entry(read: _Reader, data: _Map) -> Entry:
    raw_status = read.text(data, "status", required=True)
    try:
        status = Status(raw_status)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise read.fail(f"invalid status {raw_status!r} (use one of: {allowed})", data.key_lines.get("status")) from None
    note = read.text(data, "note")
    if status.needs_reason and not note.strip():
        raise read.fail(f"status {status.value!r} needs a note giving the reason", data.key_lines.get("status"))
    evidence = read.seq(data, "evidence")
    return Entry(
        status=status,
        by=read.text(data, "by"),
        at=read.time(data, "at", required=True),
        note=note,
        evidence=tuple(_evidence(read, read.map(e, "evidence", line)) for e, line in zip(evidence, evidence.item_lines)),
    )


def safe_evidence_path(value: str) -> bool:
    """Evidence files live under ``evidence/`` of their run; nothing may climb out."""
    path = PurePosixPath(value)
    return (
        not path.is_absolute()
        and "\\" not in value
        and len(path.parts) >= 2
        and path.parts[0] == "evidence"
        and all(part not in ("..", ".", "") for part in path.parts)
    )


def _evidence(read: _Reader, data: _Map) -> Evidence:
    if "url" in data:
        url = _url(read, data, "url")
        return Evidence(url=url)
    file = read.text(data, "file", required=True)
    if not safe_evidence_path(file):
        raise read.fail(f"evidence path {file!r} escapes the run's evidence folder", data.key_lines.get("file"))
    digest = read.text(data, "sha256", required=True)
    if not _HEX64.match(digest):
        raise read.fail("'sha256' must be 64 lower-case hex digits", data.key_lines.get("sha256"))
    size = data.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise read.fail("'size' must be a whole number of bytes", data.key_lines.get("size", data.line))
    return Evidence(file=file, sha256=digest, size=size, line=data.key_lines.get("file", data.line))


def _signoff(read: _Reader, data: _Map) -> Signoff:
    raw = read.text(data, "decision", required=True)
    try:
        decision = Decision(raw)
    except ValueError:
        raise read.fail(f"invalid decision {raw!r} (use approve or reject)", data.key_lines.get("decision")) from None
    return Signoff(
        role=read.text(data, "role", required=True),
        name=read.text(data, "name", required=True),
        decision=decision,
        meaning=read.text(data, "meaning"),
        at=read.time(data, "at", required=True),
        comment=read.text(data, "comment"),
        retroactive=_flag(read, data, "retroactive"),
    )


def _flag(read: _Reader, data: _Map, key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise read.fail(f"{key!r} must be true or false", data.key_lines.get(key))
    return value


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml when available; output is identical to the pure-Python dumper."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_record(record: RunRecord) -> str:
    """The record as YAML text (stable: same record, same bytes)."""
    header = "# launchbook run record: edit with `launchbook run …` commands; see README 'Run records'.\n"
    return header + yaml.dump(record.to_data(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
