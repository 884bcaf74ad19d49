"""The tamper matrix: every way of quietly changing the archive must be caught by
`launchbook verify`, with a message naming what and where. A clean archive has no findings."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.archive.audit import audit_project
from generator.archive.bundle import create_bundle, verify_bundle
from generator.archive.checkpoint import make_checkpoint
from generator.archive.seal import close_run
from generator.runs.operations import add_signoff, mark_item
from generator.runs.start import start_run
from generator.runs.store import find_run, read_record, write_record
from tests.helpers import ROOT, RUN_SITE

RUNS = ("v1", "v2", "v3")


def _write_site(project: Path) -> None:
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))


def _make_run(project: Path, release: str, day: int, key: Path, *, close: bool = True) -> str:
    _, record = start_run(project, "deploy", release=release, operator="Olga", at=f"2026-07-0{day}T08:00:00Z")
    evidence = project / f"check-{release}.txt"
    evidence.write_text(f"checked {release}\n")
    for item in ("announce", "freeze", "migrate", "partners"):
        mark_item(project, record.id, item, status="done", by="Ari", at=f"2026-07-0{day}T08:10:00Z",
                  evidence=(str(evidence),) if item == "freeze" else ())
    add_signoff(project, record.id, role="Release Manager", name="Rhea", decision="approve", at=f"2026-07-0{day}T08:20:00Z")
    add_signoff(project, record.id, role="Security", name="Sam", decision="approve", at=f"2026-07-0{day}T08:25:00Z")
    if close:
        close_run(project, record.id, key=str(key), at=f"2026-07-0{day}T08:30:00Z")
    return record.id


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> tuple[Path, list[str], Path]:
    """Three sealed runs, one open run, a stored checkpoint and a copy of it kept elsewhere."""
    project = tmp_path_factory.mktemp("archive") / "project"
    _write_site(project)
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    runs = [_make_run(project, release, day, signing_key.pkcs12) for day, release in enumerate(RUNS, start=1)]
    _make_run(project, "v4", 4, signing_key.pkcs12, close=False)
    external = project.parent / "checkpoint-kept-elsewhere.json"
    make_checkpoint(project, str(signing_key.pkcs12), external)
    return project, runs, external


@pytest.fixture
def archive(pristine: tuple[Path, list[str], Path], tmp_path: Path) -> tuple[Path, list[str], Path]:
    project, runs, external = pristine
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    (copy / "content/site.yml").write_text((project / "content/site.yml").read_text())
    return copy, runs, external


def findings(project: Path, since: list[Path] | None = None) -> list[str]:
    from generator.config import load_config

    result = audit_project(project, list(load_config(project / "content", "content").trust), since)
    return [str(f) for f in result.findings]


def has(found: list[str], where: str, message: str) -> bool:
    return any(f.startswith(where) and message in f for f in found)


def ledger(project: Path) -> Path:
    return project / "content/runs/ledger.jsonl"


def pdf_of(project: Path, run_id: str) -> Path:
    return project / f"content/runs/deploy/{run_id}.pdf"


def test_clean_archive_has_no_findings(archive: tuple[Path, list[str], Path]) -> None:
    project, _, external = archive
    assert findings(project, [external]) == []


def test_edit_one_field_of_a_sealed_record(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    path = find_run(project, runs[1]).path
    path.write_text(path.read_text().replace("operator: Olga", "operator: Mallory"))
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[1]}.yml", "record differs from the one sealed")
    assert has(found, f"content/runs/deploy/{runs[1]}.pdf", "embedded record differs from the archived record (operator)")


def test_edit_the_embedded_copy_in_the_pdf(archive: tuple[Path, list[str], Path]) -> None:
    pikepdf = pytest.importorskip("pikepdf")
    project, runs, _ = archive
    pdf = pdf_of(project, runs[0])
    with pikepdf.open(pdf, allow_overwriting_input=True) as document:
        spec = document.attachments["run-record.json"]
        data = spec.get_file().read_bytes().replace(b'"operator":"Olga"', b'"operator":"Mallory"')
        document.attachments["run-record.json"] = pikepdf.AttachedFileSpec(document, data, filename="run-record.json")
        document.save(pdf)
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[0]}.pdf", "signature 'LaunchbookSeal' is invalid") or \
        has(found, f"content/runs/deploy/{runs[0]}.pdf", "the PDF is not signed")
    assert has(found, f"content/runs/deploy/{runs[0]}.pdf", "report differs from the one in ledger entry 1")


def test_replace_one_evidence_file(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    (project / f"content/runs/deploy/{runs[2]}/evidence/check-v3.txt").write_text("all good, trust me\n")
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[2]}/evidence/check-v3.txt", "evidence file was replaced")


def test_delete_one_evidence_file(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    (project / f"content/runs/deploy/{runs[0]}/evidence/check-v1.txt").unlink()
    assert has(findings(project), f"content/runs/deploy/{runs[0]}/evidence/check-v1.txt", "evidence file is missing")


def test_delete_a_whole_run(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    find_run(project, runs[1]).path.unlink()
    pdf_of(project, runs[1]).unlink()
    shutil.rmtree(project / f"content/runs/deploy/{runs[1]}")
    assert has(findings(project), "content/runs/ledger.jsonl:2",
               f"ledger entry 2 names run {runs[1]} (deploy), but its record and report are gone")


def test_delete_a_ledger_line(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    lines = ledger(project).read_bytes().splitlines(keepends=True)
    ledger(project).write_bytes(lines[0] + lines[2])
    found = findings(project)
    assert has(found, "content/runs/ledger.jsonl:2", "seq 2 where 1 was expected (seq is the 0-based leaf index: ledger entry 2 must have seq 1;")
    assert has(found, f"content/runs/deploy/{runs[1]}.yml", "run is sealed but has no ledger entry")
    assert has(found, f"content/runs/deploy/{runs[2]}.pdf", "ledger rewritten")


def test_reorder_two_ledger_lines(archive: tuple[Path, list[str], Path]) -> None:
    project, _, _ = archive
    lines = ledger(project).read_bytes().splitlines(keepends=True)
    ledger(project).write_bytes(lines[1] + lines[0] + lines[2])
    found = findings(project)
    assert has(found, "content/runs/ledger.jsonl:1", "seq 1 where 0 was expected (seq is the 0-based leaf index: ledger entry 1 must have seq 0;")
    assert has(found, "content/runs/ledger.jsonl:2", "seq 0 where 1 was expected (seq is the 0-based leaf index: ledger entry 2 must have seq 1;")


def test_change_one_byte_of_a_signed_pdf(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    pdf = pdf_of(project, runs[2])
    data = bytearray(pdf.read_bytes())
    data[len(data) // 3] ^= 0x01
    pdf.write_bytes(bytes(data))
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[2]}.pdf", "is invalid: the signed bytes were changed")


def test_append_bytes_or_an_incremental_update(archive: tuple[Path, list[str], Path]) -> None:
    from io import BytesIO

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    project, runs, _ = archive
    first = pdf_of(project, runs[0])
    first.write_bytes(first.read_bytes() + b"\n%% note added later\n")
    second = pdf_of(project, runs[1])
    writer = IncrementalPdfFileWriter(BytesIO(second.read_bytes()))
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    second.write_bytes(out.getvalue())
    found = findings(project)
    for run_id in runs[:2]:
        assert has(found, f"content/runs/deploy/{run_id}.pdf", "added after the last signature")


def test_resign_a_modified_pdf_with_an_untrusted_key(archive: tuple[Path, list[str], Path], tmp_path: Path) -> None:
    from generator.report.keys import create_key, load_signer
    from generator.report.render import render_report
    from generator.report.sign import sign_report
    from generator.runs.outcome import summarize

    project, runs, _ = archive
    run = find_run(project, runs[0])
    forged = dataclasses.replace(read_record(run), release="v1-hotfix")
    rogue = create_key(tmp_path / "rogue", "Test Sealer")
    signed, _ = sign_report(render_report(forged, summarize(forged), None, run.folder),
                            load_signer(str(rogue.pkcs12)), reason="forged")
    pdf_of(project, runs[0]).write_bytes(signed)
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[0]}.pdf", "is not trusted")
    assert has(found, f"content/runs/deploy/{runs[0]}.pdf", "embedded record differs from the archived record (release)")


def test_add_a_run_that_was_never_sealed_to_the_ledger(archive: tuple[Path, list[str], Path]) -> None:
    from generator.archive.ledger import LedgerEntry, append_entry
    from generator.runs.operations import list_runs

    project, _, _ = archive
    open_run = next(record for _, record in list_runs(project) if record.sealed is None)
    append_entry(project, LedgerEntry(seq=3, run=open_run.id, checklist="deploy", sealed_at="2026-07-05T00:00:00Z",
                                      record_sha256=open_run.digest(), report_sha256="0" * 64, evidence={}))
    assert has(findings(project), "content/runs/ledger.jsonl:4",
               f"ledger entry 4 names run {open_run.id}, which was never sealed")


def test_truncate_the_ledger(archive: tuple[Path, list[str], Path]) -> None:
    project, runs, _ = archive
    lines = ledger(project).read_bytes().splitlines(keepends=True)
    ledger(project).write_bytes(lines[0])
    found = findings(project)
    assert has(found, f"content/runs/deploy/{runs[2]}.pdf",
               "ledger truncated: this signed report saw 2 ledger entries before it, the ledger now has 1")
    assert has(found, "checkpoint-000003", "ledger has 1 entries, fewer than the 3 this checkpoint vouched for")


def test_ledger_rewritten_consistently_from_scratch(archive: tuple[Path, list[str], Path], signing_key: Any) -> None:
    """An insider with the signing key unseals, edits and re-seals everything in order.
    Only a checkpoint kept outside the archive can tell."""
    project, runs, external = archive
    ledger(project).unlink()
    shutil.rmtree(project / "content/runs/checkpoints")
    for day, run_id in enumerate(runs, start=1):
        run = find_run(project, run_id)
        record = read_record(run)
        if day == 1:
            record = dataclasses.replace(record, summary="nothing to see here")
        write_record(run, dataclasses.replace(record, finished_at="", extra={}))
        pdf_of(project, run_id).unlink()
        close_run(project, run_id, key=str(signing_key.pkcs12), at=f"2026-07-0{day}T08:30:00Z")
    assert findings(project) == []  # internally consistent …
    found = findings(project, [external])  # … but not an extension of what was vouched for
    assert has(found, str(external), "ledger is not an extension of this checkpoint")


def test_signoff_after_finish_needs_retroactive_mark(pristine: tuple[Path, list[str], Path], tmp_path: Path,
                                                     signing_key: Any) -> None:
    project = tmp_path / "late"
    _write_site(project)
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    late = _make_run(project, "v9", 5, signing_key.pkcs12, close=False)
    add_signoff(project, late, role="Security", name="Sam", decision="approve", at="2026-07-05T12:00:00Z")
    close_run(project, late, key=str(signing_key.pkcs12), at="2026-07-05T09:00:00Z")
    assert has(findings(project), f"content/runs/deploy/{late}.yml",
               "sign-off by Sam (Security) at 2026-07-05T12:00:00Z is dated after the run finished")
    emergency = _make_run(project, "v10", 6, signing_key.pkcs12, close=False)
    add_signoff(project, emergency, role="Security", name="Sam", decision="approve", at="2026-07-06T12:00:00Z",
                retroactive=True)
    close_run(project, emergency, key=str(signing_key.pkcs12), at="2026-07-06T09:00:00Z")
    assert not any(emergency in f for f in findings(project))


def test_verify_cli_exit_codes_and_json(archive: tuple[Path, list[str], Path], run_cli: Callable[..., Any]) -> None:
    project, runs, external = archive
    clean = run_cli("verify", project, "--trust-project", "--since", external, "--json")
    assert clean.exit_code == 0, clean.output
    data = json.loads(clean.stdout)["results"][0]
    assert data["ok"] is True and data["sealed_runs"] == 3 and data["open_runs"] == 1
    assert {r["status"] for r in data["runs"]} == {"verified", "open"}
    (project / f"content/runs/deploy/{runs[0]}/evidence/check-v1.txt").unlink()
    broken = run_cli("verify", project, "--trust-project")
    assert broken.exit_code == 1
    assert f"content/runs/deploy/{runs[0]}/evidence/check-v1.txt: evidence file is missing" in broken.stdout


def test_bundle_round_trip_and_tampering(archive: tuple[Path, list[str], Path], tmp_path: Path, signing_key: Any) -> None:
    project, runs, _ = archive
    bundle, count = create_bundle(project, runs[1], tmp_path / "b.zip")
    assert count == 7
    trust = [signing_key.certificate]
    check = verify_bundle(bundle, trust)
    assert check.ok, check.problems
    with zipfile.ZipFile(bundle) as source:
        names = sorted(source.namelist())
        assert f"{runs[1]}/evidence/check-v2.txt" in names and f"{runs[1]}/statement.intoto.json" in names
        statement = json.loads(source.read(f"{runs[1]}/statement.intoto.json"))
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["predicate"]["outcome"] == "go"
        tampered = tmp_path / "tampered.zip"
        with zipfile.ZipFile(tampered, "w") as target:
            for name in source.namelist():
                data = source.read(name)
                if name.endswith("check-v2.txt"):
                    data = b"forged\n"
                target.writestr(name, data)
    problems = verify_bundle(tampered, trust).problems
    assert "evidence/check-v2.txt: sha256 differs from the manifest (changed after bundling)" in problems
    assert not verify_bundle(bundle, []).ok  # nobody trusted: the signer and checkpoint are not vouched for


def test_concurrent_closes_serialise(tmp_path: Path, signing_key: Any) -> None:
    project = tmp_path / "busy"
    _write_site(project)
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    ids = [_make_run(project, f"r{n}", n, signing_key.pkcs12, close=False) for n in range(1, 4)]
    processes = [subprocess.Popen([sys.executable, "-m", "generator", "run", "close", run_id, "--key",
                                   str(signing_key.pkcs12), "-C", str(project)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for run_id in ids]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    lines = ledger(project).read_text().splitlines()
    assert sorted(json.loads(line)["run"] for line in lines) == sorted(ids)
    assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2]
    assert findings(project) == []


def test_parallel_audit_finds_the_same(archive: tuple[Path, list[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.archive import reportcheck

    project, runs, _ = archive
    (project / f"content/runs/deploy/{runs[2]}/evidence/check-v3.txt").write_text("swapped\n")
    pdf = pdf_of(project, runs[0])
    pdf.write_bytes(pdf.read_bytes() + b"%\n")
    serial = findings(project)
    monkeypatch.setattr(reportcheck, "PARALLEL_FROM", 1)
    assert findings(project) == serial and len(serial) >= 2
