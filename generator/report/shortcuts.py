"""Two exact shortcuts in pyHanko's hot paths while a report is verified (``verify`` of 10,000
reports spent a third of its time in them). Each gives the answer pyHanko's own code gives, or
hands the case to that code:

* **Issuer and serial matches, remembered by their exact bytes.** Every report names its
  signer's certificate twice (the CMS signer identifier and the ESS signing-certificate
  attribute); pyHanko matches each against the certificate by comparing directory names, which
  re-runs the LDAP string preparation on freshly parsed names each time. The answer depends only
  on the DER bytes of the identifier and of the certificate, so it is kept under those bytes
  (and the identifier's ASN.1 type): the same signer in the next report is a dictionary hit.
* **Hex strings read with one regular expression.** pyHanko reads ``<…>`` one byte at a time
  (a signature's ``/Contents`` is thousands of hex digits). When everything up to the first
  ``>`` is hex digits and PDF whitespace — what pyHanko's reader accepts, comments aside — the
  bytes are the same, the stream is left at the same place, and the value is the same string
  object; anything else (a comment, a stray byte, no ``>``, a stream that is not in memory) is
  read by pyHanko's function, which raises what it raises.

:func:`install` puts them in place once per process; they never change what is checked.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from io import BytesIO
from typing import Any

MEMORY = 4096
"""Issuer/serial answers kept per process (cleared when full)."""
HEX_STRING = re.compile(rb"<([0-9A-Fa-f \n\r\t\f\x00]*)>")
WHITESPACE = re.compile(rb"[ \n\r\t\f\x00]+")

_installed = False


def install() -> None:
    """Put both shortcuts in place (once; a pyHanko without these functions is left alone)."""
    global _installed
    if _installed:
        return
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import general

    original_match = getattr(general, "match_issuer_serial", None)
    if callable(original_match):
        setattr(general, "match_issuer_serial", remembered_match(original_match))  # noqa: B010 - a module's function
    original_hex = getattr(generic, "read_hex_string_from_stream", None)
    if callable(original_hex):
        setattr(generic, "read_hex_string_from_stream", quick_hex(original_hex, generic.pdf_string))  # noqa: B010
    _installed = True


def remembered_match(original: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """``original(expected, cert)``, remembered under the exact DER of both."""
    known: dict[tuple[str, bytes, bytes], bool] = {}

    def match_issuer_serial(expected: Any, cert: Any) -> bool:
        try:
            key = (type(expected).__qualname__, expected.dump(), cert.dump())
        except Exception:  # noqa: BLE001 - not DER-encodable: let pyHanko decide
            return original(expected, cert)
        if key not in known:
            if len(known) >= MEMORY:
                known.clear()
            known[key] = bool(original(expected, cert))
        return known[key]

    match_issuer_serial.__wrapped__ = original  # type: ignore[attr-defined]
    return match_issuer_serial


def quick_hex(original: Callable[[Any], Any], pdf_string: Callable[[bytes], Any]) -> Callable[[Any], Any]:
    """``original(stream)`` for a hex string, in one step when it holds only digits and whitespace."""

    def read_hex_string_from_stream(stream: Any) -> Any:
        if type(stream) is not BytesIO:
            return original(stream)
        start = stream.tell()
        with stream.getbuffer() as view:
            found = HEX_STRING.match(view, start)
            digits = WHITESPACE.sub(b"", found.group(1)) if found is not None else b""
            end = found.end() if found is not None else 0
        if found is None:
            return original(stream)
        stream.seek(end)
        return pdf_string(binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits))

    read_hex_string_from_stream.__wrapped__ = original  # type: ignore[attr-defined]
    return read_hex_string_from_stream
