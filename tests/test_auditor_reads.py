"""What an auditor reads: every command the Audit page and the README print is run here, against a
sealed run in tmp_path, with the real tools (poppler, sha256sum, openssl, python3) under the C locale;
the signed PDF's version and metadata, the cover's approvals, the exceptions page, and closing a run
with skipped required items."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli
from tests.helpers import ROOT, RUN_SITE

pikepdf = pytest.importorskip("pikepdf")
pytestmark = pytest.mark.skipif(shutil.which("pdfdetach") is None and not os.environ.get("CI"),
                                reason="poppler-utils not installed")
RunCli = Callable[..., Result]
ORIGINAL = "Prüfbericht.txt"
TOOLS = ("launchbook", "pdfsig", "pdfdetach", "pdfinfo", "sha256sum", "openssl", "python3")


def cli_ok(*args: Any) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def c_locale() -> dict[str, str]:
    """A non-UTF-8 locale, PYTHONIOENCODING unset; launchbook from this tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONIOENCODING", "PYTHONUTF8"))}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONPATH=str(ROOT))  # no UTF-8 mode: as with a Latin-1 locale
    return env


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = cwd / ".bin"
    bin_dir.mkdir(exist_ok=True)
    launcher = bin_dir / "launchbook"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m generator "$@"\n')
    launcher.chmod(0o755)
    env = c_locale()
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", check=False)


def write_site(project: Path, files: dict[str, str]) -> None:
    for rel, body in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> dict[str, Any]:
    """A demo-like sealed run (evidence with a non-ASCII name, sign-offs, a checkpoint) and its built site."""
    project = tmp_path_factory.mktemp("auditor")
    write_site(project, RUN_SITE)
    (project / "content/site.yml").write_text(f"title: Audit\ntrust:\n  - {signing_key.certificate}\n")
    evidence = project / ORIGINAL
    evidence.write_bytes("Prüfung bestanden: Replikation 0,2 s\n".encode())
    run_id = cli_ok("run", "start", "deploy", "--release", "v2.0 🚀", "--change", "CHG-9", "--env", "prod",
                    "--operator", "Olga", "--at", "2026-06-01T08:00:00Z", "-C", project).stdout.strip()
    for item in ("announce", "freeze", "migrate"):
        cli_ok("run", "mark", run_id, item, "--status", "done", "--by", "Ari", "--at", "2026-06-01T08:30:00Z",
               *(["--evidence", evidence] if item == "freeze" else []), "-C", project)
    for role, name in (("Release Manager", "Rhea Jörgensen"), ("Security", "Sam")):
        cli_ok("run", "signoff", run_id, "--role", role, "--name", name, "--decision", "approve",
               "--at", "2026-06-01T09:00:00Z", "-C", project)
    cli_ok("run", "close", run_id, "--key", signing_key.pkcs12, "--at", "2026-06-01T09:10:00Z", "-C", project)
    checkpoint = project / "checkpoint.json"
    cli_ok("checkpoint", "--key", signing_key.pkcs12, "-o", checkpoint, "-C", project)
    cli_ok("build", "-C", project)
    ledger = [json.loads(line) for line in (project / "content/runs/ledger.jsonl").read_text().splitlines()]
    return {"project": project, "run": run_id, "pdf": project / f"content/runs/deploy/{run_id}.pdf",
            "record": project / f"content/runs/deploy/{run_id}.yml", "cert": signing_key.certificate,
            "checkpoint": checkpoint, "ledger": ledger[0], "evidence": evidence.read_bytes()}


def substitute(command: str, archive: dict[str, Any]) -> str:
    """Put the archive's real paths where the page or README names placeholders."""
    for placeholder, value in (("REPORT.pdf", archive["pdf"]), ("report.pdf", archive["pdf"]),
                               ("RUN.yml", archive["record"]), ("team.pem", archive["cert"]),
                               ("checkpoint.json", archive["checkpoint"]), ("PROJECT", archive["project"]),
                               ("content/runs/ledger.jsonl", archive["project"] / "content/runs/ledger.jsonl"),
                               ("RUN", archive["run"])):
        command = re.sub(rf"(?<![\w./-]){re.escape(placeholder)}(?![\w-])", shlex.quote(str(value)), command)
    return command


def check_output(command: str, done: subprocess.CompletedProcess[str], archive: dict[str, Any]) -> None:
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    if command.startswith("pdfsig"):
        assert "Signature is Valid" in done.stdout and "Total document signed" in done.stdout, done.stdout
    if "sha256sum run-record.json" in command or "yaml.safe_load" in command:
        assert archive["ledger"]["record_sha256"] in done.stdout, done.stdout


def page_commands(page: Path) -> list[str]:
    """Every command in the page's <code> elements (those that start with a tool name)."""
    codes = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<code[^>]*>(.*?)</code>", page.read_text(),
                                                                          flags=re.S)]
    return [c for c in codes if c.split(" ", 1)[0] in TOOLS]


def test_every_command_on_the_audit_page_runs(archive: dict[str, Any], tmp_path: Path) -> None:
    commands = page_commands(archive["project"] / "output/runs/audit.html")
    project = tmp_path / "project"  # a reader's copy: commands run inside it, as the page says
    shutil.copytree(archive["project"], project)
    archive = {**archive, "project": project, "pdf": project / archive["pdf"].relative_to(archive["project"]),
               "record": project / archive["record"].relative_to(archive["project"])}
    tmp_path = project
    assert any(c.startswith("pdfdetach -savefile run-record.json") for c in commands), commands
    assert any(c.startswith("pdfdetach -saveall") for c in commands), commands
    assert not any("-save 1" in c for c in commands)
    for command in commands:  # in order, in one folder, as a reader would
        real = substitute(command.replace("sha256sum evidence-*", "sha256sum evidence-* | tee sums"), archive)
        check_output(command, shell(real, tmp_path), archive)
    sums = (tmp_path / "sums").read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "evidence-manifest.json").read_text(encoding="utf-8"))
    assert manifest and all(f"{m['sha256']}  {m['attachment']}" in sums for m in manifest), sums


def test_run_page_prints_no_command_that_fails(archive: dict[str, Any], tmp_path: Path) -> None:
    page = archive["project"] / f"output/runs/deploy/{archive['run']}.html"
    for command in page_commands(page):
        check_output(command, shell(substitute(command, archive), tmp_path), archive)


def test_saveall_keeps_every_file_and_the_manifest_keeps_the_original_name(archive: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    done = shell(f"pdfdetach -saveall {shlex.quote(str(archive['pdf']))}", tmp_path)
    assert done.returncode == 0, done.stderr
    saved = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert saved == ["evidence-Pr-fbericht.txt", "evidence-manifest.json", "run-record.json"]
    assert (tmp_path / "evidence-Pr-fbericht.txt").read_bytes() == archive["evidence"]
    manifest = json.loads((tmp_path / "evidence-manifest.json").read_text(encoding="utf-8"))
    assert [(m["name"], m["file"], m["attachment"]) for m in manifest] == [
        (ORIGINAL, "evidence/Pr-fbericht.txt", "evidence-Pr-fbericht.txt")]
    record = json.loads((tmp_path / "run-record.json").read_text(encoding="utf-8"))
    assert record["results"]["freeze"]["evidence"][0]["name"] == ORIGINAL
    text = subprocess.run(["pdftotext", "-layout", str(archive["pdf"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert ORIGINAL in text and "attached as" in text and "evidence-Pr-fbericht.txt" in text
    assert ORIGINAL in (archive["project"] / f"output/runs/deploy/{archive['run']}.html").read_text()


def test_attachment_names_are_flat_unique_and_never_the_reports_own() -> None:
    from generator.report.render import attachment_names

    names = attachment_names(["evidence/a/b.txt", "evidence/a-b.txt", "evidence/manifest.json",
                              "evidence/ü ber.log", "evidence/a/b.txt"])
    assert names == {"evidence/a/b.txt": "evidence-a-b.txt", "evidence/a-b.txt": "evidence-a-b-2.txt",
                     "evidence/manifest.json": "evidence-manifest-2.json", "evidence/ü ber.log": "evidence--ber.log"}


def test_old_records_without_names_still_load_and_unknown_keys_still_fail(archive: dict[str, Any]) -> None:
    from generator.core.errors import SourceError
    from generator.runs.codec import load_record

    text = archive["record"].read_text(encoding="utf-8")
    assert f"name: {ORIGINAL}" in text
    old = load_record(text.replace(f"      name: {ORIGINAL}\n", ""), "old.yml")
    evidence = old.results["freeze"].current.evidence[0]
    assert evidence.name == "" and evidence.original_name == "Pr-fbericht.txt"
    with pytest.raises(SourceError, match="original"):
        load_record(text.replace(f"      name: {ORIGINAL}\n", f"      original: {ORIGINAL}\n"), "bad.yml")


def test_signed_report_is_pdf_17_with_one_producer(archive: dict[str, Any]) -> None:
    with pikepdf.open(archive["pdf"]) as document:
        assert document.pdf_version <= "1.7"
        assert "/Version" not in document.Root or str(document.Root.Version) <= "/1.7"
        extensions = document.Root.get("/Extensions", {})
        assert "/ISO_" not in extensions and str(extensions["/ESIC"]["/BaseVersion"]) == "/1.7"
        with document.open_metadata() as xmp:
            assert str(document.docinfo["/Producer"]) == xmp["pdf:Producer"]
            assert xmp["pdfaid:part"] == "3"
    info = subprocess.run(["pdfinfo", str(archive["pdf"])], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^PDF version:\s+1\.7$", info, re.M), info


def report_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_cover_names_every_approver(archive: dict[str, Any]) -> None:
    cover = report_text(archive["pdf"]).split("\f")[0]
    assert "Release Manager: Rhea Jörgensen, approved 2026-06-01 09:00:00 UTC" in cover
    assert "Security: Sam, approved 2026-06-01 09:00:00 UTC" in cover
    assert "GO without" not in cover


NO_ROLES = {"content/plain.md": """
    ---
    id: plain
    ---
    # Plain

    - [ ] One {#one}
    - [ ] Two {#two}
"""}


def test_cover_says_go_without_signoff_roles_or_change_ticket(tmp_path: Path, signing_key: Any) -> None:
    write_site(tmp_path, NO_ROLES)
    run_id = cli_ok("run", "start", "plain", "--release", "v1", "--at", "2026-06-01T08:00:00Z",
                    "-C", tmp_path).stdout.strip()
    for item in ("one", "two"):
        cli_ok("run", "mark", run_id, item, "--status", "done", "--at", "2026-06-01T08:10:00Z", "-C", tmp_path)
    cli_ok("run", "close", run_id, "--key", signing_key.pkcs12, "--at", "2026-06-01T09:00:00Z", "-C", tmp_path)
    cover = report_text(tmp_path / f"content/runs/plain/{run_id}.pdf").split("\f")[0]
    assert "GO without any sign-off" in cover and "GO without a change ticket" in cover
    assert "none (the checklist names no sign-off role)" in cover


MANY = {"content/many.md": "---\nid: many\n---\n# Many\n\n## Work\n\n"
        + "".join(f"- [ ] Step {n} {{#step-{n}}}\n" for n in range(1, 41))}


def test_forced_close_lists_every_open_required_item(tmp_path: Path, signing_key: Any) -> None:
    write_site(tmp_path, MANY)
    run_id = cli_ok("run", "start", "many", "--release", "v1", "--at", "2026-06-01T08:00:00Z",
                    "-C", tmp_path).stdout.strip()
    cli_ok("run", "mark", run_id, "step-1", "--status", "failed", "--note", "broke", "--at", "2026-06-01T08:10:00Z",
           "-C", tmp_path)
    cli_ok("run", "mark", run_id, "step-2", "--status", "done", "--at", "2026-06-01T08:10:00Z", "-C", tmp_path)
    cli_ok("run", "close", run_id, "--force", "--key", signing_key.pkcs12, "--at", "2026-06-01T09:00:00Z",
           "-C", tmp_path)
    text = report_text(tmp_path / f"content/runs/many/{run_id}.pdf")
    assert "Closed with exceptions: 38 required item(s) were still open or skipped" in text
    exceptions = text[text.index("Exceptions\n"):text.index("Note and evidence")]
    listed = set(re.findall(r"step-\d+", exceptions))
    assert listed == {f"step-{n}" for n in range(1, 41)} - {"step-2"}, sorted(listed)
    assert exceptions.count("still open when the run was closed") == 38


def test_skipped_required_item_needs_force_and_the_report_says_so(started: tuple[Path, str], run_cli: RunCli,
                                                                  signing_key: Any) -> None:
    project, run_id = started
    for item, status in (("announce", "done"), ("freeze", "skipped"), ("migrate", "done")):
        assert run_cli("run", "mark", run_id, item, "--status", status, *(["--note", "no time"] * (status != "done")),
                       "--at", "2026-03-01T10:10:00Z", "-C", project).exit_code == 0
    refused = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "-C", project)
    assert refused.exit_code == 1
    assert "1 required item is still open or skipped (freeze)" in refused.stderr
    assert not (project / f"content/runs/deploy/{run_id}.pdf").exists()
    forced = run_cli("run", "close", run_id, "--force", "--key", signing_key.pkcs12, "--at", "2026-03-01T11:00:00Z",
                     "-C", project)
    assert forced.exit_code == 0, forced.output
    text = report_text(project / f"content/runs/deploy/{run_id}.pdf")
    assert "Closed with exceptions: 1 required item(s) were still open or skipped" in text


README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands(text: str) -> list[str]:
    """Commands of the README's ``sh`` blocks in the auditor section (continuation lines joined)."""
    section = text[text.index("## For auditors"):text.index("## Commands")]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        commands.extend(c.strip() for c in block.replace("\\\n", "").splitlines() if c.strip())
    return commands


def test_every_command_in_the_readme_auditor_section_runs_in_the_c_locale(archive: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    commands = readme_commands(README)
    assert commands
    for command in commands:
        check_output(command, shell(substitute(command, archive), tmp_path), archive)


def test_readme_checkpoint_and_leaf_commands_prove_what_they_say(archive: dict[str, Any], tmp_path: Path) -> None:
    """The README's openssl check of a checkpoint verifies, and its leaf hash is the ledger's."""
    commands = readme_commands(README)
    assert len(commands) == 6
    outputs = []
    for command in commands:
        done = shell(substitute(command, archive), tmp_path)
        check_output(command, done, archive)
        outputs.append(done.stdout)
    assert "Verified OK" in outputs[4]
    line = (archive["project"] / "content/runs/ledger.jsonl").read_bytes().split(b"\n")[0]
    assert outputs[5].strip() == hashlib.sha256(b"\0" + line).hexdigest()
    from generator.archive import merkle

    assert outputs[5].strip() == merkle.leaf_hash(line).hex()
