"""Long-term validation: PAdES B-B / B-T / B-LT at sealing, B-LTA with `launchbook timestamp`,
the ledger's document-timestamp lines, and `verify` naming every report's level.

A local test CA (made with ``cryptography``) issues the signing certificate; its CRL is
served by a bounded http.server on 127.0.0.1 that stops by itself, so B-LT really fetches
and embeds revocation data. The RFC 3161 authority is conftest's ``local_tsa``.
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from generator.report.longterm import sealed_prefix_intact

RunCli = Callable[..., Result]


@dataclass(frozen=True)
class Pki:
    """A CA with a CRL, a signing key it issued (PKCS#12) and the TSA's certificate (PEM)."""

    ca_pem: Path
    tsa_pem: Path
    p12: Path
    crl_der: bytes
    crl_fetches: list[str]


def _tsa_certificate(url: str) -> bytes:
    """The local TSA's certificate, taken from a token it issues."""
    import asyncio

    from cryptography.hazmat.primitives import serialization
    from cryptography.x509 import load_der_x509_certificate
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    stamper = HTTPTimeStamper(url, timeout=10)
    token = asyncio.run(stamper.async_timestamp(hashlib.sha256(b"x").digest(), "sha256"))
    cert = token["content"]["certificates"][0].chosen
    return load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory, local_tsa: str) -> Iterator[Pki]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)
    fetches: list[str] = []
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            fetches.append(self.path)
            body = served.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 1
    crl_url = f"http://127.0.0.1:{server.server_address[1]}/ca.crl"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Launchbook Test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA-issued Sealer")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
                                                  ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_name).last_update(now - datetime.timedelta(hours=1))
           .next_update(now + datetime.timedelta(days=30))
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
           .sign(ca_key, hashes.SHA256()))
    served["/ca.crl"] = crl.public_bytes(serialization.Encoding.DER)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(_tsa_certificate(local_tsa))
    (folder / "sealer.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"sealer", key, leaf, [ca], serialization.NoEncryption()))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Pki(folder / "ca.pem", folder / "tsa.pem", folder / "sealer.p12", served["/ca.crl"], fetches)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _site(project: Path, pki: Pki, tsa: str | None) -> None:
    lines = ["trust:", f"  - {pki.ca_pem}", f"  - {pki.tsa_pem}"]
    if tsa:
        lines.append(f"timestamp_url: {tsa}")
    (project / "content/site.yml").write_text("\n".join(lines) + "\n")


def _close(run_cli: RunCli, project: Path, run_id: str, key: Path, *extra: str) -> dict[str, Any]:
    result = run_cli("run", "close", run_id, "--key", key, "--force", *extra, "-C", project, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _verify(run_cli: RunCli, *args: Any) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def _dss(pdf: bytes) -> dict[str, int]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf)))
    return {"/Certs": len(dss.certs), "/CRLs": len(dss.crls), "/OCSPs": len(dss.ocsps)}


def _dss_crls(pdf: bytes) -> list[bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    return [crl.get_object().data for crl in DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf))).crls]


def test_without_tsa_the_seal_is_b_b_and_says_so(started: tuple[Path, str], run_cli: RunCli,
                                                 signing_key: Any) -> None:
    project, run_id = started
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "-C", project)
    assert result.exit_code == 0, result.output
    assert "PAdES B-B" in result.stdout
    assert "no timestamp authority configured" in result.stderr
    record = (project / f"content/runs/deploy/{run_id}.yml").read_text()
    assert "pades_level: B-B" in record
    code, verified = _verify(run_cli, project, "--trust", signing_key.certificate)
    assert code == 0, verified
    assert verified["results"][0]["runs"][0]["pades_level"] == "B-B"
    text = run_cli("verify", project, "--trust", signing_key.certificate).stdout
    assert f"{run_id}: PAdES B-B" in text


def test_tsa_in_site_yml_gives_b_lt_with_the_fetched_crl_in_the_dss(started: tuple[Path, str], run_cli: RunCli,
                                                                     pki: Pki, local_tsa: str) -> None:
    project, run_id = started
    _site(project, pki, local_tsa)
    before = len(pki.crl_fetches)
    row = _close(run_cli, project, run_id, pki.p12)
    assert row["pades_level"] == "B-LT", row
    assert row["timestamped"] is True
    assert len(pki.crl_fetches) > before  # fetched from the certificate's own distribution point
    pdf = (project / f"content/runs/deploy/{run_id}.pdf").read_bytes()
    dss = _dss(pdf)
    assert dss["/CRLs"] >= 1 and dss["/Certs"] >= 2, dss
    assert _dss_crls(pdf) == [pki.crl_der]  # the CA's CRL itself, as served
    code, verified = _verify(run_cli, project / f"content/runs/deploy/{run_id}.pdf", "-C", project, "--trust-project")
    assert code == 0, verified
    assert verified["results"][0]["pades_level"] == "B-LT"
    assert "PAdES B-LT" in run_cli("verify", project / f"content/runs/deploy/{run_id}.pdf", "-C", project).stdout


def test_untrusted_tsa_falls_back_to_b_t_and_says_why(started: tuple[Path, str], run_cli: RunCli,
                                                      signing_key: Any, local_tsa: str) -> None:
    project, run_id = started
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "--tsa", local_tsa, "-C", project)
    assert result.exit_code == 0, result.output
    assert "PAdES B-T" in result.stdout
    assert "validation data not embedded" in result.stderr
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    code, verified = _verify(run_cli, pdf, "--trust", signing_key.certificate, "-C", project)
    assert code == 0, verified
    assert verified["results"][0]["pades_level"] == "B-T"


@pytest.fixture
def sealed_lt(started: tuple[Path, str], run_cli: RunCli, pki: Pki, local_tsa: str) -> tuple[Path, str, Path]:
    project, run_id = started
    _site(project, pki, local_tsa)
    assert _close(run_cli, project, run_id, pki.p12)["pades_level"] == "B-LT"
    return project, run_id, project / f"content/runs/deploy/{run_id}.pdf"


def test_timestamp_renews_to_b_lta_as_a_ledger_recorded_revision(sealed_lt: tuple[Path, str, Path],
                                                                   run_cli: RunCli) -> None:
    project, run_id, pdf = sealed_lt
    sealed = pdf.read_bytes()
    record = (project / f"content/runs/deploy/{run_id}.yml").read_bytes()
    result = run_cli("timestamp", "-C", project, "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["timestamped"][0]
    assert (row["run"], row["pades_level"], row["ledger_seq"]) == (run_id, "B-LTA", 1)
    stamped = pdf.read_bytes()
    assert stamped.startswith(sealed) and len(stamped) > len(sealed)
    assert (project / f"content/runs/deploy/{run_id}.yml").read_bytes() == record  # the record never changes
    lines = [json.loads(line) for line in (project / "content/runs/ledger.jsonl").read_text().splitlines()]
    assert lines[1] == {"seq": 1, "kind": "document-timestamp", "run": run_id, "stamped_at": row["stamped_at"],
                        "prior_sha256": hashlib.sha256(sealed).hexdigest(),
                        "report_sha256": hashlib.sha256(stamped).hexdigest(), "level": "B-LTA"}
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 0, verified
    assert verified["results"][0]["runs"][0]["pades_level"] == "B-LTA"
    assert f"{run_id}: PAdES B-LTA" in run_cli("verify", project, "--trust-project").stdout
    # A second renewal chains onto the first.
    again = run_cli("timestamp", pdf, "-C", project)
    assert again.exit_code == 0, again.output
    assert f"Timestamped {run_id}" in again.stdout and "ledger entry 3" in again.stdout
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 0, verified
    report = verified["results"][0]["runs"][0]
    assert report["pades_level"] == "B-LTA"


def test_verify_catches_a_revision_the_ledger_does_not_record(sealed_lt: tuple[Path, str, Path],
                                                              run_cli: RunCli) -> None:
    project, run_id, pdf = sealed_lt
    ledger = project / "content/runs/ledger.jsonl"
    before = ledger.read_bytes()
    assert run_cli("timestamp", project).exit_code == 0
    ledger.write_bytes(before)  # the timestamp line dropped: an unrecorded (but allowed) revision
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 0, verified  # an allowed revision by a trusted authority, as Acrobat may add
    messages = [p["message"] for p in verified["results"][0]["notes"]]
    assert any("revisions after its seal that the ledger does not record" in m for m in messages), messages


def test_verify_and_timestamp_refuse_a_changed_sealed_revision(sealed_lt: tuple[Path, str, Path],
                                                               run_cli: RunCli) -> None:
    project, run_id, pdf = sealed_lt
    data = bytearray(pdf.read_bytes())
    at = data.index(b"/Producer")
    data[at + 1] ^= 0x20  # one byte inside the sealed revision
    pdf.write_bytes(bytes(data))
    result = run_cli("timestamp", project)
    assert result.exit_code == 1
    assert "refusing to timestamp" in result.output
    assert len((project / "content/runs/ledger.jsonl").read_text().splitlines()) == 1
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 1
    messages = " ".join(p["message"] for p in verified["results"][0]["problems"])
    assert "report differs from the one in ledger entry 1" in messages


def test_timestamp_without_tsa_is_one_clear_error(started: tuple[Path, str], run_cli: RunCli,
                                                   signing_key: Any) -> None:
    project, run_id = started
    _close(run_cli, project, run_id, Path(signing_key.pkcs12))
    result = run_cli("timestamp", project)
    assert result.exit_code == 1
    assert "no timestamp authority" in result.output and "Traceback" not in result.output


def test_timestamp_with_an_untrusted_tsa_changes_nothing(started: tuple[Path, str], run_cli: RunCli,
                                                          signing_key: Any, local_tsa: str) -> None:
    project, run_id = started
    _close(run_cli, project, run_id, Path(signing_key.pkcs12))
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    sealed = pdf.read_bytes()
    result = run_cli("timestamp", project, "--tsa", local_tsa)
    assert result.exit_code == 1
    assert "trust" in result.output
    assert pdf.read_bytes() == sealed
    assert len((project / "content/runs/ledger.jsonl").read_text().splitlines()) == 1


def test_old_ledgers_without_timestamp_lines_still_verify(sealed_lt: tuple[Path, str, Path], run_cli: RunCli) -> None:
    project, _, _ = sealed_lt
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 0, verified
    assert verified["results"][0]["ledger"]["entries"] == 1


def test_sealed_prefix_intact() -> None:
    sealed = b"%PDF-1.7\n...\n%%EOF\n"
    later = sealed + b"1 0 obj\n<<>>\nendobj\n%%EOF\n"
    digest = hashlib.sha256(sealed).hexdigest()
    assert sealed_prefix_intact(later, digest)
    assert sealed_prefix_intact(later, digest, len(sealed))
    assert not sealed_prefix_intact(later, digest, len(sealed) + 1)
    assert not sealed_prefix_intact(b"%PDF-1.7\n..,\n%%EOF\n" + later[len(sealed):], digest)


def test_a_b_b_report_renewed_gets_its_time_and_validation_data(started: tuple[Path, str], run_cli: RunCli,
                                                                signing_key: Any, pki: Pki,
                                                                local_tsa: str) -> None:
    project, run_id = started
    _close(run_cli, project, run_id, Path(signing_key.pkcs12))
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    trust = ("--trust", pki.tsa_pem, "--trust", signing_key.certificate)
    first = run_cli("timestamp", project, "--tsa", local_tsa, *trust, "--json")
    assert first.exit_code == 0, first.output
    # The first document timestamp is the report's time (B-T) and covers the signer's validation data: B-LT.
    assert json.loads(first.stdout)["timestamped"][0]["pades_level"] == "B-LT"
    assert _dss(pdf.read_bytes())["/Certs"] >= 2
    second = run_cli("timestamp", project, "--tsa", local_tsa, *trust, "--json")
    assert json.loads(second.stdout)["timestamped"][0]["pades_level"] == "B-LTA"
    code, verified = _verify(run_cli, project, *trust)
    assert code == 0, verified
    assert verified["results"][0]["runs"][0]["pades_level"] == "B-LTA"


def test_verify_refuses_timestamp_lines_that_do_not_chain(sealed_lt: tuple[Path, str, Path], run_cli: RunCli) -> None:
    project, run_id, pdf = sealed_lt
    assert run_cli("timestamp", project).exit_code == 0
    ledger = project / "content/runs/ledger.jsonl"
    lines = ledger.read_text().splitlines()
    stamp = json.loads(lines[1])
    forged = {**stamp, "seq": 2, "prior_sha256": "0" * 64, "report_sha256": stamp["report_sha256"]}
    ghost = {**stamp, "seq": 3, "run": "20990101-0000-nope", "prior_sha256": stamp["report_sha256"]}
    ledger.write_text("\n".join([*lines, *(json.dumps(e, sort_keys=True, separators=(",", ":"))
                                           for e in (forged, ghost)), ""]))
    code, verified = _verify(run_cli, project, "--trust-project")
    assert code == 1
    messages = [p["message"] for p in verified["results"][0]["problems"]]
    assert any("ledger entry 3 timestamps a report" in m and "never recorded" in m for m in messages), messages
    assert any("ledger entry 4 timestamps run 20990101-0000-nope" in m for m in messages), messages


def test_verify_names_an_untrusted_document_timestamp_authority(sealed_lt: tuple[Path, str, Path], run_cli: RunCli,
                                                                pki: Pki, tmp_path: Path) -> None:
    project, run_id, pdf = sealed_lt
    assert run_cli("timestamp", project).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "content").mkdir(parents=True)
    code, verified = _verify(run_cli, pdf, "--trust", pki.ca_pem, "-C", elsewhere)
    assert code == 1
    result = verified["results"][0]
    assert result["pades_level"] == "B-LTA"
    assert [s["level"] for s in result["signatures"]] == ["B-LTA"]
    assert [s["level"] for s in result["document_timestamps"]] == ["document timestamp"]
    assert any("timestamp authority" in p and "is not trusted" in p for p in result["problems"]), result["problems"]
    code, verified = _verify(run_cli, pdf, "--trust", pki.ca_pem, "--trust", pki.tsa_pem, "-C", elsewhere)
    # trusted now; what is left is only that no archived record was there to compare with
    assert [p for p in verified["results"][0]["problems"] if "not compared" not in p] == [], verified
    code, verified = _verify(run_cli, pdf, "--trust", pki.ca_pem, "--trust", pki.tsa_pem, "-C", project)
    assert code == 0, verified


def test_an_audit_bundle_of_a_renewed_report_verifies(sealed_lt: tuple[Path, str, Path], run_cli: RunCli,
                                                      signing_key: Any, tmp_path: Path) -> None:
    project, run_id, pdf = sealed_lt
    assert run_cli("timestamp", project).exit_code == 0
    bundle = tmp_path / "bundle.zip"
    made = run_cli("bundle", run_id, "-o", bundle, "--key", signing_key.pkcs12, "-C", project)
    assert made.exit_code == 0, made.output
    code, verified = _verify(run_cli, bundle, "--trust", signing_key.certificate, "-C", project, "--trust-project")
    assert code == 0, verified


def test_approvals_and_timestamps_chain_in_the_ledger_and_cutting_one_off_is_caught(
        sealed_lt: tuple[Path, str, Path], run_cli: RunCli, tmp_path: Path, local_tsa: str) -> None:
    """Seal, approve, renew, approve again: every revision recorded and accepted; the file cut back
    to the first approval loses a recorded timestamp and a recorded approval, and verify names both."""
    from generator.report.keys import create_key

    project, run_id, pdf = sealed_lt
    approver = create_key(tmp_path / "approver", "Change Board")
    trust = ("--trust-project", "--trust", approver.certificate)
    first = run_cli("run", "approve", run_id, "--key", approver.pkcs12, "--role", "CAB", "--tsa", local_tsa,
                    "-C", project, "--json")
    assert first.exit_code == 0, first.output
    after_first = pdf.read_bytes()
    assert run_cli("timestamp", project).exit_code == 0
    second = run_cli("run", "approve", run_id, "--key", approver.pkcs12, "--role", "Security", "-C", project)
    assert second.exit_code == 0, second.output
    kinds = [json.loads(line).get("kind", "seal")
             for line in (project / "content/runs/ledger.jsonl").read_text().splitlines()]
    assert kinds == ["seal", "approval", "document-timestamp", "approval"]
    code, verified = _verify(run_cli, project, *trust)
    assert code == 0, verified
    run = verified["results"][0]["runs"][0]
    assert [s["reason"].split(" (")[0] for s in run["signatures"]][1:] == ["Approved as CAB", "Approved as Security"]
    assert len(run["document_timestamps"]) == 1 and not verified["results"][0]["notes"]

    pdf.write_bytes(after_first)
    code, verified = _verify(run_cli, project, *trust)
    assert code == 1
    messages = [p["message"] for p in verified["results"][0]["problems"]]
    assert any("document timestamp of" in m and "ledger entry 3 is no longer in the report" in m for m in messages)
    assert any("approval by" in m and "(Security)" in m and "entry 4 is no longer" in m for m in messages), messages


def test_approve_refuses_a_report_with_revisions_the_ledger_does_not_know(
        sealed_lt: tuple[Path, str, Path], run_cli: RunCli, tmp_path: Path, local_tsa: str) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    from generator.report.keys import create_key

    project, run_id, pdf = sealed_lt
    out = BytesIO()  # a document timestamp added by another tool, not recorded in the ledger
    PdfTimeStamper(HTTPTimeStamper(local_tsa, https=False)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf.read_bytes())), "sha256", output=out)
    pdf.write_bytes(out.getvalue())
    ledger = (project / "content/runs/ledger.jsonl").read_bytes()
    approver = create_key(tmp_path / "approver", "Change Board")
    result = run_cli("run", "approve", run_id, "--key", approver.pkcs12, "-C", project)
    assert result.exit_code == 1
    assert "not the report the ledger last recorded" in result.stderr and "Traceback" not in result.output
    assert pdf.read_bytes() == out.getvalue() and (project / "content/runs/ledger.jsonl").read_bytes() == ledger
