"""Two exact shortcuts in pyHanko's hot paths while a report is verified (``verify`` of 10,000
reports spent a third of its time in them). Each gives the answer pyHanko's own code gives, or
hands the case to that code:

* **Issuer and serial matches, remembered by their exact bytes.** Every report names its
  signer's certificate twice (the CMS signer identifier and the ESS signing-certificate
  attribute); pyHanko matches each against the certificate by comparing directory names, which
  re-runs the LDAP string preparation on freshly parsed names each time. The answer depends only
  on the DER bytes of the identifier and of the certificate, so it is kept under those bytes
  (and the identifier's ASN.1 type): the same signer in the next report is a dictionary hit.
* **Directory names' comparison keys, remembered by their exact bytes.** Finding a signer's
  trust anchor and issuer keys every name by asn1crypto's ``Name.hashable`` (the LDAP string
  preparation of each attribute, seven times a report). The key depends only on the name's
  DER, so it is kept under those bytes.
* **The same certificate, one object.** Every report carries its signer's certificate in its
  CMS; pyHanko parses it afresh each time, and each parse works out its names, extensions,
  key usage and public key again (7 % of a report's check). The certificates pyHanko extracts
  from a signature are replaced by the first object this thread saw with exactly the same DER
  bytes: the same parse of the same bytes, so every answer derived from it is the same; only
  its lazily parsed parts are reused. Trust is never on the object: each check builds its own
  validation context.
* **Hex strings read with one regular expression.** pyHanko reads ``<…>`` one byte at a time
  (a signature's ``/Contents`` is thousands of hex digits). When everything up to the first
  ``>`` is hex digits and PDF whitespace — what pyHanko's reader accepts, comments aside — the
  bytes are the same, the stream is left at the same place, and the value is the same string
  object; anything else (a comment, a stray byte, no ``>``, a stream that is not in memory) is
  read by pyHanko's function, which raises what it raises.
* **Literal strings without escapes or nested parentheses read with one regular expression**
  (pyHanko reads ``(…)`` a byte at a time; any ``\\``, ``(`` before the closing ``)``, or no
  closing ``)`` goes to pyHanko's function).
* **Whitespace, tokens and names read with one regular expression.** pyHanko's tokenizer
  reads a byte at a time through generators (``read_non_whitespace``, ``read_until_delimiter``,
  and a name's bytes decoded one by one): 140 names and 500 tokens per report. On an in-memory
  stream the same bytes are found by one match, the stream is left at the same place and the
  same value is returned; a comment, the end of the stream, a ``#`` escape or any byte a
  name may not hold goes to pyHanko's function.
* **Cross-reference streams read by slices.** pyHanko reads each entry of an xref stream
  field by field through ``BytesIO.read`` and ``struct``; when the stream's ``/Index`` and
  ``/W`` are plain (non-negative integers, three widths of at most 8 bytes, subsections in
  order) and its data holds every entry (and, for a strict reader, nothing more), the same
  entries are made from slices of the same decoded bytes. Anything else goes to pyHanko's
  function, which raises or skips what it does.
* **An object stream's table read once.** pyHanko reads an object kept in an object stream by
  parsing the stream's table of object numbers and offsets from its start, a token at a time,
  for every such object it is asked for (a report's 33-entry stream was read three times). The
  table is read once per stream and reader, with one regular expression, when it is exactly
  ``/N`` pairs of plain digits between PDF whitespace (what pyHanko's loop reads without error
  and to the same numbers); the object itself is then read by pyHanko's code at the same
  offset. A strict reader, a table with comments, signs, dots or too few pairs, or a stream
  that is not an object stream goes to pyHanko's method, as it stands.

:func:`install` puts them in place once per process; they never change what is checked.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
import threading
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

MEMORY = 4096
"""Issuer/serial answers kept per process (cleared when full)."""
HEX_STRING = re.compile(rb"<([0-9A-Fa-f \n\r\t\f\x00]*)>")
PLAIN_LITERAL = re.compile(rb"[^()\\]*\)")
"""The rest of a literal string with no escape and no nested parenthesis, up to its ``)``."""
WHITESPACE = re.compile(rb"[ \n\r\t\f\x00]+")
SKIP_SPACE = re.compile(rb"[ \n\r\t\f\x00]*")
TOKEN = re.compile(rb"[^ \n\r\t\f\x00()<>\[\]{}/%]*")
PLAIN_NAME = re.compile(b"[" + b"".join(re.escape(bytes([byte])) for byte in range(0x21, 0x7F)
                                         if bytes([byte]) not in b"()<>[]{}/%#") + b"]*")
"""A name's bytes that need no decoding: printable ASCII, no delimiter, no ``#`` escape."""
_SPACE = rb"[ \n\r\t\f\x00]*"
_NUMBER = rb"([0-9]+)(?![+-.0-9])"  # pyHanko reads a number up to a byte outside [+-.0-9]
TABLE_PAIR = re.compile(_SPACE + _NUMBER + _SPACE + _NUMBER)
TABLE_END = re.compile(_SPACE + rb"[^ \n\r\t\f\x00%]")
"""An object stream's table: ``/N`` pairs, then whitespace and the first object's first byte."""
TABLES = "_launchbook_object_tables"
"""The reader attribute that keeps each object stream's table (a reader is one PDF)."""

_installed = False
_CERTIFICATES = threading.local()
"""Each thread's certificates by their DER (asn1crypto's lazy parsing is not shared across threads)."""


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
    from asn1crypto import x509

    hashable = getattr(x509.Name, "hashable", None)
    if isinstance(hashable, property) and hashable.fget is not None:
        setattr(x509.Name, "hashable", property(remembered_name_key(hashable.fget)))  # noqa: B010 - a class's property
    from pyhanko.sign.validation import generic_cms

    certificate_info = getattr(generic_cms, "extract_certificate_info", None)
    if callable(certificate_info):
        setattr(generic_cms, "extract_certificate_info", one_object_per_certificate(certificate_info))  # noqa: B010
    original_hex = getattr(generic, "read_hex_string_from_stream", None)
    if callable(original_hex):
        setattr(generic, "read_hex_string_from_stream", quick_hex(original_hex, generic.pdf_string))  # noqa: B010
    literal = getattr(generic, "_read_string_literal_bytes", None)
    if callable(literal):
        setattr(generic, "_read_string_literal_bytes", quick_literal(literal))  # noqa: B010
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
    from pyhanko.pdf_utils import xref
    from pyhanko.pdf_utils.reader import PdfFileReader

    xref_stream = getattr(xref, "parse_xref_stream", None)
    if callable(xref_stream):
        setattr(xref, "parse_xref_stream", quick_xref_stream(xref_stream, xref))  # noqa: B010

    from_stream = getattr(PdfFileReader, "_get_object_from_stream", None)
    if callable(from_stream):
        setattr(PdfFileReader, "_get_object_from_stream", quick_object_stream(from_stream, generic))  # noqa: B010
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


def remembered_name_key(original: Callable[[Any], str]) -> Callable[[Any], str]:
    """``original(name)`` (asn1crypto's ``Name.hashable``), remembered under the name's exact DER."""
    known: dict[tuple[type, bytes], str] = {}

    def hashable(name: Any) -> str:
        try:
            key = (type(name), name.dump())
        except Exception:  # noqa: BLE001 - not DER-encodable: let asn1crypto decide
            return original(name)
        if key not in known:
            if len(known) >= MEMORY:
                known.clear()
            known[key] = original(name)
        return known[key]

    hashable.__wrapped__ = original  # type: ignore[attr-defined]
    return hashable


def one_object_per_certificate(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``original(signed_data)`` (pyHanko's ``SignedDataCerts``) with each certificate replaced by
    the first one this thread met with the same DER."""

    def extract_certificate_info(signed_data: Any) -> Any:
        found = original(signed_data)
        return dataclasses.replace(found, signer_cert=same_certificate(found.signer_cert),
                                   other_certs=[same_certificate(cert) for cert in found.other_certs])

    extract_certificate_info.__wrapped__ = original  # type: ignore[attr-defined]
    return extract_certificate_info


def same_certificate(cert: Any) -> Any:
    """The first certificate object of this thread with ``cert``'s exact DER (``cert`` itself if new)."""
    known: dict[tuple[type, bytes], Any] | None = getattr(_CERTIFICATES, "known", None)
    if known is None:
        known = _CERTIFICATES.known = {}
    try:
        key = (type(cert), cert.dump())
    except Exception:  # noqa: BLE001 - not DER-encodable: leave it as pyHanko made it
        return cert
    if key not in known and len(known) >= MEMORY:
        known.clear()
    return known.setdefault(key, cert)


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


def quick_literal(original: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """``original(stream)``: a literal string's bytes (its opening byte skipped, as pyHanko does),
    in one step when it has no escape and no nested parenthesis."""

    def _read_string_literal_bytes(stream: Any) -> bytes:
        if type(stream) is not BytesIO:
            return original(stream)
        start = stream.tell()
        with stream.getbuffer() as view:
            found = PLAIN_LITERAL.match(view, start + 1) if len(view) > start else None
            text = bytes(found.group(0)[:-1]) if found is not None else b""
            end = found.end() if found is not None else 0
        if found is None:
            return original(stream)
        stream.seek(end)
        return text

    _read_string_literal_bytes.__wrapped__ = original  # type: ignore[attr-defined]
    return _read_string_literal_bytes


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


def _plain_numbers(value: Any) -> list[int] | None:
    if not isinstance(value, list) or any(type(n) is bool or not isinstance(n, int) or n < 0 for n in value):
        return None
    return [int(n) for n in value]


def xref_layout(stream: Any) -> tuple[list[tuple[int, int]], list[int]] | None:
    """An xref stream's subsections and field widths, when plain; ``None`` sends it to pyHanko."""
    index = _plain_numbers(stream.get("/Index", [0, stream.get("/Size")]))
    widths = _plain_numbers(stream.get("/W"))
    if index is None or widths is None or len(index) % 2 or len(widths) != 3 or max(widths) > 8:
        return None
    sections = list(zip(index[::2], index[1::2], strict=True))
    ends = [0] + [start + size for start, size in sections]
    if any(start < end for (start, _), end in zip(sections, ends, strict=False)):
        return None  # pyHanko asserts subsections increase
    return sections, widths


def quick_xref_stream(original: Callable[..., Any], xref: Any) -> Callable[..., Any]:
    """``original(xref_stream, strict)``: the entries of a plain xref stream, from slices of its data."""
    from pyhanko.pdf_utils.decode_limits import DecodePurpose

    entry, kind, in_stream = xref.XRefEntry, xref.XRefType, xref.ObjStreamRef

    def parse_xref_stream(xref_stream: Any, strict: bool = True) -> Iterator[Any]:
        layout = xref_layout(xref_stream)
        if layout is None:
            yield from original(xref_stream, strict)
            return
        sections, widths = layout
        data = xref_stream.read_data(DecodePurpose.XREF_STREAM, expected_size=xref._expected_xref_stream_size(
            xref_stream.get("/Index", [0, xref_stream.get("/Size")]), xref_stream.get("/W")))
        row = sum(widths)
        needed = row * sum(size for _, size in sections)
        if len(data) < needed or (strict and len(data) > needed):
            yield from original(xref_stream, strict)  # the data is decoded once: pyHanko reads the same bytes
            return
        w0, w1, w2 = widths
        at = 0
        for start, size in sections:
            for num in range(start, start + size):
                first = _field(data, at, w0, 1)
                second = _field(data, at + w0, w1, 0)
                third = _field(data, at + w0 + w1, w2, 0)
                at += row
                if first == 1:
                    yield entry(xref_type=kind.STANDARD, idnum=num, location=second, generation=third)
                elif first == 2:
                    yield entry(xref_type=kind.IN_OBJ_STREAM, idnum=num, location=in_stream(second, third))
                elif first == 0:
                    yield entry(xref_type=kind.FREE, idnum=num, generation=third, location=None)

    parse_xref_stream.__wrapped__ = original  # type: ignore[attr-defined]
    return parse_xref_stream


def _field(data: bytes, at: int, width: int, default: int) -> int:
    """One field of an xref stream entry as pyHanko's ``convert_to_int`` reads it (8 bytes: signed)."""
    if width == 0:
        return default
    return int.from_bytes(data[at:at + width], "big", signed=width == 8)


def object_table(stream: Any, generic: Any) -> tuple[bytes, int, int, dict[int, int]] | None:
    """An object stream's decoded bytes, ``/First``, ``/N`` and first offset of each object
    number, when its table is plain; ``None`` sends the case to pyHanko."""
    from pyhanko.pdf_utils.decode_limits import DecodePurpose

    if not isinstance(stream, generic.StreamObject) or stream.get("/Type") != "/ObjStm":
        return None
    count, first = stream.get("/N"), stream.get("/First")
    if type(count) is not generic.NumberObject or type(first) is not generic.NumberObject or count < 0:
        return None
    try:
        data = stream.read_data(DecodePurpose.OBJECT_STREAM)
    except Exception:  # noqa: BLE001 - pyHanko's method raises what it raises
        return None
    offsets: dict[int, int] = {}
    at = 0
    for _ in range(count):
        pair = TABLE_PAIR.match(data, at)
        if pair is None:
            return None
        try:
            number, offset = int(pair.group(1)), int(pair.group(2))
        except ValueError:  # more digits than int() takes: pyHanko reads the table up to the object it wants
            return None
        offsets.setdefault(number, offset)
        at = pair.end()
    if TABLE_END.match(data, at) is None:
        return None
    return data, int(first), int(count), offsets


def quick_object_stream(original: Callable[..., Any], generic: Any) -> Callable[..., Any]:
    """``original(reader, idnum, stmnum, idx)`` for a reader that is not strict: the stream's table
    read once, the object read by pyHanko's code at its offset."""

    def _get_object_from_stream(self: Any, idnum: int, stmnum: int, idx: int) -> Any:
        if self.strict:
            return original(self, idnum, stmnum, idx)
        tables = self.__dict__.setdefault(TABLES, {})
        if stmnum not in tables:
            tables[stmnum] = object_table(generic.Reference(stmnum, 0, self).get_object(), generic)
        table = tables[stmnum]
        if table is None:
            return original(self, idnum, stmnum, idx)
        data, first, count, offsets = table
        if not 0 <= idx < count or idnum not in offsets:
            return generic.NullObject()
        return read_stored_object(self, BytesIO(data), first + offsets[idnum], idnum, generic)

    _get_object_from_stream.__wrapped__ = original  # type: ignore[attr-defined]
    return _get_object_from_stream


def read_stored_object(reader: Any, stream: BytesIO, start: int, idnum: int, generic: Any) -> Any:
    """The end of pyHanko's ``_get_object_from_stream`` (a reader that is not strict), as it stands."""
    from pyhanko.pdf_utils import misc

    stream.seek(start)
    try:
        obj = generic.read_object(stream, generic.Reference(idnum, 0, reader))
    except (misc.PdfStreamError, misc.PdfReadError):
        return generic.NullObject()
    if isinstance(obj, (generic.StreamObject, generic.IndirectObject)):
        return obj
    generic.read_non_whitespace(stream, seek_back=True, allow_eof=True)
    return obj
