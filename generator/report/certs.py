"""Is a signer certificate fit to sign at a given time: within its validity period, and
allowed to make digital signatures (key usage, extended key usage).

``run close`` refuses an unfit certificate before anything is rendered; ``launchbook
verify`` asks the same questions at the signing time a trusted timestamp proves (or, when
the time is only claimed, now).
"""

from __future__ import annotations

import datetime
from typing import Any

from generator.core.errors import ConfigError

DOCUMENT_SIGNING_PURPOSES = frozenset({
    "1.3.6.1.5.5.7.3.36",  # id-kp-documentSigning (RFC 9336)
    "email_protection", "any_extended_key_usage", "microsoft_document_signing", "adobe_authentic_documents_trust",
})
"""Extended key usages that allow signing a document; a certificate without the extension
is not restricted (RFC 5280)."""


def utc_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity_period(cert: Any) -> str:
    """``valid from … to …`` of an asn1crypto certificate."""
    return f"valid from {utc_text(cert.not_valid_before)} to {utc_text(cert.not_valid_after)}"


def validity_problem(cert: Any, at: datetime.datetime) -> str | None:
    """Why ``cert`` (asn1crypto) is not valid at ``at``, or ``None``."""
    if at > cert.not_valid_after:
        return f"expired on {utc_text(cert.not_valid_after)} ({validity_period(cert)}; checked at {utc_text(at)})"
    if at < cert.not_valid_before:
        return (f"not valid until {utc_text(cert.not_valid_before)} ({validity_period(cert)}; "
                f"checked at {utc_text(at)})")
    return None


def usage_problem(cert: Any) -> str | None:
    """Why ``cert`` (asn1crypto) may not make document signatures, or ``None``."""
    key_usage = cert.key_usage_value
    if key_usage is not None and "digital_signature" not in key_usage.native:
        allowed = ", ".join(sorted(key_usage.native)) or "none"
        return f"has a key usage without digitalSignature (it allows: {allowed})"
    purposes = cert.extended_key_usage_value
    if purposes is not None and not DOCUMENT_SIGNING_PURPOSES & set(purposes.native):
        return (f"has an extended key usage that does not allow document signing (it allows: "
                f"{', '.join(purposes.native)}; needs documentSigning, emailProtection or anyExtendedKeyUsage)")
    return None


def certificate_problems(cert: Any, at: datetime.datetime) -> list[str]:
    """Everything that makes ``cert`` unfit to sign at ``at``."""
    return [problem for problem in (validity_problem(cert, at), usage_problem(cert)) if problem]


def check_signing_certificate(cert: Any, key_file: str, now: datetime.datetime | None = None) -> None:
    """Refuse to sign with an unfit certificate: one clear error naming the key file."""
    problems = certificate_problems(cert, now or datetime.datetime.now(datetime.UTC))
    if problems:
        subject = cert.subject.human_friendly
        raise ConfigError(f"cannot sign with {key_file}: its certificate ({subject}) " + "; and ".join(problems)
                          + ". Sealing with it would make a report no one can trust; use a valid signing key "
                          "(create one with `launchbook keys new`)")
