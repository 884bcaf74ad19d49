"""Long-term evidence for sealed reports: PAdES levels, validation data, document timestamps.

* **B-B**: a signature only. Valid while the signer's certificate is.
* **B-T**: the signature carries an RFC 3161 timestamp (a timestamp authority is configured),
  or a later document timestamp covers it.
* **B-LT**: B-T plus the validation data (certificates, CRLs, OCSP responses that could be
  had) in the document security store (DSS), so the chain can be checked without the network.
* **B-LTA**: B-LT plus a document timestamp over all of it (``launchbook timestamp``; one
  more than the B-T time needs), renewed before the newest timestamp's chain expires.

A document timestamp is an incremental revision: the bytes sealed at ``run close`` stay a
byte prefix of the file, which :func:`sealed_prefix_intact` checks.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from generator.core.errors import ConfigError

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
EOF_MARK = re.compile(rb"%%EOF(\r\n|\r|\n)?")
"""The end of a revision (a match inside a stream is possible; check what it yields)."""


@dataclass(frozen=True, slots=True)
class Stamped:
    """A report after a document timestamp."""

    pdf: bytes
    """The new file (the old one is its byte prefix)."""
    level: str
    """Its PAdES level now."""
    timestamp_time: str
    """When the timestamp authority says it stamped (UTC)."""


def timestamper_for(url: str) -> Any:
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    return HTTPTimeStamper(url, https=url.startswith("https://"), timeout=30)


def validation_context(trust: list[Any], chain: list[Any], *, fetch: bool = True) -> Any:
    """Trust roots (site.yml ``trust``, ``--trust``, the signer's self-signed certificates), the signer's
    chain as intermediates; CRLs and OCSP responses are fetched from the certificates' own URLs."""
    from pyhanko_certvalidator import ValidationContext

    roots = [*trust, *(c for c in chain if c.self_signed)]
    return ValidationContext(trust_roots=roots, other_certs=list(chain), allow_fetching=fetch,
                             revocation_mode="soft-fail")


def sealed_prefix_intact(pdf: bytes, sha256: str, size: int | None = None) -> bool:
    """Whether ``pdf`` starts with the sealed bytes whose sha256 the ledger recorded.

    Later revisions (document timestamps, approval signatures) only append. With ``size`` the prefix
    is known; without it every revision boundary (``%%EOF``) is tried.
    """
    if size is not None:
        return size <= len(pdf) and hashlib.sha256(pdf[:size]).hexdigest() == sha256
    if hashlib.sha256(pdf).hexdigest() == sha256:
        return True
    return any(hashlib.sha256(pdf[:match.end()]).hexdigest() == sha256 for match in EOF_MARK.finditer(pdf))


def pades_level(reader: Any, signature: Any) -> str:
    """The PAdES baseline level ``signature`` reaches in the document ``reader`` reads.

    B-T needs a signature timestamp; B-LT also a DSS holding validation data; B-LTA also a
    document timestamp after the signature.
    """
    if signature.sig_object.get("/Type") == "/DocTimeStamp":
        return "document timestamp"
    unsigned = signature.signer_info["unsigned_attrs"]
    stamped = unsigned.native is not None and any(
        attr["type"].native == "signature_time_stamp_token" for attr in unsigned)
    later = [ts for ts in reader.embedded_timestamp_signatures if ts.signed_revision > signature.signed_revision]
    # EN 319 142-1: the B-T time may also come from a document timestamp over the signature.
    archival = len(later) if stamped else len(later) - 1
    if not stamped and not later:
        return "B-B"
    if not _has_validation_data(reader):
        return "B-T"
    return "B-LTA" if archival > 0 else "B-LT"


def _has_validation_data(reader: Any) -> bool:
    """The document security store holds certificates, CRLs or OCSP responses."""
    try:
        dss = reader.root["/DSS"]
    except KeyError:
        return False
    for name in ("/Certs", "/CRLs", "/OCSPs"):
        try:
            if len(dss[name]):
                return True
        except (KeyError, TypeError):
            continue
    return False


def add_document_timestamp(pdf: bytes, timestamp_url: str, trust: list[Any]) -> Stamped:
    """Append the validation data of every signature and timestamp, then a document timestamp over all
    of it (covering the DSS), as one more incremental revision."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    chain = [cert for sig in reader.embedded_signatures for cert in sig.signed_data["certificates"]
             if cert.name == "certificate"]
    context = validation_context(trust, [c.chosen for c in chain])
    pdf = _with_validation_data(pdf, reader, context)
    output = BytesIO()
    stamper = signers.PdfTimeStamper(timestamper_for(timestamp_url), field_name=_field_name(reader))
    try:
        stamper.timestamp_pdf(IncrementalPdfFileWriter(BytesIO(pdf), strict=False), "sha256",
                              validation_context=context, output=output,
                              dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    except Exception as exc:  # pyHanko/certvalidator raise many kinds; the TSA's chain is the usual one
        raise ConfigError(f"cannot add a document timestamp from {timestamp_url}: {short_reason(exc)} (is the "
                          "timestamp authority's root certificate listed under 'trust:' in site.yml or given with "
                          "--trust?)") from None
    stamped = output.getvalue()
    after = PdfFileReader(BytesIO(stamped), strict=False)
    last = after.embedded_timestamp_signatures[-1]
    seal = after.embedded_regular_signatures[0]
    when = last.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    return Stamped(stamped, pades_level(after, seal), when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _with_validation_data(pdf: bytes, reader: Any, context: Any) -> bytes:
    """Add the certificates, CRLs and OCSP responses of every signature and timestamp to the DSS."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import add_validation_info

    for index, signature in enumerate(reader.embedded_signatures):
        try:
            current = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures[index]
            pdf = add_validation_info(current, context, add_vri_entry=False).getvalue()
        except Exception as exc:  # certvalidator raises many kinds
            raise ConfigError(f"cannot collect validation data for signature {signature.field_name!r}: "
                              f"{short_reason(exc)} (is its root certificate listed under 'trust:' in site.yml "
                              "or given with --trust?)") from None
    return pdf


def _field_name(reader: Any) -> str:
    taken = {str(sig.field_name) for sig in reader.embedded_signatures}
    number = 1
    while f"LaunchbookTimestamp{number}" in taken:
        number += 1
    return f"LaunchbookTimestamp{number}"


def short_reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]
