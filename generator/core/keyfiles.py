"""Private keys by name and by content: what must never be published or attached.

A PKCS#12 bundle (``.p12``/``.pfx``, or DER whose outer SEQUENCE starts with version 3)
or a PEM private key block (``-----BEGIN … PRIVATE KEY-----``, also one pasted into a page,
JSON or code) is a secret. The build refuses one under ``content/`` (files and Markdown
pages alike) and ``run mark`` refuses one as evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

PKCS12_SUFFIXES = (".p12", ".pfx")
SNIFF_BYTES = 1 << 20
"""How much of a file is searched for a PEM private key (keys are a few KB)."""

# The block with a body: base64, the Proc-Type/DEK-Info headers of old encrypted keys, and what
# a key pasted into another file carries with it: JSON's "\n" escapes (a cloud service-account
# key), Markdown's "> " quotes, comment marks, quotes of a string per line.
_PEM_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----([A-Za-z0-9+/=\s:,.\\>|#*\"';-]{16,}?)"
                      rb"-----END \1PRIVATE KEY-----")
# Every real key body has a line of base64 this long; prose naming the BEGIN and END lines has not.
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=]{40}")
# DER: SEQUENCE (short, long or indefinite length), then INTEGER 3 (the PFX version).
_PKCS12 = re.compile(rb"\x30(?:[\x00-\x7f]|\x80|\x81[\x00-\xff]|\x82[\x00-\xff]{2}|\x83[\x00-\xff]{3})\x02\x01\x03",
                     re.DOTALL)


def private_key_kind(name: str, data: bytes) -> str | None:
    """``"PKCS#12 key bundle"`` / ``"PEM private key"`` when ``data`` (the start of the file
    called ``name``) holds one, else ``None``."""
    if Path(name).suffix.lower() in PKCS12_SUFFIXES or _PKCS12.match(data):
        return "PKCS#12 key bundle"
    if pem_private_key_at(data) is not None:
        return "PEM private key"
    return None


def pem_private_key_at(data: bytes) -> int | None:
    """Offset of the first PEM private key block in ``data`` (also one quoted or escaped inside
    a Markdown page, JSON or code), else ``None``."""
    if b"PRIVATE KEY-----" not in data:
        return None
    for match in _PEM_KEY.finditer(data):
        if _BASE64_RUN.search(match.group(2)):
            return match.start()
    return None


def file_private_key_kind(path: Path) -> str | None:
    """:func:`private_key_kind` of a file on disk (its first :data:`SNIFF_BYTES`)."""
    with open(path, "rb") as handle:
        return private_key_kind(path.name, handle.read(SNIFF_BYTES))
