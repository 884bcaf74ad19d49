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
from hypothesis import given, settings
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

    module = generic if name == "_decode_name" else misc
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
    return [("intact", data), ("signature byte", bytes(flipped)), ("appended", data + b"%\n"),
            ("body byte", data.replace(b"/Producer", b"/Producex", 1)),
            ("hex comment", data[:contents] + b"%x\n" + data[contents:])]


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
    from pyhanko.pdf_utils import misc

    for module, name in ((generic, "read_hex_string_from_stream"), (general, "match_issuer_serial"),
                         (generic, "_decode_name"), (generic, "read_non_whitespace"), (misc, "read_non_whitespace"),
                         (generic, "read_until_delimiter"), (misc, "read_until_delimiter")):
        monkeypatch.setattr(module, name, getattr(module, name).__wrapped__)
    monkeypatch.setattr(shortcuts, "_installed", True)
    assert verdicts() == with_them
    assert with_them[0]["problems"] == [] and all(v["problems"] for v in with_them[1:4])
    assert misc.read_non_whitespace is _pyhanko("read_non_whitespace")  # the comparison ran without them
