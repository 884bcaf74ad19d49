"""Revisions after the seal: changes someone signs over are refused (pyHanko's modification
analysis against the certification's DocMDP level), legitimate approval signatures are
accepted and listed, `run approve` records them in the ledger, and only the auditor's
--trust decides who is trusted (never the archive's own site.yml unless --trust-project)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from generator.archive.audit import audit_project
from generator.report.keys import create_key, load_signer
from generator.report.verify import verify_pdf
from tests.test_audit import _make_run, _write_site


@pytest.fixture(scope="module")
def second_key(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_key(tmp_path_factory.mktemp("approver"), "Test Approver")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> tuple[Path, str]:
    project = tmp_path_factory.mktemp("revisions") / "project"
    _write_site(project)
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    return project, _make_run(project, "v1", 1, signing_key.pkcs12)


@pytest.fixture
def archive(pristine: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    project, run_id = pristine
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    return copy, run_id


def pdf_of(project: Path, run_id: str) -> Path:
    return project / f"content/runs/deploy/{run_id}.pdf"


def approve_with_pyhanko(data: bytes, key: Any, field: str = "Approval", writer: Any = None) -> bytes:
    """A plain approval signature (not a certification) over whatever revision ``writer`` holds."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    writer = writer or IncrementalPdfFileWriter(BytesIO(data))
    out = BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256",
                                                   subfilter=SigSeedSubFilter.PADES, reason="Approved"),
                      signer=load_signer(str(key.pkcs12))).sign_pdf(writer, output=out)
    return out.getvalue()


def paint_go(data: bytes) -> Any:
    """An incremental update drawing a white box and "GO" over the cover's outcome."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    overlay = generic.StreamObject(stream_data=b"q 1 1 1 rg 40 600 500 120 re f 0 0 0 rg BT /F1 60 Tf 60 640 Td (GO) Tj "
                                               b"ET Q")
    contents = page["/Contents"]
    existing = list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    page["/Contents"] = generic.ArrayObject([*existing, writer.add_object(overlay)])
    writer.update_container(page)
    return writer


def add_stamp_annotation(data: bytes) -> Any:
    """An incremental update adding a free-text annotation "GO" on the cover (P=2 forbids annotations)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    annotation = generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/FreeText"),
        generic.pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (40, 600, 540, 720)]),
        generic.pdf_name("/Contents"): generic.TextStringObject("GO"),
        generic.pdf_name("/DA"): generic.TextStringObject("/Helv 60 Tf 0 g"),
    })
    annots = list(page.get("/Annots") or [])
    page["/Annots"] = generic.ArrayObject([*annots, writer.add_object(annotation)])
    writer.update_container(page)
    return writer


def swap_record(data: bytes) -> Any:
    """An incremental update replacing the embedded run-record.json with a forged one."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    for index in range(0, len(names), 2):
        if str(names[index]) == "run-record.json":
            spec = names[index + 1].get_object()
            stream = spec["/EF"]["/F"].get_object()
            record = json.loads(stream.data)
            record["summary"] = "all good"
            forged = generic.StreamObject({generic.pdf_name("/Type"): generic.pdf_name("/EmbeddedFile")},
                                          stream_data=json.dumps(record).encode())
            ef = spec["/EF"]
            ef["/F"] = writer.add_object(forged)
            writer.update_container(spec)
    return writer


def cli_verify(run_cli: Callable[..., Any], *args: Any) -> tuple[int, dict[str, Any], str]:
    result = run_cli("verify", *args, "--json")
    data = json.loads(result.stdout)["results"][0] if result.stdout.strip().startswith("{") else {}
    return result.exit_code, data, result.output


@pytest.mark.parametrize("attack", [paint_go, swap_record, add_stamp_annotation],
                         ids=["paint-go-over-cover", "swap-embedded-record", "annotate-cover"])
def test_changes_signed_over_by_a_trusted_key_are_refused(archive: tuple[Path, str], signing_key: Any,
                                                          second_key: Any, run_cli: Callable[..., Any],
                                                          attack: Callable[[bytes], Any]) -> None:
    project, run_id = archive
    pdf = pdf_of(project, run_id)
    sealed = pdf.read_bytes()
    pdf.write_bytes(approve_with_pyhanko(sealed, second_key, writer=attack(sealed)))
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    code, data, output = cli_verify(run_cli, pdf, *trust)
    assert code == 1, output
    assert data["verdict"] == "modified after signing"
    changed = [p for p in data["problems"] if "changed after signature 'LaunchbookSeal' beyond what the "
                                              "certification allows" in p]
    assert changed, data["problems"]
    if attack is paint_go:
        assert "/Contents" in changed[0]  # names what changed
    elif attack is swap_record:
        assert "embedded files changed after the seal: run-record.json" in data["problems"]
        assert data["sealed_revision"]["sha256"]
    code, project_data, output = cli_verify(run_cli, project, *trust)
    assert code == 1
    assert any("beyond what the certification allows" in p["message"] for p in project_data["problems"]), output


def test_swapped_record_is_read_from_the_sealed_revision(archive: tuple[Path, str], signing_key: Any,
                                                         second_key: Any) -> None:
    from generator.report.verify import load_trust

    project, run_id = archive
    sealed = pdf_of(project, run_id).read_bytes()
    forged = approve_with_pyhanko(sealed, second_key, writer=swap_record(sealed))
    check = verify_pdf(forged, "forged.pdf", load_trust([signing_key.certificate, second_key.certificate]))
    assert check.record is not None and check.record.get("summary") != "all good"


def test_approval_signed_with_pyhanko_is_accepted_and_listed(archive: tuple[Path, str], signing_key: Any,
                                                             second_key: Any, run_cli: Callable[..., Any]) -> None:
    project, run_id = archive
    pdf = pdf_of(project, run_id)
    pdf.write_bytes(approve_with_pyhanko(pdf.read_bytes(), second_key))
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    code, data, output = cli_verify(run_cli, project, *trust)
    assert code == 0, output
    code, report, output = cli_verify(run_cli, pdf, *trust, "-C", project)
    assert code == 0, output
    assert report["verdict"] == "valid and trusted" and report["record_matches"] is True
    seal, approval = report["signatures"]
    assert seal["certification"] and seal["changes"] == "form filling" and seal["changes_allowed"]
    assert approval["signer"].endswith("Test Approver") and approval["reason"] == "Approved"
    assert not approval["certification"] and approval["whole_file"]
    # An approver the auditor does not trust is named, never silently accepted.
    code, data, output = cli_verify(run_cli, project, "--trust", signing_key.certificate)
    assert code == 1 and any("Test Approver" in p["message"] and "is not trusted" in p["message"]
                             for p in data["problems"]), output


def test_run_approve_signs_records_and_survives_verify_and_bundle(archive: tuple[Path, str], signing_key: Any,
                                                                  second_key: Any, run_cli: Callable[..., Any],
                                                                  tmp_path: Path) -> None:
    from generator.archive.bundle import create_bundle, verify_bundle

    project, run_id = archive
    pdf = pdf_of(project, run_id)
    sealed = pdf.read_bytes()
    result = run_cli("run", "approve", run_id, "--key", second_key.pkcs12, "--role", "CAB", "-C", project, "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["kind"] == "approval" and answer["role"] == "CAB" and answer["seq"] == 1
    assert pdf.read_bytes().startswith(sealed) and len(pdf.read_bytes()) > len(sealed)
    line = json.loads((project / "content/runs/ledger.jsonl").read_text().splitlines()[1])
    assert line["kind"] == "approval" and line["run"] == run_id and line["report_size"] == len(pdf.read_bytes())
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    code, data, output = cli_verify(run_cli, project, *trust)
    assert code == 0, output
    listed = next(r for r in data["runs"] if r["run"] == run_id)["signatures"]
    assert [s["reason"].split(" (")[0] for s in listed][1] == "Approved as CAB"
    assert listed[1]["signer"].endswith("Test Approver") and listed[1]["signed_at"]
    text = run_cli("verify", pdf, *trust).stdout
    assert "approved by" in text and "Approved as CAB" in text
    bundle, _ = create_bundle(project, run_id, tmp_path / "b.zip", str(signing_key.pkcs12))
    check = verify_bundle(bundle, [signing_key.certificate, second_key.certificate])
    assert check.ok, check.problems
    assert [s["reason"] for s in check.to_data()["signatures"]][1].startswith("Approved as CAB")
    # A second approval on top of the first; then cutting the file back loses a recorded approval.
    assert run_cli("run", "approve", run_id, "--key", signing_key.pkcs12, "-C", project).exit_code == 0
    assert cli_verify(run_cli, project, *trust)[0] == 0
    pdf.write_bytes(sealed)
    code, data, output = cli_verify(run_cli, project, *trust)
    assert code == 1
    assert sum("is no longer in the report" in p["message"] for p in data["problems"]) == 2, output


def test_run_approve_refuses_open_runs_and_tampered_reports(archive: tuple[Path, str], signing_key: Any,
                                                            second_key: Any, run_cli: Callable[..., Any]) -> None:
    project, run_id = archive
    open_run = _make_run(project, "v2", 2, signing_key.pkcs12, close=False)
    result = run_cli("run", "approve", open_run, "--key", second_key.pkcs12, "-C", project)
    assert result.exit_code == 1 and "is not closed yet" in result.output
    pdf = pdf_of(project, run_id)
    pdf.write_bytes(approve_with_pyhanko(pdf.read_bytes(), second_key, writer=paint_go(pdf.read_bytes())))
    ledger = (project / "content/runs/ledger.jsonl").read_bytes()
    result = run_cli("run", "approve", run_id, "--key", second_key.pkcs12, "-C", project)
    assert result.exit_code == 1 and "refusing to sign over it" in result.output
    assert (project / "content/runs/ledger.jsonl").read_bytes() == ledger


def test_approval_entries_keep_old_ledgers_verifying(archive: tuple[Path, str], second_key: Any,
                                                     run_cli: Callable[..., Any]) -> None:
    from generator.archive.ledger import ApprovalEntry, LedgerEntry, parse_ledger, tree_head

    project, run_id = archive
    path = project / "content/runs/ledger.jsonl"
    before = path.read_bytes()
    entries, problems, leaves = parse_ledger(before, "ledger.jsonl")
    assert not problems and all(isinstance(e, LedgerEntry) for e in entries)
    assert run_cli("run", "approve", run_id, "--key", second_key.pkcs12, "-C", project).exit_code == 0
    after, problems, longer = parse_ledger(path.read_bytes(), "ledger.jsonl")
    assert not problems and isinstance(after[-1], ApprovalEntry)
    assert path.read_bytes().startswith(before) and tree_head(longer, len(leaves)) == tree_head(leaves)
    # An approval line for a run the ledger never sealed is a finding.
    forged = ApprovalEntry(seq=2, run="nope", approved_at="2026-07-09T00:00:00Z", role="CAB", signer="x",
                           fingerprint="y", report_sha256="0" * 64, report_size=1)
    path.write_bytes(path.read_bytes() + forged.line_bytes() + b"\n")
    found = [str(f) for f in audit_project(project, []).findings]
    assert any("approval entry 3 names run nope" in f for f in found)


def test_only_the_auditor_decides_what_is_trusted(archive: tuple[Path, str], signing_key: Any,
                                                  run_cli: Callable[..., Any], tmp_path: Path) -> None:
    from generator.archive.checkpoint import make_checkpoint

    project, run_id = archive
    rogue = create_key(tmp_path / "rogue", "Rogue")
    site = project / "content/site.yml"
    site.write_text(f"trust:\n  - {signing_key.certificate}\n  - {rogue.certificate}\n")
    forged = tmp_path / "rogue-checkpoint.json"
    make_checkpoint(project, str(rogue.pkcs12), forged)
    (next((project / "content/runs/checkpoints").glob("checkpoint-*.json"))).unlink()
    code, data, output = cli_verify(run_cli, project)
    assert code == 1 and any("is not trusted" in p["message"] for p in data["problems"]), output
    code, data, output = cli_verify(run_cli, project, "--trust", signing_key.certificate, "--since", forged)
    assert code == 1 and any("signed by" in p["message"] and "Rogue" in p["message"] and "not trusted" in p["message"]
                             for p in data["problems"]), output
    code, _, output = cli_verify(run_cli, pdf_of(project, run_id), "-C", project)
    assert code == 1, output
    code, _, output = cli_verify(run_cli, project, "--trust-project", "--since", forged)
    assert code == 0, output  # on purpose only: the archive vouching for itself


def test_site_lists_signatures_and_says_whose_trust(archive: tuple[Path, str], signing_key: Any, second_key: Any,
                                                    run_cli: Callable[..., Any]) -> None:
    project, run_id = archive
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n  - {second_key.certificate}\n")
    assert run_cli("run", "approve", run_id, "--key", second_key.pkcs12, "--role", "CAB", "-C", project).exit_code == 0
    assert run_cli("build", "-C", project).exit_code == 0
    html = (project / f"output/runs/deploy/{run_id}.html").read_text()
    assert "integrity-problems" not in html  # a counter-signed report is not an integrity problem
    assert "Sealed by" in html and "Approved by" in html and "Approved as CAB" in html
    assert "trusted by this project&#39;s configuration" in html
    audit = (project / "output/audit.html").read_text() if (project / "output/audit.html").exists() else ""
    assert not audit or "trusted by this project" in audit


def test_a_new_visible_signature_widget_after_the_seal_is_refused(archive: tuple[Path, str], signing_key: Any,
                                                                  second_key: Any) -> None:
    """A new visible widget's appearance can paint anything over the cover, so (as pyHanko's policy says)
    approvals after a certification are invisible signatures; `run approve` makes those."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter

    from generator.report.verify import load_trust

    project, run_id = archive
    out = BytesIO()
    signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name="Visible", md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES),
        signer=load_signer(str(second_key.pkcs12)),
        new_field_spec=SigFieldSpec(sig_field_name="Visible", on_page=0, box=(40, 600, 540, 720)),
    ).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf_of(project, run_id).read_bytes())), output=out)
    check = verify_pdf(out.getvalue(), "visible.pdf", load_trust([signing_key.certificate, second_key.certificate]))
    assert check.verdict == "modified after signing"
    assert any("only allowed after an approval signature" in p for p in check.problems), check.problems


def test_document_timestamp_after_an_approval_is_allowed(archive: tuple[Path, str], signing_key: Any,
                                                         second_key: Any, local_tsa: str) -> None:
    """PAdES B-LTA adds document timestamps after the signatures: an allowed change, itself covering the file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper

    from generator.report.verify import load_trust

    project, run_id = archive
    approved = approve_with_pyhanko(pdf_of(project, run_id).read_bytes(), second_key)
    out = BytesIO()
    PdfTimeStamper(HTTPTimeStamper(local_tsa, https=False)).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(approved)), "sha256", output=out)
    trust = load_trust([signing_key.certificate, second_key.certificate])
    check = verify_pdf(out.getvalue(), "lta.pdf", trust)
    # the only complaint: this test's TSA is not among the trusted timestamp authorities
    assert [p for p in check.problems if "timestamp authority" not in p] == [], check.problems
    assert len(check.signatures) == 2 and len(check.timestamps) == 1 and check.timestamps[0].whole_file
    assert check.to_data()["document_timestamps"][0]["changes_allowed"]
    stamped = out.getvalue() + b"\n% later\n"
    assert "added after the last signature" in " ".join(verify_pdf(stamped, "x.pdf", trust).problems)


def test_signoff_on_a_closed_run_points_to_run_approve(archive: tuple[Path, str], run_cli: Callable[..., Any]) -> None:
    project, run_id = archive
    result = run_cli("run", "signoff", run_id, "--role", "CAB", "--name", "Cleo", "--decision", "approve", "-C", project)
    assert result.exit_code == 1 and "launchbook run approve" in result.output
