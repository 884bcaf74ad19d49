"""Ledger entries are numbered from 1 wherever a person reads them (CLI text, site pages, the PDF
report, verify's findings), while ledger lines, records, bundles and ``--json`` keep the RFC 6962
leaf index, which counts from 0 (``--json`` adds ``ledger_entry``, the number people read)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from tests.helpers import RUN_SITE


def cli_ok(*args: Any) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _sealed_run(project: Path, release: str, key: Path, as_json: bool) -> tuple[str, Result]:
    run_id = cli_ok("run", "start", "deploy", "--release", release, "--operator", "Olga",
                    "--at", "2026-06-01T08:00:00Z", "-C", project).stdout.strip()
    for item in ("announce", "freeze", "migrate"):
        cli_ok("run", "mark", run_id, item, "--status", "done", "--by", "Ari", "--at", "2026-06-01T08:30:00Z",
               "-C", project)
    for role, name in (("Release Manager", "Rhea"), ("Security", "Sam")):
        cli_ok("run", "signoff", run_id, "--role", role, "--name", name, "--decision", "approve",
               "--at", "2026-06-01T09:00:00Z", "-C", project)
    closed = cli_ok("run", "close", run_id, "--key", key, "--at", "2026-06-01T09:10:00Z", "-C", project,
                    *(["--json"] if as_json else []))
    return run_id, closed


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> dict[str, Any]:
    """Two runs sealed through the CLI (the first printed as text, the second as JSON), and the site."""
    project = tmp_path_factory.mktemp("numbers")
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    (project / "content/site.yml").write_text(f"title: Numbers\ntrust:\n  - {signing_key.certificate}\n")
    first, first_closed = _sealed_run(project, "v1.0", signing_key.pkcs12, as_json=False)
    second, second_closed = _sealed_run(project, "v2.0", signing_key.pkcs12, as_json=True)
    cli_ok("build", "-C", project)
    return {"project": project, "runs": (first, second), "closed": (first_closed, second_closed),
            "cert": signing_key.certificate}


def test_machine_data_keeps_the_zero_based_leaf_index(archive: dict[str, Any]) -> None:
    project = archive["project"]
    lines = [json.loads(line) for line in (project / "content/runs/ledger.jsonl").read_text().splitlines()]
    assert [line["seq"] for line in lines] == [0, 1]
    closed = json.loads(archive["closed"][1].stdout)
    assert (closed["ledger_seq"], closed["ledger_entry"]) == (1, 2)
    verified = json.loads(cli_ok("verify", project, "--trust", archive["cert"], "--json").stdout)
    rows = {row["run"]: row for row in verified["results"][0]["runs"]}
    assert [(rows[r]["ledger_seq"], rows[r]["ledger_entry"]) for r in archive["runs"]] == [(0, 1), (1, 2)]


def test_people_read_entry_1_for_the_first_line(archive: dict[str, Any]) -> None:
    project = archive["project"]
    first, second = archive["runs"]
    assert "ledger entry 1:" in archive["closed"][0].stdout, archive["closed"][0].stdout
    verified = cli_ok("verify", project, "--trust", archive["cert"]).stdout
    assert f"{first}: PAdES B-B, ledger entry 1" in verified and f"{second}: PAdES B-B, ledger entry 2" in verified

    run_page = html.unescape((project / "output/runs/deploy" / f"{first}.html").read_text(encoding="utf-8"))
    assert "ledger entry 1" in run_page and "Sealed as ledger entry 1;" in run_page
    assert "#0" not in run_page and "entry 0" not in run_page
    audit = (project / "output/runs/audit.html").read_text(encoding="utf-8")
    cells = re.findall(r'<td data-label="Ledger entry">(\d+|—)</td>', audit)
    assert cells == ["2", "1"] or cells == ["1", "2"], cells  # the Ledger entry column, newest run first


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_report_says_entry_1(archive: dict[str, Any]) -> None:
    project, (first, _) = archive["project"], archive["runs"]
    pdf = project / "content/runs/deploy" / f"{first}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"ledger entry 1\b", text), text[:2000]
    assert "#0" not in text


def test_a_finding_names_entry_1(archive: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(archive["project"], copy)
    first = archive["runs"][0]
    report = copy / "content/runs/deploy" / f"{first}.pdf"
    report.write_bytes(report.read_bytes().replace(b"Deploy the API", b"Deploy the APX", 1))
    result = CliRunner().invoke(cli, ["verify", str(copy), "--trust", str(archive["cert"])])
    assert result.exit_code == 1
    assert "report differs from the one in ledger entry 1" in result.output, result.output
