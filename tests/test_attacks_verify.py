"""Attacks on `launchbook verify` found by an independent review (issue 13), each replayed:
verify must never vouch for altered evidence, and never answer damaged input with a traceback.

Every altered archive here is built with pyHanko's incremental writer or by editing files the
way an attacker with write access would; each test was seen failing on the code before its fix.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from generator.archive.audit import AuditResult, _check_ledger_order
from generator.archive.ledger import parse_ledger
from generator.report.keys import load_signer
from generator.runs.record import canonical_json
from tests.helpers import ROOT
from tests.test_verify_revisions import archive, pdf_of, pristine, second_key  # noqa: F401 - fixtures

RunCli = Callable[..., Any]


def verify(run_cli: RunCli, *args: Any) -> tuple[int, dict[str, Any], str]:
    result = run_cli("verify", *args, "--json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout), result.output


def messages(data: dict[str, Any]) -> str:
    found = []
    for result in data["results"]:
        found += [p if isinstance(p, str) else p["message"] for p in result.get("problems", [])]
    return "\n".join(found)


def hide_seal_and_recertify(data: bytes, key: Any, field: str = "LaunchbookSeal") -> bytes:
    """Remove the seal's field and widget, drop /Perms, paint FORGED on every page, then certify
    the result anew with ``key`` under the seal's own field name: the sealed bytes stay a prefix."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    writer = IncrementalPdfFileWriter(BytesIO(data))
    root = writer.root
    form = root["/AcroForm"]
    form["/Fields"] = generic.ArrayObject([f for f in form["/Fields"] if f.get_object().get("/FT") != "/Sig"])
    if "/Perms" in root:
        del root["/Perms"]
    writer.update_root()
    for page_ref in root["/Pages"]["/Kids"]:
        page = page_ref.get_object()
        if page.get("/Annots") is not None:
            page["/Annots"] = generic.ArrayObject([a for a in page["/Annots"]
                                                   if a.get_object().get("/Subtype") != "/Widget"])
        overlay = writer.add_object(generic.StreamObject(
            stream_data=b"q 1 1 1 rg 40 600 500 120 re f 0 0 0 rg BT /F1 60 Tf 60 640 Td (FORGED) Tj ET Q"))
        contents = page["/Contents"]
        existing = list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
        page["/Contents"] = generic.ArrayObject([*existing, overlay])
        writer.update_container(page)
    out = BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256", certify=True,
                                                   subfilter=SigSeedSubFilter.PADES, reason="GO (forged)",
                                                   docmdp_permissions=MDPPerm.FILL_FORMS),
                      signer=load_signer(str(key.pkcs12))).sign_pdf(writer, output=out)
    return out.getvalue()


def drop_report_section(record: Path) -> None:
    """The record's `report:` section describes the PDF and is outside the record hash."""
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"(?m)^report:\n(?:  .*\n)+", "", text), encoding="utf-8")


@pytest.mark.parametrize("also_drop_report_section", [False, True])
def test_a_hidden_seal_recertified_by_a_trusted_key_is_caught(archive: tuple[Path, str],  # noqa: F811
                                                              signing_key: Any, second_key: Any,  # noqa: F811
                                                              run_cli: RunCli, tmp_path: Path,
                                                              also_drop_report_section: bool) -> None:
    project, run_id = archive
    pdf = pdf_of(project, run_id)
    bundle = tmp_path / "genuine.zip"
    assert run_cli("bundle", run_id, "-o", bundle, "--key", signing_key.pkcs12, "-C", project).exit_code == 0
    sealed = pdf.read_bytes()
    forged = hide_seal_and_recertify(sealed, second_key)
    assert forged.startswith(sealed)
    pdf.write_bytes(forged)
    if also_drop_report_section:
        drop_report_section(project / f"content/runs/deploy/{run_id}.yml")
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    code, data, output = verify(run_cli, project, *trust)
    assert code == 1, output
    assert "certification seal covers a revision other than" in messages(data) or "gone from the document" in \
        messages(data), output
    code, data, output = verify(run_cli, pdf, "-C", project, *trust)
    assert code == 1 and "gone from the document" in messages(data), output
    # the same forgery swapped into a bundle, its manifest and statement recomputed (they are not signed)
    forged_bundle = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(forged_bundle, "w") as target:
        files = {i.filename: source.read(i) for i in source.infolist()}
        root = next(iter(files)).split("/")[0]
        files[f"{root}/{run_id}.pdf"] = forged
        import hashlib
        manifest = json.loads(files[f"{root}/MANIFEST.json"])
        manifest["files"][f"{run_id}.pdf"] = hashlib.sha256(forged).hexdigest()
        files[f"{root}/MANIFEST.json"] = json.dumps(manifest).encode()
        statement = json.loads(files[f"{root}/statement.intoto.json"])
        for subject in statement["subject"]:
            if subject["name"] == f"{run_id}.pdf":
                subject["digest"]["sha256"] = hashlib.sha256(forged).hexdigest()
        files[f"{root}/statement.intoto.json"] = json.dumps(statement).encode()
        for name, content in files.items():
            target.writestr(name, content)
    code, data, output = verify(run_cli, forged_bundle, *trust)
    assert code == 1 and "certification seal" in output, output


def _append_line(project: Path, line: dict[str, Any]) -> None:
    ledger = project / "content/runs/ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes() + canonical_json(line) + b"\n")


def test_an_approval_line_must_name_a_signature_the_report_holds(archive: tuple[Path, str],  # noqa: F811
                                                                 signing_key: Any, second_key: Any,  # noqa: F811
                                                                 run_cli: RunCli) -> None:
    import hashlib

    project, run_id = archive
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    ledger = project / "content/runs/ledger.jsonl"
    pristine_ledger = ledger.read_bytes()
    sealed = pdf_of(project, run_id).read_bytes()
    # (a) a phantom approval: no signature was added, the line claims one over the sealed bytes
    _append_line(project, {"seq": 1, "kind": "approval", "run": run_id, "approved_at": "2026-07-01T09:00:00Z",
                           "role": "CISO", "signer": "Common Name: Chief Security Officer",
                           "fingerprint": "AA:BB", "report_sha256": hashlib.sha256(sealed).hexdigest(),
                           "report_size": len(sealed)})
    code, data, output = verify(run_cli, project, *trust)
    assert code == 1 and "that the report does not hold" in messages(data), output
    # (b) a real approval whose line is rewritten to name someone else
    ledger.write_bytes(pristine_ledger)
    assert run_cli("run", "approve", run_id, "--key", second_key.pkcs12, "--role", "CAB", "-C", project).exit_code == 0
    assert verify(run_cli, project, *trust)[0] == 0
    lines = ledger.read_text(encoding="utf-8").splitlines()
    line = json.loads(lines[-1])
    line.update(role="CISO", signer="Common Name: Chief Security Officer", fingerprint="12:34")
    ledger.write_bytes("\n".join(lines[:-1]).encode() + b"\n" + canonical_json(line) + b"\n")
    code, data, output = verify(run_cli, project, *trust)
    assert code == 1 and "that the report does not hold" in messages(data), output


def test_reordered_approval_lines_are_caught(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                             second_key: Any, run_cli: RunCli) -> None:  # noqa: F811
    project, run_id = archive
    trust = ("--trust", signing_key.certificate, "--trust", second_key.certificate)
    for key, role in ((second_key, "CAB"), (signing_key, "Ops")):
        assert run_cli("run", "approve", run_id, "--key", key.pkcs12, "--role", role, "-C", project).exit_code == 0
    assert verify(run_cli, project, *trust)[0] == 0
    ledger = project / "content/runs/ledger.jsonl"
    lines = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    lines[1], lines[2] = lines[2], lines[1]
    lines[1]["seq"], lines[2]["seq"] = 1, 2
    ledger.write_bytes(b"".join(canonical_json(line) + b"\n" for line in lines))
    code, data, output = verify(run_cli, project, *trust)
    assert code == 1 and "lines were reordered" in messages(data), output


@pytest.mark.parametrize(("field", "value"), [
    ("run", ["x"]), ("run", {"a": 1}), ("sealed_at", 5), ("sealed_at", None), ("sealed_at", [1]),
    ("record_sha256", None), ("record_sha256", 7), ("report_sha256", {"x": 1}), ("seq", True), ("seq", -1),
    ("evidence", {"evidence/x": 5}), ("checklist", 3),
])
def test_ledger_fields_of_the_wrong_type_are_problems_not_tracebacks(archive: tuple[Path, str],  # noqa: F811
                                                                     signing_key: Any, run_cli: RunCli,
                                                                     field: str, value: Any) -> None:
    project, _ = archive
    ledger = project / "content/runs/ledger.jsonl"
    line = json.loads(ledger.read_text(encoding="utf-8").splitlines()[0])
    line[field] = value
    ledger.write_bytes(canonical_json(line) + b"\n")
    code, data, output = verify(run_cli, project, "--trust", signing_key.certificate)
    assert code == 1 and "unreadable ledger line" in messages(data), output


@pytest.mark.parametrize("report", ["  size: '49203'\n", "  size: 1.5\n", "- a list\n", "'text'\n"])
def test_a_report_section_of_the_wrong_type_is_a_problem(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                                         run_cli: RunCli, report: str) -> None:
    project, run_id = archive
    record = project / f"content/runs/deploy/{run_id}.yml"
    text = record.read_text(encoding="utf-8")
    if report.startswith("  size"):
        text = re.sub(r"(?m)^  size: \d+\n", report, text, count=1)
    else:
        text = re.sub(r"(?m)^report:\n(?:  .*\n)+", "report:\n" + report if report.startswith("-")
                      else "report: " + report, text)
    record.write_text(text, encoding="utf-8")
    for target in (project, pdf_of(project, run_id)):
        code, data, output = verify(run_cli, target, "-C", project, "--trust", signing_key.certificate)
        assert code == 1 and ("report section" in output or "'size' must be" in output), output


@pytest.mark.parametrize("change", [{"tree_size": -1}, {"tree_size": 1e300}, {"root_sha256": "zz"},
                                    {"certificate": 5}, {"checkpoint": [1]}])
def test_damaged_checkpoints_are_problems(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                          run_cli: RunCli, tmp_path: Path, change: dict[str, Any]) -> None:
    project, _ = archive
    assert run_cli("checkpoint", "--key", signing_key.pkcs12, "-C", project).exit_code == 0
    stored = sorted((project / "content/runs/checkpoints").glob("checkpoint-*.json"))[0]
    document = json.loads(stored.read_text(encoding="utf-8"))
    for key, value in change.items():
        if key in ("tree_size", "root_sha256"):
            document["checkpoint"][key] = value
        else:
            document[key] = value
    since = tmp_path / "since.json"
    since.write_text(json.dumps(document), encoding="utf-8")
    code, data, output = verify(run_cli, project, "--trust", signing_key.certificate, "--since", since)
    assert code == 1 and "not a readable checkpoint" in output, output


def _rezip(source: Path, target: Path, edit: Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]) -> None:
    with zipfile.ZipFile(source) as zin:
        members = [(i.filename, zin.read(i)) for i in zin.infolist()]
    with zipfile.ZipFile(target, "w") as zout:
        for name, data in edit(members):
            zout.writestr(name, data)


def _json_member(members: list[tuple[str, bytes]], suffix: str, change: Callable[[Any], None]) \
        -> list[tuple[str, bytes]]:
    out = []
    for name, data in members:
        if name.endswith(suffix):
            value = json.loads(data)
            change(value)
            data = json.dumps(value).encode()
        out.append((name, data))
    return out


@pytest.mark.parametrize("attack", ["duplicate-record", "absolute-name", "phantom-subject", "subject-name-list",
                                    "leaf-index-huge", "tree-size-infinity"])
def test_damaged_bundles_are_problems(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                      run_cli: RunCli, tmp_path: Path, attack: str) -> None:
    project, run_id = archive
    bundle = tmp_path / "b.zip"
    assert run_cli("bundle", run_id, "-o", bundle, "--key", signing_key.pkcs12, "-C", project).exit_code == 0
    edits: dict[str, Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]] = {
        "duplicate-record": lambda m: [*m, next((n, b"forged: true\n") for n, _ in m if n.endswith(".yml"))],
        "absolute-name": lambda m: [*m, ("/etc/evil", b"x")],
        "phantom-subject": lambda m: _json_member(m, "statement.intoto.json", lambda s: s["subject"].append(
            {"name": "backdoor.sh", "digest": {"sha256": "00" * 32}})),
        "subject-name-list": lambda m: _json_member(m, "statement.intoto.json",
                                                    lambda s: s["subject"][0].update(name=["x"])),
        "leaf-index-huge": lambda m: _json_member(m, "ledger-entry.json", lambda p: p.update(leaf_index=10 ** 400)),
        "tree-size-infinity": lambda m: [(n, d.replace(b'"tree_size": ', b'"tree_size": Infinity, "x": ', 1)
                                          if n.endswith("ledger-entry.json") else d) for n, d in m],
    }
    damaged = tmp_path / "damaged.zip"
    _rezip(bundle, damaged, edits[attack])
    code, data, output = verify(run_cli, damaged, "--trust", signing_key.certificate)
    assert code == 1, output


def test_a_damaged_report_is_a_problem_not_a_traceback(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                                       run_cli: RunCli) -> None:
    project, run_id = archive
    pdf = pdf_of(project, run_id)
    data = bytearray(pdf.read_bytes())
    for match in list(re.finditer(rb"/FlateDecode[^>]*>>\s*stream\r?\n", bytes(data)))[:5]:
        data[match.end():match.end() + 40] = b"\xff" * 40  # compressed streams no longer inflate
    pdf.write_bytes(bytes(data))
    code, data_out, output = verify(run_cli, project, "--trust", signing_key.certificate)
    assert code == 1, output


@pytest.mark.parametrize("what", ["ledger", "record", "checkpoint"])
def test_fifos_in_the_archive_never_hang_verify(archive: tuple[Path, str], signing_key: Any,  # noqa: F811
                                                run_cli: RunCli, what: str) -> None:
    project, run_id = archive
    assert run_cli("checkpoint", "--key", signing_key.pkcs12, "-C", project).exit_code == 0
    path = {"ledger": project / "content/runs/ledger.jsonl",
            "record": project / "content/runs/deploy/20990101-0000-fifo.yml",
            "checkpoint": project / "content/runs/checkpoints/checkpoint-000099-fifo.json"}[what]
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "generator", "verify", str(project), "--trust",
                           str(signing_key.certificate)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "not a regular file" in done.stdout, done.stdout


def test_a_timestamp_authority_behind_our_clock_is_not_a_ledger_problem() -> None:
    """Document-timestamp lines carry the TSA's time; only this machine's own times must not go backwards."""
    seal = {"seq": 0, "run": "20260701-0800-v1", "checklist": "deploy", "sealed_at": "2026-07-01T10:00:00Z",
            "record_sha256": "a" * 64, "report_sha256": "b" * 64, "evidence": {}}
    stamp = {"seq": 1, "kind": "document-timestamp", "run": "20260701-0800-v1", "stamped_at": "2026-07-01T09:40:00Z",
             "prior_sha256": "b" * 64, "report_sha256": "c" * 64, "level": "B-LTA"}
    approval = {"seq": 2, "kind": "approval", "run": "20260701-0800-v1", "approved_at": "2026-07-01T10:02:00Z",
                "role": "CAB", "signer": "x", "fingerprint": "y", "report_sha256": "d" * 64, "report_size": 10}
    raw = b"".join(canonical_json(line) + b"\n" for line in (seal, stamp, approval))
    entries, problems, leaves = parse_ledger(raw, "ledger.jsonl")
    assert problems == []
    result = AuditResult(None)  # type: ignore[arg-type]
    _check_ledger_order(result, "ledger.jsonl", entries)
    assert result.findings == []
    backwards = {**approval, "approved_at": "2026-07-01T09:00:00Z"}
    entries, _, _ = parse_ledger(b"".join(canonical_json(line) + b"\n" for line in (seal, stamp, backwards)), "l")
    _check_ledger_order(result, "ledger.jsonl", entries)
    assert any("goes backwards" in f.message for f in result.findings)
    future = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries, _, _ = parse_ledger(canonical_json({**seal, "sealed_at": future}) + b"\n", "l")
    result = AuditResult(None)  # type: ignore[arg-type]
    _check_ledger_order(result, "ledger.jsonl", entries)
    assert any("in the future" in f.message for f in result.findings)
