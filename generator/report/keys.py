"""Signing keys: load a PKCS#12 or PEM key for sealing, or create a local one.

pyHanko's loaders return ``None`` on a wrong passphrase or a malformed file instead of
raising; every such case becomes one clear error here.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.core.errors import ConfigError

KEY_ENV = "LAUNCHBOOK_SIGNING_KEY"
PASSPHRASE_ENV = "LAUNCHBOOK_SIGNING_PASSPHRASE"
CERT_ENV = "LAUNCHBOOK_SIGNING_CERT"


@dataclass(frozen=True, slots=True)
class NewKey:
    """Files written by :func:`create_key`."""

    pkcs12: Path
    """Key and certificate, mode 0600."""
    certificate: Path
    """The certificate alone, PEM, to share and to trust."""
    subject: str
    """Certificate subject."""
    fingerprint: str
    """SHA-256 fingerprint of the certificate (hex, colon-separated)."""


def fingerprint(cert_der: bytes) -> str:

    digest = hashlib.sha256(cert_der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


MAX_NAME = 64
"""X.509's upper bound for a common name (RFC 5280, ub-common-name)."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a signing certificate's common name, else ``None``. Validators
    compare X.509 names after RFC 4518 string preparation (asn1crypto's, under pyHanko, is asked
    here), which refuses characters Unicode 3.2 did not assign (most emoji among them), control
    characters and mixed right-to-left text: a certificate so named could never be checked."""
    from asn1crypto import x509 as asn1_x509

    if not name.strip():
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long; X.509 allows {MAX_NAME}"
    try:
        asn1_x509.Name.build({"common_name": name}).chosen[0][0].prepped_value  # noqa: B018 - the check itself
    except ValueError as exc:
        for char in name:
            if unicodedata.ucd_3_2_0.category(char) == "Cn" or unicodedata.category(char).startswith("C"):
                return (f"contains {unicodedata.name(char, 'a character')} (U+{ord(char):04X}), which certificate "
                        "validators refuse in names (RFC 4518: characters of Unicode 3.2 only, no control characters)")
        return f"cannot be compared by certificate validators (RFC 4518: {exc})"
    return None


def create_key(out: Path, name: str, passphrase: str | None = None, days: int = 3 * 365) -> NewKey:
    """A P-256 key with a self-signed certificate fit for PDF signing (``name``: see :func:`name_problem`)."""
    problem = name_problem(name)
    if problem is not None:
        raise ConfigError(f"the signing key's name {name!r} {problem}")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    out.mkdir(parents=True, exist_ok=True)
    pkcs12_path = out / "launchbook-signing.p12"
    cert_path = out / "launchbook-signing.pem"
    if os.path.lexists(pkcs12_path) or os.path.lexists(cert_path):  # a planted link counts: never written through
        raise ConfigError(f"a signing key already exists in {out}; refusing to overwrite it")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "launchbook report signing"),
    ])
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    document_signing = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([document_signing, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption: Any = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
                       else serialization.NoEncryption())
    blob = pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, None, encryption)
    descriptor = os.open(pkcs12_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(blob)
    descriptor = os.open(cert_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    der = cert.public_bytes(serialization.Encoding.DER)
    return NewKey(pkcs12_path, cert_path, subject.rfc4514_string(), fingerprint(der))


def check_key_folder(out: Path, project: Path) -> None:
    """Refuse a key folder whose files would be published: inside the project's ``content/``
    or ``output/``, or inside any folder that holds a ``site.yml`` (a content folder) or a
    build manifest (an output folder)."""
    where = out.expanduser().resolve()
    for folder, what in ((project / "content", "content folder"), (project / "output", "output folder")):
        if where.is_relative_to(folder.resolve()):
            raise ConfigError(f"refusing to put a private key in the {what} {folder} (it would be published); "
                              "use the default .launchbook/keys or a folder outside the project's content and output")
    for folder in (where, *where.parents):
        for marker, what in (("site.yml", "content folder"), (".launchbook-manifest.json", "site output folder")):
            if (folder / marker).is_file():
                raise ConfigError(f"refusing to put a private key in {out}: {folder} is a {what} "
                                  f"(it holds {marker}) and would publish it")


def _key_source(key: str | None) -> tuple[Path, bytes | None]:
    """The key file (``--key`` or ``$LAUNCHBOOK_SIGNING_KEY``) and its passphrase, checked."""
    path_text = key or os.environ.get(KEY_ENV)
    if not path_text:
        raise ConfigError(f"no signing key: pass --key, set {KEY_ENV}, or create one with `launchbook keys new` "
                          f"(found in {DEFAULT_KEY} of the project or the current folder)")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigError(f"signing key not found: {path}")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    return path, passphrase.encode("utf-8") if passphrase else None


DEFAULT_KEY = Path(".launchbook/keys/launchbook-signing.p12")
"""Where ``launchbook keys new`` puts a key by default (relative to the folder it runs in)."""


def resolve_key(key: str | None, project: Path) -> str | None:
    """``--key``, else ``$LAUNCHBOOK_SIGNING_KEY``, else the key ``keys new`` made in its default place
    (in the project, or in the current folder); ``None`` when there is none."""
    if key or os.environ.get(KEY_ENV):
        return key
    for place in (project / DEFAULT_KEY, DEFAULT_KEY):
        if place.is_file():
            return str(place)
    return None


def signing_key_file(key: str | None) -> Path:
    """The key file ``--key`` / ``$LAUNCHBOOK_SIGNING_KEY`` names (checked to exist)."""
    return _key_source(key)[0]


def load_signer(key: str | None, cert: str | None = None) -> Any:
    """A pyHanko signer from ``--key`` / ``LAUNCHBOOK_SIGNING_KEY`` (PKCS#12, or PEM key + cert)."""
    from pyhanko.sign import signers

    path, secret = _key_source(key)
    if path.suffix.lower() in (".p12", ".pfx"):
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(path), passphrase=secret)
    else:
        cert_text = cert or os.environ.get(CERT_ENV)
        if not cert_text:
            raise ConfigError(f"a PEM key needs its certificate: set {CERT_ENV} (or use a PKCS#12 file)")
        signer = signers.SimpleSigner.load(str(path), str(Path(cert_text).expanduser()), key_passphrase=secret)
    if signer is None:
        hint = f"wrong or missing passphrase ({PASSPHRASE_ENV})" if path.suffix.lower() in (".p12", ".pfx") else \
            "wrong passphrase, or the key and certificate are not PEM"
        raise ConfigError(f"cannot load signing key {path}: {hint}, or not a valid key file")
    return signer


def load_private_key(key: str | None, cert: str | None = None) -> tuple[Any, Any]:
    """(private key, certificate) as ``cryptography`` objects, for signing checkpoints."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

    path, secret = _key_source(key)
    try:
        if path.suffix.lower() in (".p12", ".pfx"):
            private, certificate, _ = pkcs12.load_key_and_certificates(path.read_bytes(), secret)
        else:
            cert_text = cert or os.environ.get(CERT_ENV)
            if not cert_text:
                raise ConfigError(f"a PEM key needs its certificate: set {CERT_ENV}")
            private = load_pem_private_key(path.read_bytes(), secret)
            certificate = x509.load_pem_x509_certificate(Path(cert_text).expanduser().read_bytes())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot load signing key {path}: wrong or missing passphrase ({PASSPHRASE_ENV}), "
                          f"or not a valid key file ({exc})") from None
    if private is None or certificate is None:
        raise ConfigError(f"cannot load signing key {path}: it holds no key and certificate")
    return private, certificate
