"""A run between open and sealed: what an interrupted ``run close`` leaves behind.

Closing writes three files, each atomically: the signed PDF, the sealed record, the ledger
line. A crash between them leaves a PDF beside an open record, or a sealed record without
its ledger line. ``verify`` names both; ``run close`` completes or rolls them back.
"""

from __future__ import annotations

from generator.runs.digest import RunHead
from generator.runs.record import RunRecord


def half_closed(record: RunRecord | RunHead, pdf_exists: bool, in_ledger: bool) -> str:
    """Why a run is half-closed (an interrupted ``run close``), or ``""``."""
    if record.sealed is None and pdf_exists:
        return ("half-closed: a report PDF lies beside an open record (the close was interrupted after "
                "writing the PDF); `launchbook run close` rolls it back and closes again")
    if record.sealed is not None and not in_ledger and pdf_exists:
        return ("half-closed: run is sealed but has no ledger entry (the close was interrupted before the ledger "
                "line, or the line was removed); `launchbook run close` completes it, or rolls it back to open if "
                "the ledger has moved on")
    return ""
