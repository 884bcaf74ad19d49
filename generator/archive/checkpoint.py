"""Signed checkpoints: the ledger's tree head, signed, to paste into a ticket or keep
elsewhere. ``launchbook verify --since CHECKPOINT`` proves that today's ledger extends
the one the checkpoint saw (an RFC 6962 consistency proof), so a ledger rewritten
consistently from scratch is caught.

File format (JSON): ``{"checkpoint": {...}, "signature": base64, "algorithm": ...,
"certificate": PEM}``; the signature covers the canonical JSON of ``checkpoint``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.archive.ledger import TreeHead, read_ledger, tree_head
from generator.core.errors import SourceError
from generator.core.files import atomic_write, check_output_path
from generator.report.certs import check_signing_certificate
from generator.report.keys import fingerprint, load_private_key, resolve_key, signing_key_file
from generator.runs.record import canonical_json, utc_now
from generator.runs.store import runs_dir

ORIGIN = "launchbook ledger v1"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint read back from a file."""

    head: TreeHead
    """Tree size and root it vouches for."""
    created_at: str
    """When it was made."""
    signer: str
    """Certificate subject of the signer."""
    fingerprint: str
    """SHA-256 fingerprint of the signer certificate."""
    certificate_der: bytes
    """The signer certificate."""
    signature_ok: bool
    """The signature matches the content and the embedded certificate."""


def checkpoints_dir(project: Path) -> Path:
    return runs_dir(project) / "checkpoints"


def _sign(private: Any, data: bytes) -> tuple[bytes, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.sign(data, ec.ECDSA(hashes.SHA256())), "ecdsa-sha256"
    if isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), hashes.SHA256()), "rsa-pkcs1v15-sha256"
    raise SourceError("checkpoints need an EC or RSA signing key")


def _verify(public: Any, signature: bytes, data: bytes, algorithm: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        if algorithm == "ecdsa-sha256" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "rsa-pkcs1v15-sha256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def make_checkpoint(project: Path, key: str | None, output: Path | None = None, *,
                    force: bool = False) -> tuple[Path, TreeHead]:
    """Sign the ledger's current tree head; store it under content/runs/checkpoints/ (and
    at ``output``: an existing file only with ``force``, never inside content/ or themes/)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    if output is not None:
        check_output_path(output, project, force)

    key = resolve_key(key, project)
    private, certificate = load_private_key(key)
    check_signing_certificate(asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
                              str(signing_key_file(key)))
    _, leaves = read_ledger(project)
    head = tree_head(leaves)
    body = {"origin": ORIGIN, **head.data(), "created_at": utc_now()}
    signature, algorithm = _sign(private, canonical_json(body))
    document = {
        "checkpoint": body,
        "algorithm": algorithm,
        "signature": base64.b64encode(signature).decode("ascii"),
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    stamp = body["created_at"].replace(":", "").replace("-", "")
    stored = checkpoints_dir(project) / f"checkpoint-{head.size:06d}-{stamp}.json"
    atomic_write(stored, data)
    if output is not None:
        atomic_write(output, data)
    return output or stored, head


def read_checkpoint(path: Path) -> Checkpoint:
    """Parse a checkpoint and check its signature against its own certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if path.is_symlink() or not path.is_file():  # a FIFO would never end, a link reads from elsewhere
        raise SourceError("not a readable checkpoint: not a regular file", path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("checkpoint"), dict):
            raise ValueError("not a checkpoint object")
        body = document["checkpoint"]
        if not isinstance(document.get("certificate"), str) or not isinstance(document.get("signature"), str):
            raise ValueError("'certificate' and 'signature' must be text")
        certificate = x509.load_pem_x509_certificate(document["certificate"].encode("ascii"))
        signature = base64.b64decode(document["signature"])
        size, root = body.get("tree_size"), body.get("root_sha256")
        if type(size) is not int or size < 0:
            raise ValueError("'tree_size' must be a whole number from 0")
        if not isinstance(root, str) or not re.fullmatch(r"[0-9a-f]{64}", root):
            raise ValueError("'root_sha256' must be a sha256 (64 lowercase hex digits)")
        head = TreeHead(size, root)
        if body.get("origin") != ORIGIN:
            raise ValueError(f"not a launchbook checkpoint (origin {body.get('origin')!r})")
    except (OSError, ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise SourceError(f"not a readable checkpoint: {exc}", path) from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Checkpoint(
        head=head,
        created_at=str(body.get("created_at", "")),
        signer=certificate.subject.rfc4514_string(),
        fingerprint=fingerprint(der),
        certificate_der=der,
        signature_ok=_verify(certificate.public_key(), signature, canonical_json(body), str(document.get("algorithm"))),
    )


def latest_checkpoint(project: Path, at_least: int = 0) -> Path | None:
    """The newest stored checkpoint that covers ``at_least`` entries."""
    folder = checkpoints_dir(project)
    candidates = sorted(folder.glob("checkpoint-*.json")) if folder.is_dir() else []
    for path in reversed(candidates):
        try:
            if int(path.name.split("-")[1]) >= at_least:
                return path
        except (IndexError, ValueError):
            continue
    return None
