"""Signed go-live reports: PDF/A-3b content, PAdES seal, independent checks with poppler,
tampering, trust, timestamps, and the reports on the site."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.helpers import RUN_SITE, edit_text

pikepdf = pytest.importorskip("pikepdf")
RunCli = Callable[..., Result]
pytestmark = pytest.mark.skipif(shutil.which("pdfsig") is None and not os.environ.get("CI"),
                                reason="poppler-utils (pdfsig) not installed")


def pdfsig(path: Path) -> str:
    """poppler's independent opinion (it exits 0 even on a digest mismatch: read the text)."""
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout


def pdftext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> Iterator[tuple[Path, str, Path]]:
    """A closed run: (project, run id, report PDF)."""
    from click.testing import CliRunner

    from generator.cli import cli

    project = tmp_path_factory.mktemp("sealed")
    import textwrap

    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))
    evidence = project / "db-check.txt"
    evidence.write_text("replication lag 0.2 s\n")

    def run(*args: Any) -> Result:
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run_id = run("run", "start", "deploy", "--release", "v2.0 🚀", "--change", "CHG-9", "--env", "prod",
                 "--operator", "Olga", "--at", "2026-06-01T08:00:00Z", "-C", project).stdout.strip()
    for item, status, note in (("announce", "done", ""), ("freeze", "done", ""), ("migrate", "failed", "lock timeout"),
                               ("partners", "na", "no partner change")):
        args = ["run", "mark", run_id, item, "--status", status, "--by", "Ari", "--at", "2026-06-01T08:30:00Z"]
        run(*args, *(["--note", note] if note else []), *(["--evidence", evidence] if item == "freeze" else []),
            "-C", project)
    run("run", "signoff", run_id, "--role", "Release Manager", "--name", "Rhea", "--decision", "approve",
        "--at", "2026-06-01T09:00:00Z", "-C", project)
    run("run", "signoff", run_id, "--role", "Security", "--name", "Sam", "--decision", "reject",
        "--comment", "migration failed", "--at", "2026-06-01T09:05:00Z", "-C", project)
    run("run", "close", run_id, "--key", signing_key.pkcs12, "--at", "2026-06-01T09:10:00Z", "-C", project)
    yield project, run_id, project / f"content/runs/deploy/{run_id}.pdf"


def test_keys_new_makes_a_private_pkcs12_and_a_pem(signing_key: Any) -> None:
    from cryptography import x509

    assert stat.S_IMODE(os.stat(signing_key.pkcs12).st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(signing_key.certificate.read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert "Test Sealer" in signing_key.subject


def test_keys_new_refuses_to_overwrite(signing_key: Any, run_cli: RunCli) -> None:
    result = run_cli("keys", "new", "--no-passphrase", "--out", signing_key.pkcs12.parent)
    assert result.exit_code == 1 and "refusing to overwrite" in result.stderr


def test_bad_key_or_passphrase_is_a_clear_error(started: tuple[Path, str], run_cli: RunCli, signing_key: Any,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project, run_id = started
    monkeypatch.setenv("LAUNCHBOOK_SIGNING_PASSPHRASE", "wrong")
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "-C", project)
    assert result.exit_code == 1
    assert "cannot load signing key" in result.stderr and "passphrase" in result.stderr
    monkeypatch.delenv("LAUNCHBOOK_SIGNING_PASSPHRASE")
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"not a key")
    assert "cannot load signing key" in run_cli("run", "close", run_id, "--key", junk, "-C", project).stderr
    monkeypatch.delenv("LAUNCHBOOK_SIGNING_KEY", raising=False)
    assert "no signing key" in run_cli("run", "close", run_id, "-C", project).stderr
    assert not list((project / "content/runs/deploy").glob("*.pdf"))


def test_close_refuses_open_required_items_unless_forced(started: tuple[Path, str], run_cli: RunCli,
                                                         signing_key: Any) -> None:
    project, run_id = started
    record = project / f"content/runs/deploy/{run_id}.yml"
    before = record.read_bytes()
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "-C", project)
    assert result.exit_code == 1
    assert "3 required items are still open (announce, freeze, migrate)" in result.stderr
    assert record.read_bytes() == before
    forced = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "--json", "-C", project)
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["forced"] is True
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    assert "Closed with exceptions: 3 required item(s) were still open" in pdftext(pdf)
    again = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "-C", project)
    assert again.exit_code == 1 and "already closed" in again.stderr
    assert run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project).exit_code == 1


def test_poppler_says_the_signature_is_valid_and_covers_everything(sealed: tuple[Path, str, Path]) -> None:
    _, _, pdf = sealed
    report = pdfsig(pdf)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signature Type: ETSI.CAdES.detached" in report  # PAdES, not pyHanko's default subfilter


def test_pdfa3b_metadata_outline_fonts_and_attachments(sealed: tuple[Path, str, Path]) -> None:
    from generator.runs.operations import show_run
    from generator.runs.record import canonical_json

    project, run_id, pdf = sealed
    with pikepdf.open(pdf) as document:
        with document.open_metadata() as xmp:
            assert (xmp.get("pdfaid:part"), xmp.get("pdfaid:conformance")) == ("3", "B")
        info = document.docinfo
        assert str(info["/Title"]) == "Go-live report: Deploy the API, v2.0 🚀"
        assert str(info["/Author"]) == "Olga"
        assert "NO-GO" in str(info["/Subject"]) and "CHG-9" in str(info["/Keywords"])
        assert str(info["/CreationDate"]).startswith("D:20260601080000")  # from the record
        assert str(info["/ModDate"]) > "D:2026"  # signing is a modification; pyHanko keeps Info and XMP in step
        with document.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert {"Cover", "Exceptions", "Sign-off"} <= set(titles)
        files = {name: spec for name, spec in document.attachments.items()}
        assert sorted(files) == ["evidence-db-check.txt", "evidence-manifest.json", "run-record.json"]
        assert [str(x.AFRelationship) for x in document.Root.AF].count("/Data") == 2
        record = files["run-record.json"].get_file().read_bytes()
    _, archived = show_run(project, run_id)
    assert record == canonical_json(archived.archived_data())
    assert hashlib.sha256(record).hexdigest() == archived.digest()
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts), fonts  # every font embedded


def test_report_text_cover_exceptions_signoff_and_stamp(sealed: tuple[Path, str, Path]) -> None:
    _, run_id, pdf = sealed
    text = pdftext(pdf)
    assert "NO-GO" in text and "Release v2.0 🚀 to prod" in text
    assert "1 required item failed or blocked" in text
    assert "lock timeout" in text and "no partner change" in text
    assert "migration failed" in text and "reject" in text
    assert f"Run {run_id}" in text and "page 2 of" in text
    assert "db-check.txt" in text
    with pikepdf.open(pdf) as document:
        annots = [a for page in document.pages for a in page.get("/Annots", [])]
        seal = [a for a in annots if str(a.get("/T", "")) == "LaunchbookSeal"]
        assert seal and seal[0].Rect[2] > seal[0].Rect[0]  # visible, not a zero-size field


def test_same_record_renders_the_same_bytes(sealed: tuple[Path, str, Path]) -> None:
    from generator.report.render import render_report
    from generator.runs.operations import show_run
    from generator.runs.outcome import summarize

    project, run_id, _ = sealed
    run, record = show_run(project, run_id)
    first = render_report(record, summarize(record), None, run.folder).pdf
    second = render_report(record, summarize(record), None, run.folder).pdf
    assert first == second


def test_verify_trusted_untrusted_and_archived_record(sealed: tuple[Path, str, Path], run_cli: RunCli,
                                                      signing_key: Any) -> None:
    project, run_id, pdf = sealed
    untrusted = run_cli("verify", pdf, "-C", project, "--json")
    assert untrusted.exit_code == 1
    data = json.loads(untrusted.stdout)["results"][0]
    assert data["verdict"] == "valid signature, untrusted signer"
    assert data["record_matches"] is True
    trusted = run_cli("verify", pdf, "--trust", signing_key.certificate, "-C", project, "--json")
    assert trusted.exit_code == 0, trusted.output
    report = json.loads(trusted.stdout)["results"][0]
    assert report["verdict"] == "valid and trusted" and report["run"] == run_id
    assert report["signatures"][0]["fingerprint"] == signing_key.fingerprint
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    try:
        assert run_cli("verify", pdf, "-C", project).exit_code == 1  # the archive never vouches for itself …
        assert run_cli("verify", pdf, "-C", project, "--trust-project").exit_code == 0  # … unless asked to
    finally:
        (project / "content/site.yml").unlink()


def test_tampering_is_detected(sealed: tuple[Path, str, Path], run_cli: RunCli, signing_key: Any, tmp_path: Path) -> None:
    _, _, pdf = sealed
    data = pdf.read_bytes()
    trust = ("--trust", signing_key.certificate)
    one_byte = tmp_path / "one-byte.pdf"
    middle = len(data) // 3
    one_byte.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
    assert "Digest Mismatch" in pdfsig(one_byte)
    result = run_cli("verify", one_byte, *trust)
    assert result.exit_code == 1 and "invalid" in result.stdout

    appended = tmp_path / "appended.pdf"
    appended.write_bytes(data + b"\n% appended after signing\n")
    result = run_cli("verify", appended, *trust)
    assert result.exit_code == 1
    assert "bytes or an incremental update were added after the last signature" in result.stdout

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    updated = BytesIO()
    writer.write(updated)
    incremental = tmp_path / "incremental.pdf"
    incremental.write_bytes(updated.getvalue())
    result = run_cli("verify", incremental, *trust)
    assert result.exit_code == 1 and "added after the last signature" in result.stdout


def test_resigned_with_another_key_is_untrusted(sealed: tuple[Path, str, Path], run_cli: RunCli, signing_key: Any,
                                                tmp_path: Path) -> None:
    from generator.report.keys import create_key, load_signer
    from generator.report.render import render_report
    from generator.report.sign import sign_report
    from generator.runs.operations import show_run
    from generator.runs.outcome import summarize

    project, run_id, _ = sealed
    run, record = show_run(project, run_id)
    import dataclasses

    forged_record = dataclasses.replace(record, summary="everything was fine")
    rogue = create_key(tmp_path / "rogue", "Test Sealer")
    rendered = render_report(forged_record, summarize(forged_record), None, run.folder)
    forged, _ = sign_report(rendered, load_signer(str(rogue.pkcs12)), reason="forged")
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    result = run_cli("verify", path, "--trust", signing_key.certificate, "-C", project)
    assert result.exit_code == 1
    assert "is not trusted" in result.stdout
    assert "embedded record differs from the archived record (summary)" in result.stdout


def test_edited_archived_record_no_longer_matches(sealed: tuple[Path, str, Path], run_cli: RunCli,
                                                  signing_key: Any) -> None:
    project, run_id, pdf = sealed
    record = project / f"content/runs/deploy/{run_id}.yml"
    original = record.read_text()
    edit_text(record, "operator: Olga", "operator: Mallory")
    try:
        result = run_cli("verify", pdf, "--trust", signing_key.certificate, "-C", project)
        assert result.exit_code == 1
        assert "embedded record differs from the archived record (operator)" in result.stdout
    finally:
        record.write_text(original)


def test_draft_report_is_watermarked_and_unsigned(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    out = tmp_path / "draft.pdf"
    result = run_cli("report", run_id, "-o", out, "-C", project, "--json")
    assert result.exit_code == 0, result.output
    assert "DRAFT" in pdftext(out)
    assert "not signed" in run_cli("verify", out).stdout
    assert not list((project / "content/runs/deploy").glob("*.pdf"))  # drafts never land in the archive


def test_site_links_report_and_shows_verification(sealed: tuple[Path, str, Path], run_cli: RunCli,
                                                  signing_key: Any) -> None:
    project, run_id, pdf = sealed
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    try:
        assert run_cli("build", "-C", project).exit_code == 0
    finally:
        (project / "content/site.yml").unlink()
    html = (project / f"output/runs/deploy/{run_id}.html").read_text()
    assert f'<a class="report-link" href="{run_id}.pdf">' in html
    assert "Verified when this site was built: <strong>valid, trusted by this project&#39;s configuration</strong>" in html
    assert signing_key.fingerprint in html
    assert (project / f"output/runs/deploy/{run_id}.pdf").read_bytes() == pdf.read_bytes()


def test_timestamped_signature_b_t(started: tuple[Path, str], run_cli: RunCli, signing_key: Any,
                                   local_tsa: str) -> None:
    project, run_id = started
    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "--tsa", local_tsa, "-C", project)
    assert result.exit_code == 0, result.output
    pdf = project / f"content/runs/deploy/{run_id}.pdf"
    assert "Signature is Valid" in pdfsig(pdf)
    verified = json.loads(run_cli("verify", pdf, "--trust", signing_key.certificate, "--json").stdout)
    assert verified["results"][0]["signatures"][0]["timestamped"] is True


def test_close_several_runs_in_one_command(started: tuple[Path, str], run_cli: RunCli, signing_key: Any) -> None:
    project, first = started
    second = json.loads(run_cli("run", "start", "deploy", "--release", "v1.1", "--at", "2026-03-02T10:00:00Z",
                                "-C", project, "--json").stdout)["id"]
    result = run_cli("-v", "run", "close", first, second, "--key", signing_key.pkcs12, "--force",
                     "--at", "2026-03-02T12:00:00Z", "-C", project)
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [f"Closed {first}", f"Closed {second}"]
    assert "Sealing runs: 2/2 done" in result.stderr
    assert (project / f"content/runs/deploy/{first}.pdf").is_file()
    assert (project / f"content/runs/deploy/{second}.pdf").is_file()
    ledger = (project / "content/runs/ledger.jsonl").read_text().splitlines()
    assert len(ledger) == 2
    again = run_cli("run", "close", first, "--key", signing_key.pkcs12, "-C", project)
    assert again.exit_code == 1 and "already" in again.stderr


def test_run_close_finds_the_key_keys_new_made_in_its_default_place(started: tuple[Path, str], run_cli: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    project, run_id = started
    monkeypatch.delenv("LAUNCHBOOK_SIGNING_KEY", raising=False)
    monkeypatch.chdir(project)  # `keys new` writes to .launchbook/keys/ of the folder it runs in
    made = run_cli("keys", "new", "--no-passphrase", "--name", "Default Place")
    assert made.exit_code == 0, made.output
    closed = run_cli("run", "close", run_id, "--force", "-C", project, "--json")
    assert closed.exit_code == 0, closed.output
    assert "Default Place" in json.loads(closed.stdout)["signer"]
