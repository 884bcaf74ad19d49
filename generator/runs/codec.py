"""Run records on disk: YAML in, validated :class:`RunRecord` out, and back.

Hand-edited records are common, so every problem is reported with the file and the
line of the offending value. Paths in records never leave the run's folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import yaml

from generator.core.errors import SourceError
from generator.core.yamlload import (
    RECORD_LIMITS,
    Field,
    Kind,
    Problems,
    Schema,
    YamlMap,
    load_yaml,
    plain,
)
from generator.runs.record import (
    FORMAT,
    Decision,
    Entry,
    Evidence,
    ItemResult,
    RunRecord,
    Signoff,
    Snapshot,
    SnapshotItem,
    Status,
    parse_time,
)

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
EXTRA_SECTIONS = ("sealed", "report")


def _time(value: str) -> str:
    try:
        parse_time(value)
    except ValueError as exc:
        return f"not an ISO 8601 UTC time: {value!r} ({exc})"
    return ""


def _url(value: str) -> str:
    return "" if value.startswith(("https://", "http://")) else "must be an http(s) URL"


def _named(name: str, check: Callable[[str], str]) -> Callable[[Any], str]:
    def named(value: Any) -> str:
        problem = check(value)
        return f"{name!r} {problem}" if problem else ""

    return named


def _time_field(name: str, *, required: bool = False) -> Field:
    return Field(name, required=required, check=_named(name, _time))


def _url_field(name: str) -> Field:
    return Field(name, check=_named(name, _url))


_RECORD = Schema("the run record", (
    Field("launchbook_run", Kind.ANY), Field("id", required=True), Field("checklist", required=True),
    Field("release", required=True), Field("change"), _url_field("change_url"), Field("environment"),
    Field("operator"), _time_field("started_at", required=True), _time_field("finished_at"), Field("summary"),
    Field("snapshot_sha256", required=True), Field("snapshot", Kind.MAP, required=True),
    Field("results", Kind.MAP), Field("signoffs", Kind.LIST),
    *(Field(section, Kind.ANY) for section in EXTRA_SECTIONS),
), unknown_message="unknown field {key!r}")
_SNAPSHOT = Schema("the snapshot", (
    Field("title"), Field("source"), Field("source_sha256"), Field("items", Kind.LIST),
    Field("signoff_roles", Kind.TEXT_LIST),
))
_SNAPSHOT_ITEM = Schema("a snapshot item", (
    Field("id", required=True), Field("text"), Field("section", Kind.TEXT_LIST),
    Field("depth", Kind.INT, default=1, minimum=1, message="'depth' must be a whole number from 1"),
    Field("optional", Kind.BOOL), Field("command"), Field("shell"),
))
_ENTRY_FIELDS = (
    Field("status", required=True), Field("by"), _time_field("at", required=True), Field("note"),
    Field("evidence", Kind.LIST), _time_field("recorded_at"),
)
_RESULT = Schema("a result", (*_ENTRY_FIELDS, Field("history", Kind.LIST)))
_HISTORY = Schema("a history entry", _ENTRY_FIELDS)
_URL_EVIDENCE = Schema("evidence", (_url_field("url"),))
_FILE_EVIDENCE = Schema("evidence", (
    Field("file", required=True), Field("sha256", required=True),
    Field("size", Kind.INT, required=True, minimum=0, message="'size' must be a whole number of bytes"),
    Field("name"),
))
def _sha256(value: str) -> str:
    return "" if re.fullmatch(r"[0-9a-f]{64}", value) else "must be a sha256 (64 lowercase hex digits)"


_REPORT = Schema("the report section", (
    Field("file", Kind.STRING), Field("sha256", Kind.STRING, required=True, check=_named("sha256", _sha256)),
    Field("size", Kind.INT, required=True, minimum=0, message="'size' must be a whole number of bytes"),
    Field("pages", Kind.INT, minimum=0, message="'pages' must be a whole number"), Field("signer", Kind.STRING),
    Field("fingerprint", Kind.STRING), _time_field("signed_at"), Field("timestamped", Kind.BOOL),
    Field("pades_level", Kind.STRING), Field("pades_note", Kind.STRING),
))
_SIGNOFF = Schema("a sign-off", (
    Field("role", required=True), Field("name", required=True), Field("decision", required=True),
    Field("meaning"), _time_field("at", required=True), Field("comment"), Field("retroactive", Kind.BOOL),
    _time_field("recorded_at"),
))


def load_record(text: str, path: str) -> RunRecord:
    """Parse and validate a record's YAML text; every problem is reported, each with its line."""
    data = load_yaml(text, path, RECORD_LIMITS)
    problems = Problems(path)
    if not isinstance(data, YamlMap):
        raise SourceError("a run record must be a mapping", path, getattr(data, "line", 1))
    if data.get("launchbook_run") != FORMAT:
        raise SourceError(f"not a launchbook run record (expected 'launchbook_run: {FORMAT}')", path, data.line)
    top = problems.read(data, _RECORD)
    if top["id"] and not RUN_ID.match(top["id"]):
        problems.error(f"invalid run id {top['id']!r}", data.line_of("id"))
    snapshot = _snapshot(problems, top["snapshot"])
    if "snapshot" in data and top["snapshot_sha256"] and top["snapshot_sha256"] != snapshot.sha256():
        problems.error(
            f"snapshot does not match its stated hash (snapshot_sha256 {top['snapshot_sha256'][:12]}…, actual "
            f"{snapshot.sha256()[:12]}…): the checklist snapshot was edited", data.line_of("snapshot_sha256"))
    results = _results(problems, top["results"], snapshot)
    if "report" in data:
        report = problems.mapping(data["report"], "the report section", data.line_of("report"))
        if report is not None:
            problems.read(report, _REPORT)
    signoffs = tuple(_signoff(problems, raw, line)
                     for raw, line in zip(top["signoffs"], top["signoffs"].item_lines, strict=True))
    problems.raise_errors()
    return RunRecord(
        id=top["id"], checklist=top["checklist"], release=top["release"], snapshot=snapshot,
        started_at=top["started_at"], operator=top["operator"], environment=top["environment"],
        change=top["change"], change_url=top["change_url"], finished_at=top["finished_at"], summary=top["summary"],
        results=results, signoffs=tuple(s for s in signoffs if s is not None),
        extra={key: plain(data[key]) for key in EXTRA_SECTIONS if key in data},
    )


def _snapshot(problems: Problems, data: YamlMap) -> Snapshot:
    fields = problems.read(data, _SNAPSHOT)
    items = []
    seen: set[str] = set()
    for raw, line in zip(fields["items"], fields["items"].item_lines, strict=True):
        entry = problems.mapping(raw, "a snapshot item", line)
        if entry is None:
            continue
        item = problems.read(entry, _SNAPSHOT_ITEM)
        if item["id"] in seen:
            problems.error(f"duplicate snapshot item {item['id']!r}", line)
        seen.add(item["id"])
        if item["command"] and item["shell"] not in ("sh", "bash"):
            problems.error(f"snapshot item {item['id']!r}: 'shell' must be sh or bash", line)
        items.append(SnapshotItem(item["id"], item["text"], item["section"], item["depth"], item["optional"],
                                  item["command"], item["shell"] if item["command"] else ""))
    return Snapshot(title=fields["title"], source=fields["source"], source_sha256=fields["source_sha256"],
                    items=tuple(items), signoff_roles=fields["signoff_roles"])


def _results(problems: Problems, results: YamlMap, snapshot: Snapshot) -> dict[str, ItemResult]:
    out: dict[str, ItemResult] = {}
    for item_id, raw in results.items():
        line = results.line_of(item_id)
        if snapshot.item(str(item_id)) is None:
            problems.error(f"result for unknown item {item_id!r} (not in the run's snapshot)", line)
            continue
        entry = problems.mapping(raw, f"result of {item_id!r}", line)
        if entry is None:
            continue
        fields = problems.read(entry, _RESULT)
        history = []
        for raw_old, old_line in zip(fields["history"], fields["history"].item_lines, strict=True):
            old = problems.mapping(raw_old, "a history entry", old_line)
            if old is not None:
                history.append(_entry(problems, old, problems.read(old, _HISTORY)))
        out[str(item_id)] = ItemResult(current=_entry(problems, entry, fields), history=tuple(history))
    return out


def _entry(problems: Problems, data: YamlMap, fields: dict[str, Any]) -> Entry:
    status = Status.OPEN
    if fields["status"]:
        try:
            status = Status(fields["status"])
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            problems.error(f"invalid status {fields['status']!r} (use one of: {allowed})", data.line_of("status"))
        if status.needs_reason and not fields["note"].strip():
            problems.error(f"status {status.value!r} needs a note giving the reason", data.line_of("status"))
    evidence = [_evidence(problems, raw, line)
                for raw, line in zip(fields["evidence"], fields["evidence"].item_lines, strict=True)]
    return Entry(status=status, by=fields["by"], at=fields["at"], note=fields["note"],
                 evidence=tuple(e for e in evidence if e is not None), recorded_at=fields["recorded_at"])


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


def _evidence(problems: Problems, raw: Any, line: int) -> Evidence | None:
    data = problems.mapping(raw, "evidence", line)
    if data is None:
        return None
    if "url" in data:
        return Evidence(url=problems.read(data, _URL_EVIDENCE)["url"])
    fields = problems.read(data, _FILE_EVIDENCE)
    if fields["file"] and not safe_evidence_path(fields["file"]):
        problems.error(f"evidence path {fields['file']!r} escapes the run's evidence folder", data.line_of("file"))
    if fields["sha256"] and not _HEX64.match(fields["sha256"]):
        problems.error("'sha256' must be 64 lower-case hex digits", data.line_of("sha256"))
    return Evidence(file=fields["file"], sha256=fields["sha256"], size=fields["size"] or 0, name=fields["name"],
                    line=data.line_of("file") or data.line)


def _signoff(problems: Problems, raw: Any, line: int) -> Signoff | None:
    data = problems.mapping(raw, "a sign-off", line)
    if data is None:
        return None
    fields = problems.read(data, _SIGNOFF)
    decision = Decision.APPROVE
    if fields["decision"]:
        try:
            decision = Decision(fields["decision"])
        except ValueError:
            problems.error(f"invalid decision {fields['decision']!r} (use approve or reject)", data.line_of("decision"))
    return Signoff(role=fields["role"], name=fields["name"], decision=decision, meaning=fields["meaning"],
                   at=fields["at"], comment=fields["comment"], retroactive=fields["retroactive"],
                   recorded_at=fields["recorded_at"])


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
