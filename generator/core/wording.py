"""Numbers as people read them: counted nouns ("1 warning", "2 warnings", "1 ledger entry") and
ledger entries numbered from 1 ("ledger entry 1" is the line at RFC 6962 leaf index 0)."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "ledger entry": "ledger entries", "is": "are", "was": "were"}


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` followed by the noun in the right number (English; ``plural`` when it is irregular)."""
    if number == 1:
        return f"{number} {singular}"
    return f"{number} {plural or _IRREGULAR.get(singular) or singular + 's'}"


def entry_number(leaf_index: int) -> int:
    """The number a person reads for a ledger entry: its line in ``ledger.jsonl``, 1 for the first.

    Ledger lines, records (``sealed.ledger_seq``), bundles and ``--json`` keep the RFC 6962 leaf
    index, which counts from 0; every message and page says ``ledger entry {leaf_index + 1}``."""
    return leaf_index + 1
