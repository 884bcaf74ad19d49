"""The shortcuts in pyHanko's hot paths (generator/report/shortcuts.py) give pyHanko's own answers:
the hex-string reader, the whitespace skipper, the token reader and the name decoder on any input
(same value, same stream position, same error), the remembered
issuer/serial match for the same and for different certificates, and ``verify_pdf`` the same
verdicts on intact and damaged reports with and without them."""

from __future__ import annotations

import dataclasses
import datetime
import textwrap
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.report import shortcuts
from generator.report.verify import load_trust, verify_pdf

HEXISH = st.lists(st.sampled_from(list(b"0123456789abcdefABCDEF \n\r\t\f\x00%<>#xZ")), max_size=40).map(bytes)


def _outcome(reader: Any, data: bytes, at: int) -> tuple[Any, ...]:
    stream = BytesIO(data)
    stream.seek(at)
    try:
        value = reader(stream)
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer
        return ("error", type(exc).__name__, str(exc))
    return (type(value).__name__, value, stream.tell())


@settings(max_examples=400, deadline=None)
@given(before=st.binary(max_size=5), body=HEXISH, after=st.binary(max_size=8))
def test_hex_strings_read_as_pyhanko_reads_them(before: bytes, body: bytes, after: bytes) -> None:
    from pyhanko.pdf_utils import generic

    original = getattr(generic.read_hex_string_from_stream, "__wrapped__", generic.read_hex_string_from_stream)
    quick = shortcuts.quick_hex(original, generic.pdf_string)
    data = before + b"<" + body + after
    assert _outcome(quick, data, len(before)) == _outcome(original, data, len(before))


PDFISH = st.lists(st.sampled_from(list(b" \n\r\t\f\x00%()<>[]{}/#aZ09.-+~\x7f\x80\xc3\xa9")), max_size=24).map(bytes)


def _pyhanko(name: str) -> Any:
    from pyhanko.pdf_utils import generic, misc

    module = generic if name in ("_decode_name", "_read_string_literal_bytes") else misc
    found = getattr(module, name)
    return getattr(found, "__wrapped__", found)


@settings(max_examples=600, deadline=None)
@given(before=st.binary(max_size=3), body=PDFISH, seek_back=st.booleans(), allow_eof=st.booleans())
def test_whitespace_is_skipped_as_pyhanko_skips_it(before: bytes, body: bytes, seek_back: bool,
                                                   allow_eof: bool) -> None:
    original = _pyhanko("read_non_whitespace")
    quick = shortcuts.quick_skip(original)
    data = before + body
    assert (_outcome(lambda s: quick(s, seek_back, allow_eof), data, len(before))
            == _outcome(lambda s: original(s, seek_back, allow_eof), data, len(before)))


@settings(max_examples=600, deadline=None)
@given(before=st.binary(max_size=3), body=PDFISH)
def test_tokens_are_read_as_pyhanko_reads_them(before: bytes, body: bytes) -> None:
    original = _pyhanko("read_until_delimiter")
    data = before + body
    assert _outcome(shortcuts.quick_token(original), data, len(before)) == _outcome(original, data, len(before))


@settings(max_examples=600, deadline=None)
@given(body=PDFISH | st.binary(max_size=12))
def test_names_are_decoded_as_pyhanko_decodes_them(body: bytes) -> None:
    from pyhanko.pdf_utils import generic

    original = _pyhanko("_decode_name")
    quick = shortcuts.quick_name(original, generic.NameObject)

    def outcome(decode: Any) -> tuple[Any, ...]:
        try:
            value = decode(body)
        except Exception as exc:  # noqa: BLE001 - the error is part of the answer
            return ("error", type(exc).__name__, str(exc))
        return (type(value).__name__, str(value))

    assert outcome(quick) == outcome(original)


LITERALISH = st.lists(st.sampled_from(list(b"()\\nrt0718 \n\r%<>aZ\x00\xc3")), max_size=24).map(bytes)


@settings(max_examples=600, deadline=None)
@given(before=st.binary(max_size=3), opening=st.sampled_from([b"(", b"x", b""]), body=LITERALISH)
def test_literal_strings_are_read_as_pyhanko_reads_them(before: bytes, opening: bytes, body: bytes) -> None:
    original = _pyhanko("_read_string_literal_bytes")
    data = before + opening + body
    assert (_outcome(shortcuts.quick_literal(original), data, len(before))
            == _outcome(original, data, len(before)))


def _xref_events(parse: Any, stream: Any, strict: bool) -> list[Any]:
    """Every entry a parse yields, then the error that ended it (pyHanko's is a generator)."""
    events: list[Any] = []
    try:
        for entry in parse(stream, strict):
            events.append(entry)
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer
        events.append(("error", type(exc).__name__, str(exc)))
    return events


NUMBERISH = st.integers(min_value=-2, max_value=9)


@settings(max_examples=500, deadline=None)
@given(index=st.none() | st.lists(NUMBERISH, max_size=5), size=NUMBERISH,
       widths=st.none() | st.lists(NUMBERISH, min_size=2, max_size=4), data=st.binary(max_size=40),
       types=st.lists(st.integers(min_value=0, max_value=3), max_size=6), strict=st.booleans())
@example(index=None, size=2, widths=[1, 8, 1], data=(b"\x01" + b"\xff" * 8 + b"\x00") * 2, types=[], strict=False)  # 8 bytes: signed
@example(index=None, size=1, widths=[0, 2, 1], data=b"\x01\x02\x03", types=[], strict=True)  # no type field
def test_xref_streams_are_read_as_pyhanko_reads_them(index: list[int] | None, size: int, widths: list[int] | None,
                                                     data: bytes, types: list[int], strict: bool) -> None:
    from pyhanko.pdf_utils import generic, xref

    original = getattr(xref.parse_xref_stream, "__wrapped__", xref.parse_xref_stream)
    quick = shortcuts.quick_xref_stream(original, xref)
    # entries of type 0-3 (3: unknown) with the fields that follow, as often as not well formed
    body = b"".join(bytes([kind]) + data[n * 4:n * 4 + 4] for n, kind in enumerate(types)) if types else data
    fields: dict[str, Any] = {"/Type": generic.NameObject("/XRef"), "/Size": generic.NumberObject(size)}
    if index is not None:
        fields["/Index"] = generic.ArrayObject(generic.NumberObject(n) for n in index)
    if widths is not None:
        fields["/W"] = generic.ArrayObject(generic.NumberObject(n) for n in widths)

    def stream() -> Any:
        return generic.StreamObject(generic.DictionaryObject(fields), stream_data=body)

    assert _xref_events(quick, stream(), strict) == _xref_events(original, stream(), strict)


def test_a_plain_xref_stream_is_the_shortcut() -> None:
    from pyhanko.pdf_utils import generic, xref

    calls: list[Any] = []

    def theirs(stream: Any, strict: bool) -> Any:
        calls.append(stream)
        yield "theirs"

    quick = shortcuts.quick_xref_stream(theirs, xref)
    fields = {"/Size": generic.NumberObject(3), "/W": generic.ArrayObject([generic.NumberObject(n) for n in (1, 2, 1)])}
    plain = generic.StreamObject(generic.DictionaryObject(fields), stream_data=b"\0\0\0\xff\1\0\x10\0\2\0\5\1")
    assert [(e.xref_type.name, e.idnum, e.location, e.generation) for e in quick(plain, True)] == [
        ("FREE", 0, None, 255), ("STANDARD", 1, 16, 0), ("IN_OBJ_STREAM", 2, xref.ObjStreamRef(5, 1), 0)]
    assert not calls
    short = generic.StreamObject(generic.DictionaryObject(fields), stream_data=b"\0\0\0")
    assert list(quick(short, False)) == ["theirs"] and len(calls) == 1


def _object_stream_reader(table: bytes, objects: bytes, count: Any, first: Any, kind: str = "/ObjStm") -> Any:
    """A reader (not strict) whose every reference resolves to one object stream."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    fields = {"/Type": generic.NameObject(kind), "/N": count, "/First": first}
    stream = generic.StreamObject(generic.DictionaryObject(fields), stream_data=table + objects)
    reader = PdfFileReader.__new__(PdfFileReader)
    reader.strict = False
    reader.get_object = lambda ref, *args, **kwargs: stream  # type: ignore[method-assign]
    return reader


def _stored(method: Any, reader: Any, idnum: int, idx: int) -> tuple[Any, ...]:
    try:
        value = method(reader, idnum, 7, idx)
    except Exception as exc:  # noqa: BLE001 - the error is part of the answer
        return ("error", type(exc).__name__, str(exc))
    from pyhanko.pdf_utils import generic

    if isinstance(value, generic.IndirectObject):
        return ("IndirectObject", value.idnum, value.generation)
    return (type(value).__name__, None if isinstance(value, generic.NullObject) else value)


TABLEISH = st.lists(st.sampled_from([b"1", b"2", b"3", b"12", b" ", b"  ", b"\n", b"%c\n", b"+", b".", b"-", b",",
                                     b"0", b"9", b"x"]), max_size=16).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(table=TABLEISH, count=st.integers(min_value=-1, max_value=4), extra=st.integers(min_value=-2, max_value=3),
       objects=st.sampled_from([b"<</A 1>> 42 (x) [1 2] 3 0 R", b"  true /N 7 0 R", b"", b"(open"]),
       idx=st.integers(min_value=-1, max_value=4))
@example(table=b"3 2.5 ", count=1, extra=0, objects=b"<</A 1>> 42", idx=0)  # a number ends at no digit but [+-.]
@example(table=b"3 0 3 4 ", count=2, extra=0, objects=b"<</A 1>> 42", idx=1)  # the first of a repeated number
@example(table=b"4 0 " + b"9" * 5000 + b" 9 ", count=2, extra=0, objects=b"<</A 1>> 42", idx=0)  # int() refuses
@example(table=b"9" * 5000 + b" 0 4 9 ", count=2, extra=0, objects=b"<</A 1>> 42", idx=1)
def test_objects_in_object_streams_are_read_as_pyhanko_reads_them(table: bytes, count: int, extra: int,
                                                                  objects: bytes, idx: int) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    original = getattr(PdfFileReader._get_object_from_stream, "__wrapped__", PdfFileReader._get_object_from_stream)
    quick = shortcuts.quick_object_stream(original, generic)
    first = generic.NumberObject(max(0, len(table) + extra))
    theirs = _object_stream_reader(table, objects, generic.NumberObject(count), first)
    ours = _object_stream_reader(table, objects, generic.NumberObject(count), first)  # one reader: its table kept
    for idnum in range(5):
        assert _stored(quick, ours, idnum, idx) == _stored(original, theirs, idnum, idx)


def test_an_object_stream_table_is_read_once_and_odd_streams_go_to_pyhanko() -> None:
    from pyhanko.pdf_utils import generic

    calls: list[int] = []
    quick = shortcuts.quick_object_stream(lambda reader, idnum, stmnum, idx: calls.append(idnum) or "theirs", generic)
    objects = b"<</A 1>> 42 (x)"
    reader = _object_stream_reader(b"4 0 5 9 6 12 ", objects, generic.NumberObject(3), generic.NumberObject(13))
    assert [quick(reader, n, 7, i) for n, i in ((4, 0), (5, 1), (6, 2))] == [{"/A": 1}, 42, "x"] and not calls
    assert reader.__dict__[shortcuts.TABLES][7][3] == {4: 0, 5: 9, 6: 12}  # read once, kept on the reader
    for odd in (b"4 0 %c\n5 9 6 12 ", b"4 0 5 +9 6 12 ", b"4 0 5 9 "):
        reader = _object_stream_reader(odd, objects, generic.NumberObject(3), generic.NumberObject(len(odd)))
        assert quick(reader, 4, 7, 0) == "theirs"
    other = _object_stream_reader(b"4 0 ", objects, generic.NumberObject(1), generic.NumberObject(4), kind="/XRef")
    assert quick(other, 4, 7, 0) == "theirs" and len(calls) == 4


def test_plain_names_are_the_shortcut_and_others_go_to_pyhanko() -> None:
    from pyhanko.pdf_utils import generic

    calls: list[bytes] = []
    quick = shortcuts.quick_name(lambda raw: calls.append(raw) or "theirs", generic.NameObject)
    assert quick(b"ByteRange") == "/ByteRange" and type(quick(b"A.b-c_d")) is generic.NameObject and not calls
    for escaped in (b"A#20B", b"caf\xc3\xa9", b"a b", b"a/b", b"a(b"):
        assert quick(escaped) == "theirs"
    assert len(calls) == 5


def test_hex_strings_in_a_stream_not_in_memory_go_to_pyhanko() -> None:
    calls: list[Any] = []
    quick = shortcuts.quick_hex(lambda stream: calls.append(stream) or "theirs", bytes)

    class Other(BytesIO):
        pass

    assert quick(Other(b"<41>")) == "theirs" and len(calls) == 1
    assert quick(BytesIO(b"<4%1>")) == "theirs" and len(calls) == 2  # a comment: pyHanko's rules
    assert quick(BytesIO(b"<414")) == "theirs" and len(calls) == 3  # no end
    assert quick(BytesIO(b"<4 1 4>")) == b"\x41\x40" and len(calls) == 3


def test_a_remembered_match_is_the_original_answer(signing_key: Any, tmp_path: Path) -> None:
    from asn1crypto import cms
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign import general

    from generator.report.keys import create_key

    ours = load_cert_from_pemder(str(signing_key.certificate))
    theirs = load_cert_from_pemder(str(create_key(tmp_path, "Someone Else").certificate))
    calls: list[tuple[bytes, bytes]] = []
    pyhanko_match = getattr(general.match_issuer_serial, "__wrapped__", general.match_issuer_serial)

    def original(expected: Any, cert: Any) -> bool:
        calls.append((expected.dump(), cert.dump()))
        return bool(pyhanko_match(expected, cert))

    match = shortcuts.remembered_match(original)
    sid = cms.IssuerAndSerialNumber({"issuer": ours.issuer, "serial_number": ours.serial_number})
    assert match(sid, ours) is True and match(sid, ours) is True
    assert len(calls) == 1  # the same bytes: answered from memory
    assert match(sid, theirs) is False and len(calls) == 2  # another certificate is asked anew
    again = cms.IssuerAndSerialNumber.load(sid.dump())
    assert match(again, ours) is True and len(calls) == 2  # equal bytes parsed afresh: the same answer


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> list[tuple[str, bytes]]:
    """A sealed report, and copies damaged in the ways verify must still see."""
    from generator.archive.seal import close_run
    from generator.runs.start import start_run
    from tests.helpers import RUN_SITE

    project = tmp_path_factory.mktemp("shortcuts") / "project"
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))
    run, record = start_run(project, "deploy", release="v1", at="2026-07-01T08:00:00Z")
    close_run(project, record.id, key=str(signing_key.pkcs12), force=True, at="2026-07-01T08:30:00Z")
    data = run.report.read_bytes()
    contents = data.index(b"/Contents <") + len(b"/Contents <")
    flipped = bytearray(data)
    flipped[contents + 40] = ord("0") if flipped[contents + 40] != ord("0") else ord("1")
    from generator.report.keys import create_key

    other = create_key(tmp_path_factory.mktemp("other-key"), "Other Sealer")
    run, record = start_run(project, "deploy", release="v2", at="2026-07-02T08:00:00Z")
    close_run(project, record.id, key=str(other.pkcs12), force=True, at="2026-07-02T08:30:00Z")
    return [("intact", data), ("signature byte", bytes(flipped)), ("appended", data + b"%\n"),
            ("body byte", data.replace(b"/Producer", b"/Producex", 1)),
            ("hex comment", data[:contents] + b"%x\n" + data[contents:]),
            ("other signer", run.report.read_bytes()), ("intact again", data)]


def test_verify_finds_the_same_with_and_without_the_shortcuts(reports: list[tuple[str, bytes]], signing_key: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import general

    trust = load_trust([Path(signing_key.certificate)])
    now = datetime.datetime.now(datetime.UTC)

    def verdicts() -> list[Any]:
        return [dataclasses.asdict(verify_pdf(data, name, trust, [], now)) for name, data in reports]

    shortcuts.install()
    with_them = verdicts()
    from asn1crypto import x509
    from pyhanko.pdf_utils import misc, xref
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import generic_cms

    for module, name in ((generic, "read_hex_string_from_stream"), (general, "match_issuer_serial"),
                         (generic, "_decode_name"), (generic, "read_non_whitespace"), (misc, "read_non_whitespace"),
                         (generic, "read_until_delimiter"), (misc, "read_until_delimiter"),
                         (generic, "_read_string_literal_bytes"), (xref, "parse_xref_stream"),
                         (PdfFileReader, "_get_object_from_stream"),
                         (generic_cms, "extract_certificate_info")):
        monkeypatch.setattr(module, name, getattr(module, name).__wrapped__)
    monkeypatch.setattr(x509.Name, "hashable", property(x509.Name.hashable.fget.__wrapped__))
    monkeypatch.setattr(shortcuts, "_installed", True)
    assert verdicts() == with_them
    assert with_them[0]["problems"] == [] and all(v["problems"] for v in with_them[1:4])
    assert misc.read_non_whitespace is _pyhanko("read_non_whitespace")  # the comparison ran without them


def test_one_object_per_certificate_and_trust_stays_with_each_check(reports: list[tuple[str, bytes]],
                                                                   signing_key: Any) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import generic_cms

    shortcuts.install()
    found = dict(reports)

    def signer(data: bytes) -> Any:
        signature = PdfFileReader(BytesIO(data), strict=False).embedded_signatures[0]
        return generic_cms.extract_certificate_info(signature.signed_data).signer_cert

    first, again, other = signer(found["intact"]), signer(found["intact again"]), signer(found["other signer"])
    assert first is again and first is not other and first.dump() != other.dump()
    trust = load_trust([Path(signing_key.certificate)])
    now = datetime.datetime.now(datetime.UTC)
    verdicts = [verify_pdf(found[name], name, trust, [], now).verdict for name in ("intact", "other signer", "intact")]
    assert verdicts == ["valid and trusted", "valid signature, untrusted signer", "valid and trusted"]
    assert verify_pdf(found["intact"], "intact", [], [], now).verdict == "valid signature, untrusted signer"


NAMEISH = st.lists(st.tuples(st.sampled_from(["common_name", "organization_name", "country_name", "organizational_unit_name"]),
                             st.text(alphabet="aA bB\u00e9\u00c9 \t.-", min_size=1, max_size=8)),
                   min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(first=NAMEISH, second=NAMEISH)
def test_a_remembered_name_key_is_asn1cryptos_own(first: list[tuple[str, str]], second: list[tuple[str, str]]) -> None:
    """Names' comparison keys (LDAP-prepared: case and spaces folded) remembered by their DER are
    the keys asn1crypto works out, for equal names, names that only compare equal, and others."""
    from asn1crypto import x509

    shortcuts.install()
    original = x509.Name.hashable.fget.__wrapped__

    def name(pairs: list[tuple[str, str]]) -> Any:
        values = {kind: value.strip() or "x" for kind, value in pairs}
        if "country_name" in values:
            values["country_name"] = (values["country_name"] + "XX")[:2].upper()
        return x509.Name.build(values)

    for built in (name(first), name(second), name(first)):
        again = x509.Name.load(built.dump())  # parsed afresh, as from a signature
        assert again.hashable == original(again) == built.hashable
    assert (name(first).hashable == name(second).hashable) == (original(name(first)) == original(name(second)))
