"""Check a sealed report: signature intact, covering the whole file, signer trusted,
embedded record readable and equal to the archived record.

Every revision after the seal is put through pyHanko's modification analysis against the
seal's DocMDP level (P=2: form filling and signing): approvers may add signatures, nothing
else may change, and a later signature never blesses a change it covers. The record read is
the one in the *sealed* revision (the byte prefix the certification signature covers).

Each problem is reported (not only the first). "Valid signature, untrusted signer" is
distinct from "valid and trusted": a team without a PKI can still see that the bytes
are intact, and learns that it has not told launchbook whom to trust.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from generator.core.errors import ConfigError, SourceError
from generator.report.longterm import EOF_MARK, sealed_prefix_intact
from generator.report.render import MANIFEST_NAME, RECORD_NAME
from generator.report.shortcuts import install as install_shortcuts
from generator.report.signatures import SignatureCheck, check_signature, covered_bytes
from generator.runs.record import canonical_json
from generator.runs.store import find_run, read_record


@dataclass(slots=True)
class PdfVerification:
    """Everything ``launchbook verify`` learned about one PDF."""

    path: str
    """The file checked."""
    signatures: list[SignatureCheck] = field(default_factory=list)
    """Signatures found, in document order."""
    embedded: dict[str, bytes] = field(default_factory=dict)
    """Embedded files by name."""
    record: dict[str, Any] | None = None
    """The embedded run record, parsed."""
    record_matches: bool | None = None
    """Whether it equals the archived record (None: no archived record to compare)."""
    problems: list[str] = field(default_factory=list)
    """Everything wrong, in words."""
    timestamps: list[SignatureCheck] = field(default_factory=list)
    """Document timestamps (PAdES B-LTA) added after the signatures, in document order."""
    sealed_sha256: str = ""
    """sha256 of the sealed revision (the bytes the certification signature covers)."""
    sealed_size: int = 0
    """Length of the sealed revision."""

    @property
    def approvals(self) -> list[SignatureCheck]:
        """Signatures added after the seal."""
        return self.signatures[1:]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def level(self) -> str:
        """The seal's PAdES level (its first signature)."""
        return self.signatures[0].level if self.signatures else ""

    @property
    def verdict(self) -> str:
        if not self.signatures:
            return "not signed"
        if any(not (s.intact and s.valid) for s in [*self.signatures, *self.timestamps]):
            return "invalid signature"
        if not max([*self.signatures, *self.timestamps], key=lambda s: s.revision).whole_file:
            return "modified after signing"
        if not all(s.changes_allowed for s in [*self.signatures, *self.timestamps]):
            return "modified after signing"
        if any(s.certificate_problems for s in self.signatures):
            return "valid signature, signer certificate not valid at the signing time"
        if not all(s.trusted for s in self.signatures):
            return "valid signature, untrusted signer"
        return "valid and trusted" if self.ok else "valid and trusted, but see problems"

    def to_data(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "verdict": self.verdict,
            "pades_level": self.level,
            "signatures": [s.to_data() for s in self.signatures],
            "document_timestamps": [s.to_data() for s in self.timestamps],
            "sealed_revision": {"sha256": self.sealed_sha256, "size": self.sealed_size},
            "embedded_files": sorted(self.embedded),
            "run": (self.record or {}).get("id"),
            "record_matches": self.record_matches,
            "problems": list(self.problems),
        }


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pyHanko logs expected validation failures with tracebacks; we report them ourselves."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


def load_trust(paths: list[Path]) -> list[Any]:
    from pyhanko.keys import load_cert_from_pemder


    certs = []
    for path in paths:
        try:
            certs.append(load_cert_from_pemder(str(path)))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read trusted certificate {path}: {exc}") from None
    return certs


def trust_from_der(blobs: list[bytes]) -> list[Any]:
    """Certificates from their DER bytes, as :func:`load_trust` loads them. The way trust
    crosses to another process: an unpickled asn1crypto certificate fails to parse there."""
    from pyhanko.keys import load_certs_from_pemder_data

    return [cert for blob in blobs for cert in load_certs_from_pemder_data(blob)]


def embedded_files(reader: Any) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return files
    for index in range(0, len(names), 2):
        spec = names[index + 1].get_object()
        files[str(names[index])] = spec["/EF"]["/F"].get_object().data
    return files


def verify_pdf(data: bytes, path: str, trust: list[Any], tsa_trust: list[Any] | None = None,
               now: datetime.datetime | None = None) -> PdfVerification:
    """Verify one sealed report on its own: signatures, changes after each, coverage, trust,
    signing time, embedded files (as sealed).

    ``tsa_trust``: roots of the timestamp authorities whose time counts as proven; ``now``:
    the time of the check (a test can look from the future).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    install_shortcuts()
    result = PdfVerification(path)
    with _quiet():
        try:
            reader = PdfFileReader(BytesIO(data), strict=False)
            signatures = list(reader.embedded_signatures)
        except Exception as exc:  # noqa: BLE001 - a damaged PDF can raise anything from zlib to AssertionError
            result.problems.append(f"not a readable PDF: {type(exc).__name__}: {exc}")
            return result
        if not signatures:
            result.problems.append("the PDF is not signed")
        for signature in signatures:
            try:
                check, problems = check_signature(reader, signature, trust, tsa_trust or [],
                                                  now or datetime.datetime.now(datetime.UTC))
                if check is not None:
                    (result.timestamps if check.level == "document timestamp" else result.signatures).append(check)
                result.problems.extend(problems)
            except Exception as exc:  # noqa: BLE001 - damage inside a signature's objects
                result.problems.append(f"signature {getattr(signature, 'field_name', '?')!r} cannot be read: "
                                       f"{type(exc).__name__}: {exc}")
        last = max([*result.signatures, *result.timestamps], key=lambda s: s.revision, default=None)
        if last is not None and not last.whole_file:
            result.problems.append("bytes or an incremental update were added after the last signature")
        _check_order(result)
        try:
            result.embedded = embedded_files(reader)
        except Exception as exc:
            result.problems.append(f"embedded files cannot be read: {exc}")
        try:
            _read_sealed_revision(result, data)
            _check_lost_signatures(result, data)
        except Exception as exc:  # noqa: BLE001 - a damaged earlier revision
            result.problems.append(f"earlier revisions cannot be read: {type(exc).__name__}: {exc}")
    _read_record(result)
    return result


def _check_order(result: PdfVerification) -> None:
    """The first signature is the certification seal; every later one is an approval."""
    if not result.signatures:
        return
    if not result.signatures[0].certification:
        result.problems.append(f"the first signature {result.signatures[0].field!r} is not a certification seal")
    if result.timestamps and min(t.revision for t in result.timestamps) < result.signatures[0].revision:
        result.problems.append("a document timestamp precedes the certification seal")
    for later in result.signatures[1:]:
        if later.certification:
            result.problems.append(f"signature {later.field!r} claims to certify a document that was already sealed")


def _read_sealed_revision(result: PdfVerification, data: bytes) -> None:
    """Hash the sealed revision and read the embedded files as sealed (never a later revision's)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if not result.signatures or not 0 < result.signatures[0].covered <= len(data):
        return
    prefix = data[:result.signatures[0].covered]
    result.sealed_size = len(prefix)
    result.sealed_sha256 = hashlib.sha256(prefix).hexdigest()
    if len(prefix) == len(data):
        return
    try:
        sealed = embedded_files(PdfFileReader(BytesIO(prefix), strict=False))
    except Exception as exc:
        result.problems.append(f"the sealed revision's embedded files cannot be read: {exc}")
        return
    names = set(sealed) | set(result.embedded)
    changed = sorted(name for name in names if sealed.get(name) != result.embedded.get(name))
    if changed:
        result.problems.append("embedded files changed after the seal: " + ", ".join(changed))
    result.embedded = sealed


MAX_REVISIONS = 64
"""Revisions looked at for signatures that disappeared (more is not a report launchbook made)."""


def _check_lost_signatures(result: PdfVerification, data: bytes) -> None:
    """Every signature an earlier revision carried is still there: an incremental update that
    removes the seal (and then certifies the document anew, even under the same field name) is
    a forgery, whatever signs it. A signature is known by its field and the bytes it covers."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    final = {(s.field, s.covered) for s in [*result.signatures, *result.timestamps]}
    ends = [m.end() for m in EOF_MARK.finditer(data) if m.end() < len(data) - 2][:MAX_REVISIONS]
    lost: set[str] = set()
    for end in ends:
        if b"/ByteRange" not in data[:end]:  # no signature in this revision or before it
            continue
        try:
            earlier = {(str(s.field_name), covered_bytes(s.sig_object.get("/ByteRange")))
                       for s in PdfFileReader(BytesIO(data[:end]), strict=False).embedded_signatures}
        except Exception:  # noqa: BLE001 - "%%EOF" inside a stream is no revision boundary
            continue
        lost |= {name for name, covered in earlier - final}
    if lost:
        result.problems.append("signatures of an earlier revision are gone from the document (removed or replaced "
                               "by a later update): " + ", ".join(sorted(lost)))


def _read_record(result: PdfVerification) -> None:

    raw = result.embedded.get(RECORD_NAME)
    if raw is None:
        result.problems.append(f"no embedded {RECORD_NAME}")
        return
    try:
        result.record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        result.problems.append(f"embedded {RECORD_NAME} is not valid JSON: {exc}")
        return
    if MANIFEST_NAME not in result.embedded:
        result.problems.append(f"no embedded {MANIFEST_NAME}")


def compare_with_archive(result: PdfVerification, data: bytes, archived: dict[str, Any],
                         recorded_sha256: str | None, recorded_size: int | None = None) -> None:
    """Check the PDF against the archived record (and the PDF hash noted when it was closed: the
    sealed revision, which later document timestamps or approvals leave as the file's byte prefix)."""

    if not recorded_sha256:
        result.problems.append("the archive records no sha256 of the sealed report (its 'report' section is "
                               "missing), so the report cannot be matched to the run")
    elif not sealed_prefix_intact(data, recorded_sha256, recorded_size):
        result.problems.append("the PDF's sealed revision differs from the one recorded when the run was closed "
                               "(the report was replaced, not only counter-signed or timestamped)")
    elif result.sealed_sha256 != recorded_sha256:
        result.problems.append("the certification seal covers a revision other than the one recorded when the run "
                               "was closed (the seal was removed or replaced)")
    if result.record is None:
        return
    result.record_matches = canonical_json(result.record) == canonical_json(archived)
    if not result.record_matches:
        keys = sorted(k for k in set(archived) | set(result.record) if result.record.get(k) != archived.get(k))
        result.problems.append("embedded record differs from the archived record (" + ", ".join(keys) + ")")


def verify_file(path: Path, trust_paths: list[Path], project: Path | None = None,
                tsa_trust_paths: list[Path] | None = None) -> PdfVerification:
    """Verify a report file; compare with the archived record when the project has it."""

    if not path.is_file():
        result = PdfVerification(str(path))
        result.problems.append("not a regular file")
        return result
    data = path.read_bytes()
    result = verify_pdf(data, str(path), load_trust(trust_paths), load_trust(tsa_trust_paths or []))
    run_id = (result.record or {}).get("id")
    if project is not None and isinstance(run_id, str):
        try:
            run = find_run(project, run_id)
        except SourceError:
            return result  # not this project's run: "not compared"
        try:
            record = read_record(run)
        except SourceError as exc:
            result.record_matches = False
            result.problems.append(f"the archived record cannot be read: {exc.format_message()}")
            return result
        report = record.extra.get("report") or {}
        compare_with_archive(result, data, record.archived_data(), report.get("sha256"), report.get("size"))
    return result
