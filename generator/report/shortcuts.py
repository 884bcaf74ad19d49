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
* **Whitespace, tokens and names read with one regular expression.** pyHanko's tokenizer
  reads a byte at a time through generators (``read_non_whitespace``, ``read_until_delimiter``,
  and a name's bytes decoded one by one): 140 names and 500 tokens per report. On an in-memory
  stream the same bytes are found by one match, the stream is left at the same place and the
  same value is returned; a comment, the end of the stream, a ``#`` escape or any byte a
  name may not hold goes to pyHanko's function.

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
SKIP_SPACE = re.compile(rb"[ \n\r\t\f\x00]*")
TOKEN = re.compile(rb"[^ \n\r\t\f\x00()<>\[\]{}/%]*")
PLAIN_NAME = re.compile(b"[" + b"".join(re.escape(bytes([byte])) for byte in range(0x21, 0x7F)
                                         if bytes([byte]) not in b"()<>[]{}/%#") + b"]*")
"""A name's bytes that need no decoding: printable ASCII, no delimiter, no ``#`` escape."""

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
    from pyhanko.pdf_utils import misc

    # generic.py imported these two from misc: both modules' names are replaced, or neither
    makers: tuple[tuple[str, Callable[[Any], Any]], ...] = (
        ("read_non_whitespace", quick_skip), ("read_until_delimiter", quick_token))
    for name, make in makers:
        found: Any = getattr(misc, name, None)
        if callable(found) and getattr(generic, name, None) is found:
            quick = make(found)
            for module in (misc, generic):
                setattr(module, name, quick)
    decode = getattr(generic, "_decode_name", None)
    if callable(decode) and hasattr(generic, "NameObject"):
        setattr(generic, "_decode_name", quick_name(decode, generic.NameObject))  # noqa: B010
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


def quick_skip(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original(stream, seek_back, allow_eof)``: the first byte that is not PDF whitespace, read
    (or, with ``seek_back``, looked at); a comment or the end of the stream goes to ``original``."""

    def read_non_whitespace(stream: Any, seek_back: bool = False, allow_eof: bool = False) -> Any:
        if type(stream) is not BytesIO:
            return original(stream, seek_back, allow_eof)
        start = stream.tell()
        with stream.getbuffer() as view:
            spaces = SKIP_SPACE.match(view, start)
            end = spaces.end() if spaces is not None else start
            found = view[end:end + 1].tobytes()
        if not found or found == b"%":
            return original(stream, seek_back, allow_eof)
        stream.seek(end if seek_back else end + 1)
        return found

    read_non_whitespace.__wrapped__ = original  # type: ignore[attr-defined]
    return read_non_whitespace


def quick_token(original: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """``original(stream)``: the bytes up to the next whitespace or delimiter, the stream left at it."""

    def read_until_delimiter(stream: Any) -> bytes:
        if type(stream) is not BytesIO:
            return original(stream)
        start = stream.tell()
        with stream.getbuffer() as view:
            found = TOKEN.match(view, start)
            token = found.group(0) if found is not None else b""
        stream.seek(start + len(token))
        return bytes(token)

    read_until_delimiter.__wrapped__ = original  # type: ignore[attr-defined]
    return read_until_delimiter


def quick_name(original: Callable[[bytes], Any], name_object: Callable[[str], Any]) -> Callable[[bytes], Any]:
    """``original(name_bytes)``: a name without ``#`` escapes, of printable ASCII, as it stands."""

    def decode_name(name_bytes: bytes) -> Any:
        if PLAIN_NAME.fullmatch(name_bytes) is None:
            return original(name_bytes)
        return name_object("/" + name_bytes.decode("ascii"))

    decode_name.__wrapped__ = original  # type: ignore[attr-defined]
    return decode_name
