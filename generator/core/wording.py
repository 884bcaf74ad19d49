"""Counted nouns in messages: "1 warning", "2 warnings", "1 ledger entry"."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "ledger entry": "ledger entries", "is": "are", "was": "were"}


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` followed by the noun in the right number (English; ``plural`` when it is irregular)."""
    if number == 1:
        return f"{number} {singular}"
    return f"{number} {plural or _IRREGULAR.get(singular) or singular + 's'}"
