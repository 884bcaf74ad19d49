"""JUnit XML from CI -> item results of a run.

A test case maps to an item by its ``checklist-item`` property, or by the ``junit``
mapping in ``site.yml`` (``classname.name``, ``classname::name`` or ``name``; shell
globs allowed). Several cases may feed one item: any failure or error fails it, all
skipped skips it, otherwise it is done. The XML itself is attached as evidence.
"""

from __future__ import annotations

import contextlib
import fnmatch
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from junitparser import JUnitXml, Properties, TestCase, TestSuite

from generator.config import load_config
from generator.core.errors import SourceError
from generator.runs.evidence import store_file
from generator.runs.operations import _check_open, apply_entry, recorded, when
from generator.runs.record import Entry, RunRecord, Status
from generator.runs.store import RunFile, find_run, update_record


@dataclass(frozen=True, slots=True)
class JunitImport:
    """What an import did."""

    run: RunFile
    """The run updated."""
    record: RunRecord
    """The record after the import."""
    applied: dict[str, str]
    """Item ID -> status set."""
    unmapped: tuple[str, ...]
    """Test cases that map to no item (reported, not dropped silently)."""
    unknown: tuple[str, ...]
    """Item IDs named by tests that the run's checklist does not have."""


def _cases(path: Path) -> list[TestCase]:
    try:
        xml = JUnitXml.fromfile(str(path))
    except (ElementTree.ParseError, SyntaxError, OSError, ValueError) as exc:  # lxml errors are SyntaxErrors
        raise SourceError(f"not readable JUnit XML: {exc}", path) from None
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return [case for suite in suites for case in suite]


def _case_name(case: TestCase) -> str:
    return f"{case.classname}.{case.name}" if case.classname else str(case.name)


def _mapped_item(case: TestCase, mapping: tuple[tuple[str, str], ...]) -> str | None:
    properties = case.child(Properties)
    if properties is not None:
        for prop in properties:
            if prop.name == "checklist-item" and prop.value:
                return str(prop.value)
    names = (_case_name(case), f"{case.classname}::{case.name}", str(case.name))
    for pattern, item_id in mapping:
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return item_id
    return None


def _verdict(cases: list[TestCase]) -> tuple[Status, str]:
    failures = [c for c in cases if c.is_failure or c.is_error]
    if failures:
        messages = []
        for case in failures:
            result = next(iter(case.result), None)
            message = (result.message or result.text or "").strip() if result is not None else ""
            messages.append(f"{_case_name(case)}: {message or 'failed'}")
        return Status.FAILED, "; ".join(messages)
    if all(c.is_skipped for c in cases):
        reasons = {(next(iter(c.result)).message or "").strip() for c in cases if c.result}
        reason = "; ".join(sorted(r for r in reasons if r)) or "skipped in CI"
        return Status.SKIPPED, reason
    names = ", ".join(_case_name(c) for c in cases)
    return Status.DONE, f"{len(cases)} test{'s' if len(cases) != 1 else ''} passed: {names}"


def import_junit(project: Path, run_id: str, xml_path: Path, *, by: str = "CI", at: str | None = None) -> JunitImport:
    """Apply a JUnit XML report to a run."""
    if not xml_path.is_file():
        raise SourceError(f"JUnit file not found: {xml_path}")
    cases = _cases(xml_path)
    mapping = load_config(project / "content", "content").junit
    run = find_run(project, run_id)
    stamp = when(at)
    grouped: dict[str, list[TestCase]] = {}
    unmapped: list[str] = []
    for case in cases:
        item_id = _mapped_item(case, mapping)
        if item_id is None:
            unmapped.append(_case_name(case))
        else:
            grouped.setdefault(item_id, []).append(case)
    outcome: dict[str, object] = {}
    created: list[Path] = []

    def change(record: RunRecord) -> RunRecord:
        _check_open(record, run)
        unknown = sorted(i for i in grouped if record.snapshot.item(i) is None)
        known = {i: c for i, c in grouped.items() if i not in unknown}
        if not known:
            raise SourceError(
                f"no test case in {xml_path.name} maps to an item of run {record.id!r} "
                "(add a 'checklist-item' property or a 'junit' mapping in site.yml)")
        evidence, new_file = store_file(run.folder, xml_path)
        if new_file is not None:
            created.append(new_file)
        applied: dict[str, str] = {}
        for item_id in sorted(known):
            status, note = _verdict(known[item_id])
            record = apply_entry(record, item_id, Entry(status, by, stamp, note, (evidence,), recorded(at)))
            applied[item_id] = status.value
        outcome.update(applied=applied, unknown=tuple(unknown))
        return record

    try:
        record = update_record(run, change)
    except BaseException:
        for path in created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return JunitImport(run, record, outcome["applied"], tuple(unmapped), outcome["unknown"])  # type: ignore[arg-type]
