"""Seal a rendered report: a PAdES certification signature with a visible stamp.

* ``subfilter`` ETSI.CAdES.detached (PAdES), SHA-256; baseline B-B without a timestamp
  authority; with one B-LT (the validation data that can be had embedded in the DSS, in the
  signed revision), or B-T when the chain cannot be validated (the reason is kept).
* A *certification* signature that still permits form filling and signing, so approvers
  can add their own approval signatures later without breaking the seal.
* The visible stamp (:mod:`generator.report.stamp`) uses the bundled DejaVu-based font,
  embedded, so the document stays PDF/A.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Any

from generator.report.keys import fingerprint
from generator.report.render import RenderedReport
from generator.report.stamp import seal_style

SEAL_FIELD = "LaunchbookSeal"


@dataclass(frozen=True, slots=True)
class SealInfo:
    """Who sealed the report."""

    subject: str
    """Signer certificate subject."""
    fingerprint: str
    """SHA-256 fingerprint of the signer certificate."""
    timestamped: bool
    """Whether a timestamp authority countersigned (PAdES B-T)."""
    level: str = "B-B"
    """PAdES baseline level reached: B-B, B-T or B-LT."""
    note: str = ""
    """Why the level is not higher, in words (empty at B-LT)."""


def signer_info(signer: Any) -> tuple[str, str]:
    cert = signer.signing_cert
    return cert.subject.human_friendly, fingerprint(cert.dump())


def _one_producer(writer: Any) -> None:
    """pyHanko always writes its own name as the XMP ``pdf:Producer``; make the Info ``/Producer`` say the same."""
    from pyhanko.pdf_utils.generic import TextStringObject
    from pyhanko.pdf_utils.metadata.model import VENDOR

    info = writer.trailer["/Info"]
    info["/Producer"] = TextStringObject(VENDOR)
    writer.update_container(info)


def _pdfa3_signer_class() -> Any:
    from pyhanko.sign import signers
    from pyhanko.sign.signers.constants import ESIC_EXTENSION_1

    class PdfA3Signer(signers.PdfSigner):
        """Registers only the PAdES extension (PDF 1.7 + ESIC): PDF/A-3 is PDF 1.7, and pyHanko would
        otherwise declare PDF 2.0 and the ISO 32002 extension for an ECDSA key."""

        def register_extensions(self, pdf_out: Any, *, md_algorithm: str) -> None:
            pdf_out.ensure_output_version(version=(1, 7))
            pdf_out.register_extension(ESIC_EXTENSION_1)

    return PdfA3Signer


def sign_report(report: RenderedReport, signer: Any, *, reason: str, finished: str = "", location: str = "",
                timestamp_url: str | None = None, trust: list[Any] | None = None) -> tuple[bytes, SealInfo]:
    """Sign ``report.pdf``; return the signed bytes and who signed. The stamp shows ``reason`` as what was
    sealed, and ``finished`` (when the run finished, for a back-filled close) labelled apart from the seal time.

    With a timestamp authority the validation data of the signer's chain and of the authority's
    (``trust`` adds roots, e.g. the authority's) are embedded: B-LT. If that chain cannot be
    validated the seal is B-T and :attr:`SealInfo.note` says why.
    """
    subject, print_ = signer_info(signer)
    if not timestamp_url:
        signed = _sign(report, signer, reason, finished, location, None, None)
        return signed, SealInfo(subject, print_, False, "B-B", "no timestamp authority configured (set "
                                "timestamp_url in site.yml or pass --tsa): the seal is B-B, valid only while "
                                "the signer's certificate is")
    from generator.report.longterm import short_reason, timestamper_for, validation_context

    context = validation_context(list(trust or ()), list(signer.cert_registry))
    try:
        return _sign(report, signer, reason, finished, location, timestamper_for(timestamp_url), context), \
            SealInfo(subject, print_, True, "B-LT")
    except Exception as exc:  # certvalidator raises many kinds; the signature itself is retried without LT
        note = f"validation data not embedded (B-T only): {short_reason(exc)}"
    return _sign(report, signer, reason, finished, location, timestamper_for(timestamp_url), None), \
        SealInfo(subject, print_, True, "B-T", note)


def _sign(report: RenderedReport, signer: Any, reason: str, finished: str, location: str, timestamper: Any,
          context: Any) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference

    subject, print_ = signer_info(signer)
    _PdfA3Signer = _pdfa3_signer_class()  # noqa: N806 - a class made here so pyHanko is imported lazily
    writer = IncrementalPdfFileWriter(BytesIO(report.pdf))
    _one_producer(writer)
    fields.append_signature_field(
        writer, SigFieldSpec(sig_field_name=SEAL_FIELD, on_page=report.signature_page, box=report.signature_box))
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=MDPPerm.FILL_FORMS,
        reason=reason,
        location=location or None,
        name=subject,
        embed_validation_info=context is not None,
        validation_context=context,
        dss_settings=DSSContentSettings(include_vri=False,
                                        placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE),
    )
    common_name = signer.signing_cert.subject.native.get("common_name") or subject
    pdf_signer = _PdfA3Signer(metadata, signer=signer, stamp_style=seal_style(common_name, reason, finished, print_),
                              timestamper=timestamper)
    output = BytesIO()
    pdf_signer.sign_pdf(writer, output=output)
    return output.getvalue()
