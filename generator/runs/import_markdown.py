"""A ticked-off copy of a checklist -> a new run.

``[x]`` done, ``[ ]`` open, ``[~]`` n/a. Text after an item such as ``— failed: disk
full`` sets the status and note; nested notes under an item become its note. Filled
sign-off lines (``**Technical Lead:** Jane Roe Date: 2026-01-21``) and sign-off table
rows become sign-offs. Items the checklist does not have are reported, never dropped
silently.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it.token import Token

from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError
from generator.runs.lookup import find_checklist
from generator.runs.operations import apply_entry, recorded, when
from generator.runs.record import Decision, Entry, RunRecord, Signoff, SnapshotItem, Status
from generator.runs.start import snapshot_of, start_run
from generator.runs.store import RunFile, update_record
from generator.sources.frontmatter import split_front_matter
from generator.sources.ids import item_id, normalise
from generator.sources.markdown import markdown, plain_text
from generator.sources.repair import decode_source, repair_text

_STATUS_WORDS = {
    "done": Status.DONE, "passed": Status.DONE, "ok": Status.DONE,
    "failed": Status.FAILED, "fail": Status.FAILED,
    "blocked": Status.BLOCKED, "skipped": Status.SKIPPED,
    "n/a": Status.NA, "na": Status.NA, "not applicable": Status.NA,
}
_SUFFIX = re.compile(
    r"^(?P<text>.*?)\s*(?:—|–|--|-|:|\|)\s*"
    r"\(?(?P<word>failed|fail|blocked|skipped|n/a|na|not applicable|done|passed|ok)\b\)?"
    r"\s*[:\-–—]?\s*(?P<note>.*)$",
    re.IGNORECASE,
)
_FILLED_SIGNOFF = re.compile(
    r"^(?P<role>[^:]{2,60}?)\s*:\s*(?P<name>[^_]*?[A-Za-z][^_]*?)\s*(?:date\s*:\s*(?P<date>[\d-]{8,10}))?\s*$",
    re.IGNORECASE)
_REJECT = re.compile(r"\b(reject(?:ed)?|no-?go|denied)\b", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class FilledItem:
    """One task line of the filled copy."""

    text: str
    section: tuple[str, ...]
    state: str
    line: int
    notes: tuple[str, ...]
    attrs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MarkdownImport:
    """What an import did."""

    run: RunFile
    record: RunRecord
    unmatched: tuple[Diagnostic, ...]
    """Filled items the checklist does not have (file, line, text)."""
    warnings: tuple[Diagnostic, ...]
    """Other things worth knowing (n/a without a reason …)."""


def _filled_items(tokens: list[Token], offset: int) -> list[FilledItem]:
    h1s = [t for t in tokens if t.type == "heading_open" and t.tag == "h1"]
    first = next((t for t in tokens if t.type == "heading_open"), None)
    title = h1s[0] if len(h1s) == 1 and first is h1s[0] else None
    sections: list[tuple[int, str]] = []
    items: list[FilledItem] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token is not title:
            level = int(token.tag[1])
            while sections and sections[-1][0] >= level:
                sections.pop()
            sections.append((level, plain_text(tokens[index + 1].children)))
        elif token.type == "list_item_open" and "task" in (token.meta or {}):
            items.append(FilledItem(
                text=plain_text(tokens[index + 2].children),
                section=tuple(text for _, text in sections),
                state=token.meta["task"],
                line=(token.map or [0])[0] + 1 + offset,
                notes=tuple(_notes(tokens, index)),
                attrs=tuple(token.meta.get("attrs", ())),
            ))
    return items


def _notes(tokens: list[Token], start: int) -> list[str]:
    """Inline text inside a task item other than its first line and nested task items."""
    level = tokens[start].level
    notes: list[str] = []
    skip_until = -1
    for index in range(start + 3, len(tokens)):
        token = tokens[index]
        if token.type == "list_item_close" and token.level == level:
            break
        if index <= skip_until:
            continue
        if token.type == "list_item_open" and "task" in (token.meta or {}):
            depth = token.level
            skip_until = next(j for j in range(index, len(tokens))
                              if tokens[j].type == "list_item_close" and tokens[j].level == depth)
            continue
        if token.type == "inline":
            text = plain_text(token.children)
            notes.append(re.sub(r"^(?:note|reason)\s*:\s*", "", text, flags=re.IGNORECASE))
    return [n for n in notes if n]


def _split_status(text: str) -> tuple[str, Status | None, str]:
    match = _SUFFIX.match(text)
    if not match or not match.group("text"):
        return text, None, ""
    return match.group("text").strip(), _STATUS_WORDS[match.group("word").lower()], match.group("note").strip()


def _match(items: tuple[SnapshotItem, ...], filled: FilledItem, text: str, taken: set[str],
           occurrences: dict[tuple[tuple[str, ...], str], int]) -> SnapshotItem | None:
    by_id = {i.id: i for i in items}
    explicit = next((a[1:] for a in filled.attrs if a.startswith("#")), None)
    if explicit and explicit in by_id:
        return by_id[explicit]
    key = (tuple(normalise(s) for s in filled.section), normalise(text))
    occurrences[key] = occurrences.get(key, 0) + 1
    candidate = by_id.get(item_id(filled.section, text, occurrences[key]))
    if candidate is not None and candidate.id not in taken:
        return candidate
    wanted = normalise(text).casefold()
    same_text = [i for i in items if i.id not in taken and normalise(i.text).casefold() == wanted]
    same_text.sort(key=lambda i: tuple(i.section) != tuple(filled.section))
    return same_text[0] if same_text else None


def _signoff_from_line(text: str, roles: tuple[str, ...], default_at: str) -> Signoff | None:
    match = _FILLED_SIGNOFF.match(text.replace("*", "").strip())
    if not match:
        return None
    role = next((r for r in roles if r.casefold() == match.group("role").strip().casefold()), None)
    if role is None:
        return None
    return _signoff(role, match.group("name"), text, match.group("date"), default_at)


def _signoff(role: str, name: str, context: str, date: str | None, default_at: str) -> Signoff:
    decision = Decision.REJECT if _REJECT.search(context) else Decision.APPROVE
    at = f"{date}T00:00:00Z" if date and _DATE.match(date) else default_at
    meaning = f"{'approved' if decision is Decision.APPROVE else 'rejected'} (imported from a ticked copy)"
    split = re.search(r"\s*[(;]|\s+[—–-]\s+", name)
    printed, remark = (name[: split.start()], name[split.end() :]) if split else (name, "")
    comment = remark.strip(" ()")
    return Signoff(role, " ".join(_REJECT.sub("", printed).split()).strip(" ,:"), decision, meaning, at, comment)


def _table_signoffs(tokens: list[Token], roles: tuple[str, ...], default_at: str) -> list[Signoff]:
    found: list[Signoff] = []
    header: list[str] = []
    row: list[str] = []
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(plain_text(token.children))
        if token.type == "tr_close":
            if not header:
                header = [cell.strip().casefold() for cell in row]
            elif "role" in header and "name" in header:
                cells = dict(zip(header, row, strict=False))
                role = next((r for r in roles if r.casefold() == cells.get("role", "").strip().casefold()), None)
                name = cells.get("name", "").strip()
                if role and name:
                    found.append(_signoff(role, name, " ".join(row), cells.get("date", "").strip(), default_at))
        if token.type == "table_close":
            header = []
    return found


def import_markdown(
    project: Path, filled: Path, checklist_id: str, *, release: str, change: str = "", change_url: str = "",
    environment: str = "", operator: str = "", by: str = "", at: str | None = None,
) -> MarkdownImport:
    """Create a run from a ticked-off copy of a checklist."""
    try:
        data = filled.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", filled) from None
    text, _ = decode_source(data, str(filled))
    front, body, offset = split_front_matter(repair_text(text, str(filled)).text, str(filled))
    tokens = markdown().parse(body, {})
    checklist = find_checklist(project, checklist_id)
    stamp = when(at)
    by = by or operator or "imported"
    roles = tuple(role.role for role in checklist.signoffs)
    items = snapshot_of(checklist).items

    entries: dict[str, Entry] = {}
    signoffs: list[Signoff] = []
    unmatched: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    taken: set[str] = set()
    occurrences: dict[tuple[tuple[str, ...], str], int] = {}
    for filled_item in _filled_items(tokens, offset):
        signoff = _signoff_from_line(filled_item.text, roles, stamp)
        if signoff is not None:
            signoffs.append(signoff)
            continue
        text, word, note = _split_status(filled_item.text)
        match = _match(items, filled_item, filled_item.text, taken, occurrences)
        if match is not None:
            word, note = None, ""  # the whole line is the item's text
        elif word is not None:
            match = _match(items, filled_item, text, taken, occurrences)
        if match is None:
            if not re.match(r"^[^:]{2,60}:\s*[_*\\\s]*(?:date\s*:\s*[_*\\\s]*)?$", filled_item.text, re.IGNORECASE):
                unmatched.append(Diagnostic(str(filled), filled_item.line, filled_item.text))
            continue
        taken.add(match.id)
        status = word or {"done": Status.DONE, "na": Status.NA, "open": Status.OPEN}[filled_item.state]
        note = " ".join(part for part in (note, *filled_item.notes) if part)
        if status.needs_reason and not note:
            note = f"marked {status.value} in {filled.name} line {filled_item.line} without a reason"
            warnings.append(Diagnostic(str(filled), filled_item.line, f"{status.value} without a reason: {match.text}"))
        if status is not Status.OPEN or note:
            entries[match.id] = Entry(status, by, stamp, note, recorded_at=recorded(at))
    signoffs.extend(_table_signoffs(tokens, roles, stamp))

    run, record = start_run(project, checklist.id, release=release, change=change, change_url=change_url,
                            environment=environment, operator=operator, at=at)

    def fill(current: RunRecord) -> RunRecord:
        for key in sorted(entries):
            current = apply_entry(current, key, entries[key])
        summary = f"Imported from {filled.name}" + (f" ({front.title})" if front.title else "")
        return dataclasses.replace(current, signoffs=tuple(signoffs), summary=summary)

    record = update_record(run, fill)
    return MarkdownImport(run, record, tuple(unmatched), tuple(warnings))
