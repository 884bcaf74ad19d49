"""Drift: how the checklist changed since a run started.

The run always renders from its snapshot; drift only tells readers what is different
now. Items are matched by ID; an item that vanished and one that appeared in the same
section with similar text count as *reworded*.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from generator.model import Checklist
from generator.runs.record import Snapshot

_REWORD_RATIO = 0.6


@dataclass(frozen=True, slots=True)
class Drift:
    """Differences between a run's snapshot and the checklist today."""

    added: tuple[str, ...]
    """Texts of items the checklist has gained."""
    removed: tuple[str, ...]
    """Texts of items the checklist no longer has."""
    reworded: tuple[tuple[str, str], ...]
    """(then, now) texts of items whose wording changed."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.reworded)


def compute_drift(snapshot: Snapshot, checklist: Checklist | None) -> Drift | None:
    """Drift against today's checklist; ``None`` when the checklist is gone."""
    if checklist is None:
        return None
    then = {item.id: item for item in snapshot.items}
    now = {item.id: item for item in checklist.items}
    reworded: list[tuple[str, str]] = [
        (then[i].text, now[i].text) for i in then if i in now and then[i].text != now[i].text
    ]
    removed = [then[i] for i in then if i not in now]
    added = [now[i] for i in now if i not in then]
    for old in list(removed):
        candidates = [new for new in added if tuple(new.section) == tuple(old.section)]
        best = max(candidates, key=lambda new: _ratio(old.text, new.text), default=None)
        if best is not None and _ratio(old.text, best.text) >= _REWORD_RATIO:
            reworded.append((old.text, best.text))
            removed.remove(old)
            added.remove(best)
    return Drift(tuple(i.text for i in added), tuple(i.text for i in removed), tuple(reworded))


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.casefold(), b.casefold()).ratio()
