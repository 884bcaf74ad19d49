"""Private keys by name and by content: what must never be published or attached.

A PKCS#12 bundle (``.p12``/``.pfx``, or DER whose outer SEQUENCE starts with version 3)
or a PEM private key block (``-----BEGIN … PRIVATE KEY-----``) is a secret. The build
refuses one under ``content/`` and ``run mark`` refuses one as evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

PKCS12_SUFFIXES = (".p12", ".pfx")
SNIFF_BYTES = 1 << 20
"""How much of a file is searched for a PEM private key (keys are a few KB)."""

# The block with a body (base64, and the Proc-Type/DEK-Info headers of old encrypted keys):
# a page that only mentions the BEGIN line is not a key.
_PEM_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[A-Za-z0-9+/=\s:,.-]{16,}?"
                      rb"-----END \1PRIVATE KEY-----")
# DER: SEQUENCE (short, long or indefinite length), then INTEGER 3 (the PFX version).
_PKCS12 = re.compile(rb"\x30(?:[\x00-\x7f]|\x80|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x83[\x00-\xff]{3})\x02\x01\x03",
                     re.DOTALL)


def private_key_kind(name: str, data: bytes) -> str | None:
    """``"PKCS#12 key bundle"`` / ``"PEM private key"`` when ``data`` (the start of the file
    called ``name``) holds one, else ``None``."""
    if Path(name).suffix.lower() in PKCS12_SUFFIXES or _PKCS12.match(data):
        return "PKCS#12 key bundle"
    if b"PRIVATE KEY-----" in data and _PEM_KEY.search(data):
        return "PEM private key"
    return None


def file_private_key_kind(path: Path) -> str | None:
    """:func:`private_key_kind` of a file on disk (its first :data:`SNIFF_BYTES`)."""
    with open(path, "rb") as handle:
        return private_key_kind(path.name, handle.read(SNIFF_BYTES))
