"""launchbook: Markdown checklists -> runbook site and signed go-live reports."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """sha256 of launchbook's version and every module of its code: what parses, summaries,
    pages and the up-to-date check depend on besides their inputs (any edit changes it)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
