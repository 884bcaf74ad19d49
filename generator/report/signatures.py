"""One signature or document timestamp of a report, checked: intact, valid, trusted at the signing
time a trusted timestamp proves (else now: the time is only claimed), the signer fit for signing,
and what pyHanko's modification analysis says changed after it against the seal's DocMDP level.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from generator.report.certs import certificate_problems, utc_text, validity_problem
from generator.report.keys import fingerprint
from generator.report.longterm import pades_level


@dataclass(frozen=True, slots=True)
class TimestampCheck:
    """The RFC 3161 timestamp on a signature, if any."""

    present: bool
    """The signature carries a timestamp token."""
    trusted: bool
    """The token is intact and its TSA chains to a ``--trust-tsa`` certificate."""
    time: str
    """The time the TSA vouches for (UTC), or ``""``."""
    tsa: str
    """The TSA certificate's subject, or ``""``."""


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One signature of the PDF."""

    field: str
    """Signature field name."""
    signer: str
    """Signer certificate subject."""
    fingerprint: str
    """SHA-256 fingerprint of the signer certificate."""
    signed_at: str
    """Signing time the signer claims (UTC)."""
    intact: bool
    """The signed bytes are unchanged."""
    valid: bool
    """The cryptographic signature checks out."""
    trusted: bool
    """The signer chains to a trusted certificate."""
    whole_file: bool
    """The signature covers every byte of the file."""
    timestamped: bool
    """It carries a timestamp token (PAdES B-T), trusted or not: see ``timestamp``."""
    timestamp: TimestampCheck = TimestampCheck(False, False, "", "")
    """The timestamp and whether its TSA is trusted."""
    time_basis: str = "claimed"
    """``timestamp``: the signing time is proven by a trusted timestamp; ``claimed``: only the signer says so."""
    certificate_checked_at: str = ""
    """When the signer certificate's validity was checked: the trusted timestamp's time, else now."""
    certificate_problems: tuple[str, ...] = ()
    """Why the signer certificate was unfit at that time (expired, not yet valid, wrong key usage)."""
    level: str = ""
    """PAdES baseline level (B-B, B-T, B-LT, B-LTA), or ``document timestamp`` for one."""
    reason: str = ""
    """The reason the signer gave."""
    certification: bool = False
    """A certification (DocMDP) signature: launchbook's seal."""
    changes: str = "none"
    """What changed after this signature (pyHanko's modification level: none, ltv, form filling, other)."""
    changes_allowed: bool = True
    """Those changes are within what the certification allows."""
    revision: int = 0
    """The revision it signs (0-based)."""
    covered: int = 0
    """Bytes it covers: the document up to and including its revision."""

    def to_data(self) -> dict[str, Any]:
        """Its fields (the timestamp's as a mapping), as ``dataclasses.asdict`` gives them, without its
        deep copies of every value (a ``verify --json`` of 10,000 reports spent seconds in them)."""
        data = {name: getattr(self, name) for name in self.__slots__}
        data["timestamp"] = {name: getattr(self.timestamp, name) for name in TimestampCheck.__slots__}
        return data


_LOOPS = threading.local()


def _await(coroutine: Coroutine[Any, Any, Any], *contexts: Any) -> Any:
    """Run ``coroutine`` to its end on this thread's event loop, then release what the validation
    ``contexts`` opened (as pyHanko's synchronous functions do). The loop is made once per thread
    and process: pyHanko's ``validate_pdf_signature`` made and closed one for every signature,
    5 % of ``verify``'s time."""
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed() or getattr(_LOOPS, "pid", None) != os.getpid():  # a fork's copy is not ours
        loop = asyncio.new_event_loop()
        _LOOPS.loop, _LOOPS.pid = loop, os.getpid()

    async def released() -> Any:
        try:
            return await coroutine
        finally:
            for context in contexts:
                await context.aclose()

    return loop.run_until_complete(released())


def _validate_in_time(signature: Any, trust: list[Any], tsa_trust: list[Any],
                      now: datetime.datetime) -> tuple[Any, TimestampCheck, datetime.datetime]:
    """pyHanko's status of ``signature``, its timestamp, and the time its certificate was checked at:
    the time a trusted timestamp proves, else ``now`` (a claimed signing time proves nothing).

    The signer must be allowed digital signatures; the timestamp is checked against the TSA
    roots only (a signer root never vouches for a time)."""
    from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    def validate(moment: datetime.datetime) -> Any:
        signer = ValidationContext(trust_roots=trust, allow_fetching=False, moment=moment)
        stamper = ValidationContext(trust_roots=tsa_trust, allow_fetching=False, moment=now)
        return _await(async_validate_pdf_signature(
            signature, signer, stamper, key_usage_settings=KeyUsageConstraints(key_usage={"digital_signature"})),
            signer, stamper)

    status = validate(now)
    token = status.timestamp_validity
    if token is None:
        return status, TimestampCheck(False, False, "", ""), now
    trusted = bool(token.intact and token.valid and token.trusted) and bool(tsa_trust)
    timestamp = TimestampCheck(True, trusted, utc_text(token.timestamp), token.signing_cert.subject.human_friendly)
    if not trusted:
        return status, timestamp, now
    return validate(token.timestamp), timestamp, token.timestamp


def _certificate_problems(cert: Any, timestamp: TimestampCheck, checked_at: datetime.datetime,
                          claimed: datetime.datetime | None) -> list[str]:
    """What makes the signer certificate unfit at the proven signing time (else now); without a
    trusted timestamp, a claimed signing time outside the validity period counts too."""
    problems = certificate_problems(cert, checked_at)
    if not timestamp.trusted and claimed is not None and not problems:
        outside = validity_problem(cert, claimed)
        if outside:
            problems.append(f"at the claimed signing time: {outside}")
    return problems


def _describe_unfit(check: SignatureCheck) -> list[str]:
    if check.time_basis == "timestamp":
        basis = f"at {check.certificate_checked_at}, the signing time proven by a timestamp from {check.timestamp.tsa}"
    elif check.timestamp.present:
        basis = (f"its timestamp ({check.timestamp.time}) is from a TSA that is not trusted ({check.timestamp.tsa}; "
                 "pass --trust-tsa with its root certificate), so the signing time "
                 f"{check.signed_at or '?'} is only claimed")
    else:
        basis = (f"there is no timestamp, so the signing time {check.signed_at or '?'} is only claimed "
                 "(seal with a timestamp authority: run close --tsa URL)")
    return [f"signature {check.field!r}: signer certificate ({check.signer}) {problem}; {basis}"
            for problem in check.certificate_problems]


_LEVELS = {"NONE": "none", "LTA_UPDATES": "ltv", "FORM_FILLING": "form filling", "ANNOTATIONS": "annotations",
           "OTHER": "other"}


def check_signature(reader: Any, signature: Any, trust: list[Any], tsa_trust: list[Any],
                    now: datetime.datetime) -> tuple[SignatureCheck | None, list[str]]:
    """One signature or document timestamp: intact, trusted at the right time, and what changed after
    it. Returns its check (``None`` when it cannot be validated at all) and the problems found."""
    from pyhanko.sign.diff_analysis import SuspiciousModification
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    document_timestamp = signature.sig_object.get("/Type") == "/DocTimeStamp"
    try:
        if document_timestamp:  # a time vouched for by a TSA: trusted through --trust-tsa (or --trust)
            status = validate_pdf_timestamp(signature, ValidationContext(
                trust_roots=[*tsa_trust, *trust], allow_fetching=False, moment=now))
            timestamp, checked_at = TimestampCheck(False, False, "", ""), now
        else:
            status, timestamp, checked_at = _validate_in_time(signature, trust, tsa_trust, now)
    except Exception as exc:  # pyHanko raises many kinds on damaged input
        return None, [f"signature {signature.field_name!r} cannot be validated: {exc}"]
    cert = status.signing_cert
    signed_at = getattr(status, "timestamp" if document_timestamp else "signer_reported_dt", None)
    unfit = [] if document_timestamp else _certificate_problems(cert, timestamp, checked_at, signed_at)
    modification = status.modification_level
    check = SignatureCheck(
        field=str(signature.field_name),
        signer=cert.subject.human_friendly,
        fingerprint=fingerprint(cert.dump()),
        signed_at=signed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if signed_at else "",
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted) and not unfit,
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        timestamped=document_timestamp or timestamp.present,
        timestamp=timestamp,
        time_basis="timestamp" if timestamp.trusted else "claimed",
        certificate_checked_at=utc_text(checked_at),
        certificate_problems=tuple(unfit),
        level=pades_level(reader, signature),
        reason=str(signature.sig_object.get("/Reason") or ""),
        certification=signature.docmdp_level is not None,
        changes=_LEVELS.get(modification.name, modification.name.lower()) if modification is not None else "unknown",
        changes_allowed=modification is not None and (
            bool(status.docmdp_ok) if status.docmdp_ok is not None
            else modification.name in ("NONE", "LTA_UPDATES", "FORM_FILLING")),
        revision=int(signature.signed_revision),
        covered=covered_bytes(signature.sig_object.get("/ByteRange")),
    )
    problems: list[str] = []
    if not (check.intact and check.valid):
        problems.append(f"signature {check.field!r} is invalid: the signed bytes were changed")
    elif unfit:
        problems.extend(_describe_unfit(check))
    elif not check.trusted and document_timestamp:
        problems.append(f"timestamp authority {check.signer!r} ({check.fingerprint[:23]}…) of "
                               f"document timestamp {check.field!r} is not trusted (pass its root with --trust-tsa)")
    elif not check.trusted:
        problems.append(f"signer {check.signer!r} ({check.fingerprint[:23]}…) is not trusted "
                               "(pass its certificate with --trust)")
    if not check.changes_allowed:
        what = status.diff_result
        detail = str(what).strip().splitlines()[0][:300] if isinstance(what, SuspiciousModification) else \
            f"modification level {check.changes}"
        problems.append(f"the document was changed after signature {check.field!r} beyond what the "
                               f"certification allows (only adding signatures and filling forms): {detail}")
    return check, problems


def covered_bytes(byte_range: Any) -> int:
    """How many bytes a signature's /ByteRange covers (0 when it has none)."""
    values = list(byte_range or [])
    return int(values[2]) + int(values[3]) if len(values) == 4 else 0
