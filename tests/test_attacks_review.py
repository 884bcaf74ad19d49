"""A second attacker's review of the strict YAML loader and the leak defences, through the CLI.

Each test replays one defect found after the first round of fixes; every YAML case is one
``Error: path:line: message`` (exit 1), no traceback, and a record is never rewritten.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest
from click.testing import Result

from generator.core.errors import SourceError
from generator.runs.store import find_run

RunCli = Callable[..., Result]
RECORD = "content/runs/deploy/20260301-1000-v1-0.yml"


def assert_error(result: Result, where: str, line: int, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {where}:{line}: "), result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output


def replace_in_record(project: Path, run_id: str, old: str, new: str) -> tuple[Path, bytes, int]:
    """Edit the record; return its path, its new bytes and the line where ``new`` starts."""
    path = find_run(project, run_id).path
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path, path.read_bytes(), text[: text.index(new)].count("\n") + 1


# --- YAML: explicit scalar tags on text of another type ----------------------------------------------------------


@pytest.mark.parametrize(("tagged", "shown"), [
    ("!!int abc", "!!int"), ("!!int ''", "!!int"), ("!!int 0x", "!!int"), ("!!float abc", "!!float"),
    ("!!bool maybe", "!!bool"), ("!!null lost", "!!null"),
])
def test_record_explicit_tag_on_wrong_text_is_an_error_at_its_line(started: tuple[Path, str], run_cli: RunCli,
                                                                   tagged: str, shown: str) -> None:
    project, run_id = started
    path, before, line = replace_in_record(project, run_id, "summary: ''", f"summary: {tagged}")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert_error(result, RECORD, line, f"is not a valid {shown}")
    assert path.read_bytes() == before


def test_record_tag_through_a_tag_directive_is_checked_too(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    path = find_run(project, run_id).path
    text = "%TAG !x! tag:yaml.org,2002:\n---\n" + path.read_text(encoding="utf-8").replace(
        "depth: 1", "depth: !x!int one", 1)
    path.write_text(text, encoding="utf-8")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert_error(result, RECORD, text[: text.index("!x!int one")].count("\n") + 1, "'one' is not a valid !!int")
    assert path.read_text(encoding="utf-8") == text


def test_front_matter_and_site_yml_explicit_tags_are_errors(write_project: Callable[..., Path],
                                                            run_cli: RunCli) -> None:
    project = write_project({"content/index.md": "---\ntitle: Home\nnav_order: !!int first\n---\n# Home\n"})
    assert_error(run_cli("build", "-C", project), "content/index.md", 3, "'first' is not a valid !!int")
    (project / "content/index.md").write_text("# Home\n", encoding="utf-8")
    (project / "content/site.yml").write_text("title: Ops\nlanguage: !!bool perhaps\n", encoding="utf-8")
    assert_error(run_cli("build", "-C", project), "content/site.yml", 2, "'perhaps' is not a valid !!bool")
    lint = run_cli("lint", "-C", project)
    assert lint.exit_code == 1 and "Traceback" not in lint.output
    assert "content/site.yml:2:" in lint.output and "perhaps" in lint.output, lint.output


def test_explicit_tags_that_fit_still_load(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    replace_in_record(project, run_id, "summary: ''", "summary: !!str 12")
    replace_in_record(project, run_id, "depth: 1", "depth: !!int '1'")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert result.exit_code == 0, result.output


# --- YAML: a character YAML refuses is reported at its own line ---------------------------------------------------


@pytest.mark.parametrize("char", ["\0", "\x07", "\ufffe"])
def test_record_control_character_is_reported_at_its_line(started: tuple[Path, str], run_cli: RunCli,
                                                          char: str) -> None:
    project, run_id = started
    path, before, line = replace_in_record(project, run_id, "summary: ''", f"summary: 'a{char}b'")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert_error(result, RECORD, line, f"character U+{ord(char):04X} is not allowed")
    assert "<unicode string>" not in result.stderr
    assert path.read_bytes() == before


def test_front_matter_control_character_line_counts_from_the_file(write_project: Callable[..., Path],
                                                                 run_cli: RunCli) -> None:
    project = write_project({"content/index.md": "---\ntitle: Home\nowner: \"é\"\ndescription: 'a\0'\n---\n# H\n"})
    assert_error(run_cli("build", "-C", project), "content/index.md", 4, "character U+0000 is not allowed")


# --- YAML: a flow list of millions of tiny values is refused at once -----------------------------------------------


def test_record_with_millions_of_values_is_refused_fast(started: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = started
    flood = "[" + "0," * 2_000_000 + "0]"  # 4 MB: under the size limit, ~6 s to parse in full
    path, before, line = replace_in_record(project, run_id, "summary: ''", f"summary: {flood}")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project)
    assert_error(result, RECORD, line, "YAML document has more than 500,000 values")  # refused on the count,
    assert path.read_bytes() == before  # before building the values (speed lives in bench/, not here)


def test_site_yml_value_limit_is_tighter(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project({"content/site.yml": "title: Ops\nnav: [" + "a," * 150_000 + "a]\n"})
    assert_error(run_cli("build", "-C", project), "content/site.yml", 2, "more than 100,000 values")


# --- Links: a run's own folder, a checklist's runs folder, content/runs itself -------------------------------------

SECRET = "TOP-SECRET-a7d31c"


def tree_mentions(folder: Path, needle: str = SECRET) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes())


def test_a_run_folder_linked_out_never_publishes_evidence_from_there(started: tuple[Path, str], run_cli: RunCli,
                                                                     tmp_path: Path) -> None:
    project, run_id = started
    proof = tmp_path / "proof.txt"
    proof.write_text("ok\n")
    assert run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", proof,
                   "-C", project).exit_code == 0
    run_folder = find_run(project, run_id).folder
    elsewhere = tmp_path / "home-of-someone"
    (elsewhere / "evidence").mkdir(parents=True)
    (elsewhere / "evidence/proof.txt").write_text(f"{SECRET}\n")  # the planted link shows this instead
    for stored in (run_folder / "evidence").iterdir():
        stored.unlink()
    (run_folder / "evidence").rmdir()
    run_folder.rmdir()
    run_folder.symlink_to(elsewhere, target_is_directory=True)
    shown = run_folder.relative_to(project).as_posix()
    for args in (("build",), ("run", "show", run_id), ("verify",)):
        result = run_cli(*args, "-C", project)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(f"Error: {shown}: is a symbolic link"), (args, result.stderr)
        assert "Traceback" not in result.output
    assert tree_mentions(project / "output") == []


def test_a_checklist_runs_folder_linked_to_a_sibling_is_one_error_naming_the_link(started: tuple[Path, str],
                                                                                   run_cli: RunCli) -> None:
    project, _ = started
    (project / "content/runs/alias").symlink_to("deploy", target_is_directory=True)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: content/runs/alias: is a symbolic link (to deploy)"), result.stderr


def test_content_runs_linked_out_of_content_is_refused(started: tuple[Path, str], run_cli: RunCli,
                                                        tmp_path: Path) -> None:
    project, run_id = started
    runs = project / "content/runs"
    record = find_run(project, run_id).path
    record.write_text(record.read_text().replace("operator: Olga", f"operator: {SECRET}"))
    runs.rename(tmp_path / "runs-elsewhere")
    runs.symlink_to(tmp_path / "runs-elsewhere", target_is_directory=True)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: content/runs: leads out of"), result.stderr
    assert tree_mentions(project / "output") == []


def test_content_itself_may_be_a_link(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    """Where content/ lives is the project owner's choice; nothing under it may lead out of it."""
    project, run_id = started
    (project / "content").rename(tmp_path / "content-elsewhere")
    (project / "content").symlink_to(tmp_path / "content-elsewhere", target_is_directory=True)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    assert list((project / "output/runs/deploy").glob(f"{run_id}.html"))


# --- Keys: pasted into a page, a JSON service-account file, quoted --------------------------------------------------


@pytest.fixture(scope="module")
def pem_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_a_key_pasted_into_a_markdown_page_is_refused_at_its_line(run_project: Path, run_cli: RunCli,
                                                                 pem_key: str) -> None:
    quoted = "".join(f"> {line}\n" for line in pem_key.splitlines())
    for name, body in (("break-glass.md", f"# Break glass\n\nThe key:\n\n```\n{pem_key}```\n"),
                       ("quoted.md", f"# Quoted\n\nSee below.\n\n\n{quoted}")):
        page = run_project / "content" / name
        page.write_text(body)
        for command in ("build", "lint"):
            result = run_cli(command, "-C", run_project)
            assert result.exit_code == 1, (name, command, result.output)
            assert f"content/{name}:6: " in result.output, (name, command, result.output)
            assert "holds a PEM private key" in result.output, (name, command, result.output)
            assert "PRIVATE KEY-----" not in result.output
        assert not (run_project / "output").exists()
        page.unlink()


def test_a_json_service_account_key_under_content_is_refused(run_project: Path, run_cli: RunCli,
                                                             pem_key: str) -> None:
    (run_project / "content/files").mkdir()
    (run_project / "content/files/sa.json").write_text(
        json.dumps({"type": "service_account", "private_key_id": "abc", "private_key": pem_key}))
    result = run_cli("build", "-C", run_project)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: content/files/sa.json: is a PEM private key"), result.stderr


def test_a_json_key_is_refused_as_evidence(started: tuple[Path, str], run_cli: RunCli, pem_key: str,
                                           tmp_path: Path) -> None:
    project, run_id = started
    key = tmp_path / "credentials.json"
    key.write_text(json.dumps({"private_key": pem_key}))
    record = find_run(project, run_id).path
    before = record.read_bytes()
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", key, "-C", project)
    assert result.exit_code == 1 and "refusing to attach a PEM private key" in result.stderr, result.output
    assert record.read_bytes() == before


def test_prose_about_key_files_is_not_a_key(run_project: Path, run_cli: RunCli) -> None:
    (run_project / "content/rotation.md").write_text(
        "# Rotation\n\nThe file begins with -----BEGIN PRIVATE KEY----- and finishes with the line "
        "-----END PRIVATE KEY----- exactly.\n\n```\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow...(redacted)\n"
        "-----END RSA PRIVATE KEY-----\n```\n")
    result = run_cli("build", "-C", run_project)
    assert result.exit_code == 0, result.output


# --- Links: sitemap.xml URLs are percent-encoded like every other link ---------------------------------------------


HOSTILE_NAMES = ["q?a.md", "hash#top.md", "pct%2e%2e.md", "back\\slash.md", "sp ace.md", "%2f%2fevil.md", "amp&x.md",
                 "JaVaScRiPt:x/c.md", "deep/er/page.md"]


def _hostile_site(write_project: Callable[..., Path], run_cli: RunCli, base_url: str) -> Path:
    """A site of pages with hostile names and a base URL, built: its project folder."""
    files = {f"content/{name}": f"# Page {n}\n\n- [ ] step {n}\n" for n, name in enumerate(HOSTILE_NAMES)}
    project = write_project({**files, "content/index.md": "# Home\n",
                             "content/site.yml": f"title: T\nbase_url: {base_url}\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    return project


def test_sitemap_urls_name_the_files_they_list(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    out = _hostile_site(write_project, run_cli, "https://runbooks.example/") / "output"
    root = ElementTree.parse(out / "sitemap.xml").getroot()
    locs = [loc.text or "" for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(locs) == len(HOSTILE_NAMES) + 1
    for loc in locs:
        url = urlsplit(loc)
        assert (url.scheme, url.netloc, url.query, url.fragment) == ("https", "runbooks.example", "", ""), loc
        assert not re.search(r"[\s\\\"<>]", loc), loc
        assert (out / unquote(url.path).lstrip("/")).is_file(), loc


def test_with_a_base_url_the_404_page_links_absolutely(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    """A host answers a missing ``/a/b/c.html`` with ``404.html``: its links must not be relative
    to the folder of the missing page (its styles, navigation and search would be lost)."""
    project = _hostile_site(write_project, run_cli, "https://runbooks.example/docs/")
    out = project / "output"
    page = (out / "404.html").read_text()
    links = re.findall(r'\s(?:href|src)="([^"]*)"', page)
    assert 'data-root="https://runbooks.example/docs/"' in page and len(links) > 8
    for link in links:
        if link.startswith("#"):
            continue
        url = urlsplit(unescape(link))
        assert (url.scheme, url.netloc) == ("https", "runbooks.example") and url.path.startswith("/docs/"), link
        rel = unquote(url.path).removeprefix("/docs/")
        assert (out / (rel + "index.html" if rel.endswith("/") or not rel else rel)).is_file(), link
    (project / "content/site.yml").write_text("title: T\n")
    assert run_cli("build", "-C", project).exit_code == 0
    assert 'href="assets/launchbook.css"' in (out / "404.html").read_text()  # no base URL: relative, as every page


# --- Evidence: a FIFO, a device or a folder is refused at once, by what it is --------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_evidence_that_is_not_a_regular_file_is_refused_without_reading(started: tuple[Path, str], run_cli: RunCli,
                                                                        tmp_path: Path, kind: str) -> None:
    project, run_id = started
    target = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(target)  # opening it would block until a writer came
    elif kind == "device":
        target.symlink_to("/dev/zero")  # reading it would never end
    else:
        target.mkdir()
    record = find_run(project, run_id).path
    before = record.read_bytes()
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", target, "-C", project)
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: evidence file not a regular file: {target}\n", result.stderr
    assert record.read_bytes() == before


def test_active_evidence_is_published_as_text_never_as_a_page(started: tuple[Path, str], run_cli: Any,
                                                              tmp_path: Path) -> None:
    """An HTML or SVG evidence file would run its scripts on the site's own origin: it is
    published with ``.txt`` appended, and the run page links to that copy."""
    project, run_id = started
    for name, body in (("report.html", "<script>alert(document.cookie)</script>"),
                       ("chart.SVG", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
                       ("log.txt", "plain log\n")):
        source = tmp_path / name
        source.write_text(body)
        result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", source, "-C", project)
        assert result.exit_code == 0, result.output
    assert run_cli("build", "-C", project).exit_code == 0
    folder = project / "output/runs/deploy" / run_id / "evidence"
    assert sorted(p.name for p in folder.iterdir()) == ["chart.SVG.txt", "log.txt", "report.html.txt"]
    page = (project / "output/runs/deploy" / f"{run_id}.html").read_text(encoding="utf-8")
    assert f'href="{run_id}/evidence/report.html.txt"' in page and f'href="{run_id}/evidence/log.txt"' in page
    assert 'evidence/report.html"' not in page and 'evidence/chart.SVG"' not in page


def test_evidence_that_changes_while_copied_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded hash is the hash of the stored copy: a source rewritten between hashing
    and copying is refused and leaves no file behind."""
    from generator.core import files
    from generator.runs import evidence

    source = tmp_path / "log.txt"
    source.write_text("original\n")
    real = files.atomic_write

    def swap_then_write(path: Path, data: Any, *args: Any, **kwargs: Any) -> None:
        source.write_text("tampered after hashing\n")
        with open(source, "rb") as handle:
            real(path, handle, *args, **kwargs)

    monkeypatch.setattr(evidence, "atomic_write", swap_then_write)
    with pytest.raises(SourceError, match="changed while it was being copied"):
        evidence.store_file(tmp_path / "run", source)
    assert list((tmp_path / "run" / "evidence").iterdir()) == []
