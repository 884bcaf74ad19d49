"""Times in a run record that cannot be true, and entries back-filled with ``--at``.

A run starts, its items are marked and its sign-offs given, then it finishes and is sealed.
Anything dated outside that window (beyond :data:`TOLERANCE`, for clocks that disagree), a
run that finishes before it starts, an item's later entry dated before its earlier one, a
seal time that is not the finishing time, a report signed far from the sealing without the
close being marked back-filled, or a time in the future, is an error. A sign-off after the
finish is allowed when marked ``retroactive``. Entries made with ``--at`` carry
``recorded_at`` (when they were really written) and are reported as back-filled notes.
The same list feeds ``launchbook verify``, the run page and ``run show``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import SourceError
from generator.runs.record import RunRecord, parse_time, utc_now

TOLERANCE = timedelta(minutes=5)
"""How far a time may stray outside the run's window before it is impossible."""


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def _timed(record: RunRecord) -> Iterator[tuple[str, str, str, str]]:
    """(item id, what, at, recorded_at) for every item entry, oldest first per item."""
    for item_id in sorted(record.results):
        result = record.results[item_id]
        for entry in (*result.history, result.current):
            yield item_id, f"item {item_id} ({entry.status.value} by {entry.by or '-'})", entry.at, entry.recorded_at


def time_problems(record: RunRecord, shown: str, now: str | None = None) -> list[Diagnostic]:
    """Every impossible time in ``record`` (errors) and every back-filled entry (notes)."""
    found: list[Diagnostic] = []

    def error(message: str) -> None:
        found.append(Diagnostic(shown, None, message, "", Severity.ERROR))

    def note(message: str) -> None:
        found.append(Diagnostic(shown, None, message, "", Severity.INFO))

    latest = parse_time(now or utc_now()) + TOLERANCE
    start, finish = _moment(record.started_at), _moment(record.finished_at)
    if start is not None and start > latest:
        error(f"run starts in the future ({record.started_at})")
    if start is not None and finish is not None and finish < start:
        error(f"run finishes ({record.finished_at}) before it starts ({record.started_at})")

    def window(what: str, at: str, *, after_ok: bool | None = None) -> None:
        """``after_ok``: None for items, else whether a sign-off may follow the finish (retroactive)."""
        moment = _moment(at)
        if moment is None:
            return
        if moment > latest:
            error(f"{what} at {at} is dated in the future")
        elif start is not None and moment < start - TOLERANCE:
            error(f"{what} at {at} is dated before the run started ({record.started_at})")
        elif finish is not None and moment > finish + TOLERANCE and not after_ok:
            error(f"{what} at {at} is dated after the run finished ({record.finished_at})"
                  + (" and is not marked retroactive" if after_ok is False else ""))

    previous: dict[str, datetime] = {}
    for item, what, at, recorded in _timed(record):
        window(what, at)
        moment = _moment(at)
        if moment is not None and item in previous and moment < previous[item] - TOLERANCE:
            error(f"{what} at {at} is dated before the item's earlier entry")
        if moment is not None:
            previous[item] = moment
        if recorded:
            note(f"{what} back-filled: dated {at}, recorded {recorded}")
    for signoff in record.signoffs:
        what = f"sign-off by {signoff.name} ({signoff.role})"
        window(what, signoff.at, after_ok=signoff.retroactive)
        moment = _moment(signoff.at)
        if signoff.recorded_at:
            note(f"{what} back-filled: dated {signoff.at}, recorded {signoff.recorded_at}")
        if signoff.retroactive and moment is not None and finish is not None and moment > finish:
            note(f"{what} at {signoff.at} is retroactive (given after the run finished)")
    found.extend(_seal_problems(record, shown, finish))
    return found


def _seal_problems(record: RunRecord, shown: str, finish: datetime | None) -> list[Diagnostic]:
    sealed = record.sealed
    if sealed is None:
        return []
    found: list[Diagnostic] = []
    closed = _moment(sealed.get("closed_at"))
    if closed is None or finish is None or closed != finish:
        found.append(Diagnostic(shown, None, f"sealed at {sealed.get('closed_at')!r} but the record says it finished "
                                             f"at {record.finished_at!r}", "", Severity.ERROR))
    recorded = sealed.get("recorded_at")
    signed = _moment((record.extra.get("report") or {}).get("signed_at"))
    if isinstance(recorded, str) and recorded:
        found.append(Diagnostic(shown, None, f"close back-filled: finished {record.finished_at}, sealed {recorded}",
                                "", Severity.INFO))
    elif closed is not None and signed is not None and abs(signed - closed) > TOLERANCE:
        found.append(Diagnostic(shown, None, f"report signed at {(record.extra.get('report') or {}).get('signed_at')}"
                                             f", far from the seal time {sealed.get('closed_at')}, and the close is "
                                             "not marked back-filled", "", Severity.ERROR))
    return found


def check_times(record: RunRecord, shown: str, before: RunRecord | None = None) -> None:
    """Refuse to write ``record`` when it has an impossible time ``before`` did not have."""
    old = {d.message for d in time_problems(before, shown)} if before is not None else set()
    new = [d for d in time_problems(record, shown) if d.severity is Severity.ERROR and d.message not in old]
    if new:
        raise SourceError(f"{new[0].message}; a time that cannot be true is refused (back-fill with --at inside "
                          "the run's window)", shown)
