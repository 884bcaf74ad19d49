"""Signer certificates at the right time: ``run close`` refuses an expired, not yet valid or
wrong-usage certificate; ``verify`` checks the certificate at the signing time a trusted
RFC 3161 timestamp proves (else now: the time is only claimed), and a timestamp from an
untrusted TSA is reported as such.

Every certificate is made here with ``cryptography``: a test CA, end-entity certificates
with chosen validity and key usage, and a timestamp authority with its own root.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

RunCli = Callable[..., Result]
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issuer:
    key: Any
    cert: Any
    pem: Path


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(digital_signature: bool = True, cert_sign: bool = False) -> Any:
    from cryptography import x509

    return x509.KeyUsage(digital_signature=digital_signature, content_commitment=True, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
                         crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _pem(cert: Any, path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def make_ca(folder: Path, common_name: str = "Test Root CA") -> Issuer:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - 3650 * DAY).not_valid_after(NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(digital_signature=False, cert_sign=True), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    return Issuer(key, cert, _pem(cert, folder / f"{common_name.replace(' ', '-')}.pem"))


def make_signer(folder: Path, name: str, not_before: datetime.datetime, not_after: datetime.datetime, *,
                issuer: Issuer | None = None, key_usage: Any = None, eku: list[Any] | None = None) -> tuple[Path, Path]:
    """A PKCS#12 signing key (unencrypted) and its certificate (PEM); self-signed without ``issuer``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name(name))
               .issuer_name(issuer.cert.subject if issuer else _name(name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(key_usage or _usage(), critical=True))
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    p12 = folder / f"{name.replace(' ', '-')}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(name.encode(), key, cert, None,
                                                          serialization.NoEncryption()))
    return p12, _pem(cert, folder / f"{name.replace(' ', '-')}.pem")


@dataclass(frozen=True)
class Tsa:
    url: str
    root: Path
    """The TSA's root certificate, for --trust-tsa."""


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tsa]:
    """An RFC 3161 TSA on 127.0.0.1 whose certificate is issued by its own root (written as PEM)."""
    import http.server
    import threading

    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    root = make_ca(tmp_path_factory.mktemp("tsa"), "Test TSA Root")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the dummy TSA is RSA-only
    cert = (x509.CertificateBuilder().subject_name(_name("Test TSA Unit")).issuer_name(root.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(root.key, hashes.SHA256()))
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Tsa(f"http://127.0.0.1:{server.server_address[1]}/tsa", root.pem)
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAUNCHBOOK_SIGNING_PASSPHRASE", raising=False)


def _close(run_cli: RunCli, project: Path, run_id: str, key: Path, *extra: str) -> Result:
    return run_cli("run", "close", run_id, "--key", key, "--force", *extra, "-C", project)


def _refused(result: Result, project: Path, run_id: str, key: Path) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not (project / f"content/runs/deploy/{run_id}.pdf").exists()
    assert "finished_at: ''" in (project / f"content/runs/deploy/{run_id}.yml").read_text()
    assert f"Error: cannot sign with {key}" in result.stderr
    return result.stderr


# --- run close refuses an unfit certificate --------------------------------------------------------------------

def test_close_refuses_a_certificate_that_expired_in_2024(started: tuple[Path, str], run_cli: RunCli,
                                                          tmp_path: Path) -> None:
    project, run_id = started
    key, _ = make_signer(tmp_path / "keys", "Expired Sealer", datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC),
                         datetime.datetime(2024, 6, 30, tzinfo=datetime.UTC))
    message = _refused(_close(run_cli, project, run_id, key), project, run_id, key)
    assert "expired on 2024-06-30T00:00:00Z" in message
    assert "valid from 2023-01-01T00:00:00Z to 2024-06-30T00:00:00Z" in message


def test_close_refuses_a_certificate_not_yet_valid(started: tuple[Path, str], run_cli: RunCli,
                                                   tmp_path: Path) -> None:
    project, run_id = started
    key, _ = make_signer(tmp_path / "keys", "Future Sealer", NOW + 30 * DAY, NOW + 400 * DAY)
    message = _refused(_close(run_cli, project, run_id, key), project, run_id, key)
    assert f"not valid until {(NOW + 30 * DAY).strftime('%Y-%m-%dT%H:%M:%SZ')}" in message


def test_close_refuses_a_certificate_without_digital_signature_usage(started: tuple[Path, str], run_cli: RunCli,
                                                                     tmp_path: Path) -> None:
    project, run_id = started
    key, _ = make_signer(tmp_path / "keys", "Encrypt Only", NOW - DAY, NOW + 300 * DAY,
                         key_usage=_usage(digital_signature=False))
    message = _refused(_close(run_cli, project, run_id, key), project, run_id, key)
    assert "has a key usage without digitalSignature (it allows: non_repudiation)" in message


def test_close_refuses_a_tls_server_certificate(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    project, run_id = started
    key, _ = make_signer(tmp_path / "keys", "Web Server", NOW - DAY, NOW + 300 * DAY,
                         eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    message = _refused(_close(run_cli, project, run_id, key), project, run_id, key)
    assert "has an extended key usage that does not allow document signing (it allows: server_auth" in message


def test_checkpoint_refuses_an_expired_certificate(started: tuple[Path, str], run_cli: RunCli,
                                                   tmp_path: Path) -> None:
    project, _ = started
    key, _ = make_signer(tmp_path / "keys", "Expired Sealer", datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC),
                         datetime.datetime(2024, 6, 30, tzinfo=datetime.UTC))
    result = run_cli("checkpoint", "--key", key, "-C", project)
    assert result.exit_code == 1, result.output
    assert f"Error: cannot sign with {key}" in result.stderr and "expired on 2024-06-30" in result.stderr


def test_close_accepts_a_ca_issued_certificate(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    ca = make_ca(tmp_path / "ca")
    key, _ = make_signer(tmp_path / "keys", "Issued Sealer", NOW - DAY, NOW + 300 * DAY, issuer=ca)
    assert _close(run_cli, project, run_id, key).exit_code == 0
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    verified = json.loads(run_cli("verify", pdf, "--trust", ca.pem, "--json", "-C", project).stdout)["results"][0]
    assert verified["ok"] and verified["verdict"] == "valid and trusted"
    signature = verified["signatures"][0]
    assert signature["timestamp"] == {"present": False, "trusted": False, "time": "", "tsa": ""}
    assert signature["time_basis"] == "claimed"


# --- verify checks the certificate at the proven signing time -------------------------------------------------

@pytest.fixture
def sealed_short_lived(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path,
                       tsa: Tsa) -> tuple[Path, Path, Any]:
    """A report sealed with a timestamp by a CA-issued certificate valid for ten more days
    (the TSA's for 30): (pdf, CA certificate, the certificate's notAfter)."""
    project, run_id = started
    ca = make_ca(tmp_path / "ca")
    not_after = NOW + 10 * DAY
    key, _ = make_signer(tmp_path / "keys", "Issued Sealer", NOW - DAY, not_after, issuer=ca)
    result = _close(run_cli, project, run_id, key, "--tsa", tsa.url)
    assert result.exit_code == 0, result.output
    return project / f"content/runs/deploy/{run_id}.pdf", ca.pem, not_after


def _verify_later(pdf: Path, trust: Path, tsa_root: Path | None, at: datetime.datetime) -> Any:
    from generator.report.verify import load_trust, verify_pdf

    return verify_pdf(pdf.read_bytes(), str(pdf), load_trust([trust]), load_trust([tsa_root] if tsa_root else []),
                      now=at)


def test_expired_ca_certificate_stays_valid_with_a_trusted_timestamp(sealed_short_lived: tuple[Path, Path, Any],
                                                                     tsa: Tsa) -> None:
    pdf, ca, not_after = sealed_short_lived
    later = not_after + 5 * DAY
    result = _verify_later(pdf, ca, tsa.root, later)
    assert result.problems == [] and result.verdict == "valid and trusted"
    signature = result.signatures[0]
    assert signature.time_basis == "timestamp"
    assert signature.timestamp.present and signature.timestamp.trusted and signature.timestamp.tsa == (
        "Common Name: Test TSA Unit")
    stamped = datetime.datetime.strptime(signature.timestamp.time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert abs(stamped - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    assert signature.certificate_checked_at == signature.timestamp.time


def test_expired_ca_certificate_with_an_untrusted_timestamp_is_only_claimed(
        sealed_short_lived: tuple[Path, Path, Any]) -> None:
    pdf, ca, not_after = sealed_short_lived
    result = _verify_later(pdf, ca, None, not_after + 5 * DAY)
    signature = result.signatures[0]
    assert signature.timestamp.present and not signature.timestamp.trusted
    assert signature.time_basis == "claimed" and not signature.trusted
    assert result.verdict == "valid signature, signer certificate not valid at the signing time"
    [problem] = result.problems
    assert f"expired on {not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}" in problem
    assert "is from a TSA that is not trusted (Common Name: Test TSA Unit; pass --trust-tsa" in problem
    assert "is only claimed" in problem
    assert "site.yml" not in problem  # adding the certificate to the trust list would not help


def test_signer_root_never_vouches_for_a_timestamp(sealed_short_lived: tuple[Path, Path, Any], tsa: Tsa) -> None:
    """Trusting the TSA's root as a *signer* root does not make its timestamps proof of time."""
    from generator.report.verify import load_trust, verify_pdf

    pdf, ca, not_after = sealed_short_lived
    result = verify_pdf(pdf.read_bytes(), str(pdf), load_trust([ca, tsa.root]), [], now=not_after + DAY)
    assert result.signatures[0].time_basis == "claimed" and not result.ok


def test_without_a_timestamp_the_certificate_is_checked_now(started: tuple[Path, str], run_cli: RunCli,
                                                            tmp_path: Path) -> None:
    project, run_id = started
    key, cert = make_signer(tmp_path / "keys", "Self Sealer", NOW - DAY, NOW + 300 * DAY)
    assert _close(run_cli, project, run_id, key).exit_code == 0
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    assert _verify_later(pdf, cert, None, NOW + DAY).ok
    result = _verify_later(pdf, cert, None, NOW + 400 * DAY)
    [problem] = result.problems
    assert "there is no timestamp, so the signing time" in problem and "is only claimed" in problem
    assert "expired on" in problem and not result.signatures[0].trusted


def test_looking_from_before_the_certificate_was_valid(started: tuple[Path, str], run_cli: RunCli,
                                                         tmp_path: Path) -> None:
    """Checked at a time before notBefore, the certificate is not yet valid."""
    project, run_id = started
    key, cert = make_signer(tmp_path / "keys", "Self Sealer", NOW - DAY, NOW + 300 * DAY)
    assert _close(run_cli, project, run_id, key).exit_code == 0
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    result = _verify_later(pdf, cert, None, NOW - 2 * DAY)
    assert any("not valid until" in p for p in result.problems)


# --- what a user sees on the command line ----------------------------------------------------------------------

def test_cli_certificate_expired_between_timestamp_and_now(started: tuple[Path, str], run_cli: RunCli,
                                                           tmp_path: Path, tsa: Tsa) -> None:
    """End to end: a CA-issued certificate that expires seconds after sealing, then verify for real."""
    project, run_id = started
    ca = make_ca(tmp_path / "ca")
    not_after = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(seconds=12)
    key, _ = make_signer(tmp_path / "keys", "Brief Sealer", NOW - DAY, not_after, issuer=ca)
    assert _close(run_cli, project, run_id, key, "--tsa", tsa.url).exit_code == 0
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    time.sleep(max(0.0, (not_after - datetime.datetime.now(datetime.UTC)).total_seconds() + 1.5))

    proven = run_cli("verify", pdf, "--trust", ca.pem, "--trust-tsa", tsa.root, "-C", project)
    assert proven.exit_code == 0, proven.output
    assert "valid and trusted" in proven.stdout
    assert "time proven by a trusted timestamp from Common Name: Test TSA Unit" in proven.stdout
    data = json.loads(run_cli("verify", pdf, "--trust", ca.pem, "--trust-tsa", tsa.root, "--json", "-C", project).stdout)
    signature = data["results"][0]["signatures"][0]
    assert signature["time_basis"] == "timestamp"
    assert signature["timestamp"]["present"] is True and signature["timestamp"]["trusted"] is True
    assert signature["timestamp"]["time"] < not_after.strftime("%Y-%m-%dT%H:%M:%SZ")

    claimed = run_cli("verify", pdf, "--trust", ca.pem, "-C", project)
    assert claimed.exit_code == 1
    assert "time only claimed: the timestamp from Common Name: Test TSA Unit is not trusted" in claimed.stdout
    assert "expired on" in claimed.stdout and "site.yml" not in claimed.stdout
    data = json.loads(run_cli("verify", pdf, "--trust", ca.pem, "--json", "-C", project).stdout)
    signature = data["results"][0]["signatures"][0]
    assert signature["time_basis"] == "claimed" and signature["timestamp"]["trusted"] is False
    assert signature["timestamp"]["present"] is True and signature["timestamped"] is True

    # the project audit and an audit bundle take --trust-tsa too
    assert run_cli("verify", project, "--trust", ca.pem, "--trust-tsa", tsa.root).exit_code == 0
    audit = run_cli("verify", project, "--trust", ca.pem)
    assert audit.exit_code == 1 and "is only claimed" in audit.stdout


def _signed_directly(key: Path) -> bytes:
    """A small PDF signed with ``key`` by pyHanko itself, as another tool (or an old launchbook) would."""
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import PdfFileWriter
    from pyhanko.sign import signers

    blank = PdfFileWriter()
    blank.insert_page(_blank_page(blank))
    buffer = BytesIO()
    blank.write(buffer)
    signer = signers.SimpleSigner.load_pkcs12(str(key), None)
    out = BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(buffer.getvalue())),
                     signers.PdfSignatureMetadata(field_name="Sig"), signer=signer, output=out)
    return out.getvalue()


def _blank_page(writer: Any) -> Any:
    from pyhanko.pdf_utils import generic

    return generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Page"),
        generic.pdf_name("/MediaBox"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 200, 200)]),
        generic.pdf_name("/Contents"): writer.add_object(generic.StreamObject(stream_data=b"")),
    })


@pytest.mark.parametrize(("name", "not_before", "not_after", "usage", "expected"), [
    ("Expired Sealer", datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC),
     datetime.datetime(2024, 6, 30, tzinfo=datetime.UTC), None, "expired on 2024-06-30T00:00:00Z"),
    ("Future Sealer", NOW + 30 * DAY, NOW + 60 * DAY, None, "not valid until"),
    ("Encrypt Only", NOW - DAY, NOW + 60 * DAY, False, "has a key usage without digitalSignature"),
])
def test_verify_reports_an_unfit_signer_certificate(tmp_path: Path, name: str, not_before: Any, not_after: Any,
                                                    usage: Any, expected: str) -> None:
    """The reproduced cases: each of these verified "valid and trusted" before."""
    from generator.report.verify import load_trust, verify_pdf

    key, cert = make_signer(tmp_path, name, not_before, not_after,
                            key_usage=None if usage is None else _usage(digital_signature=False))
    result = verify_pdf(_signed_directly(key), "direct.pdf", load_trust([cert]))
    assert result.verdict == "valid signature, signer certificate not valid at the signing time"
    assert not result.signatures[0].trusted
    assert any(expected in p and "there is no timestamp" in p for p in result.problems), result.problems
