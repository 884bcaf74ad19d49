"""Nothing leaks: no file from outside the project reaches the site, a report or a bundle
through a symbolic link; no private key is published; no file name becomes a ``javascript:``
link; backups and editor leftovers stay unpublished. Every case goes through the CLI on a
throwaway project, and the output, the PDF's embedded files and the bundle are searched for
the secret."""

from __future__ import annotations

import html.parser
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from click.testing import Result

from tests.helpers import ROOT, search_fragments

RunCli = Callable[..., Result]
SECRET = "TOP-SECRET-4f1c9e"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside every project, holding the secret."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    path = folder / "shadow"
    path.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    return path


def tree_mentions(folder: Path, needle: str = SECRET) -> list[str]:
    """Files under ``folder`` whose bytes contain ``needle`` (links followed, as a web server would)."""
    if not folder.exists():
        return []
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes())


def evidence_line(record: Path, name: str) -> int:
    lines = record.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().removeprefix("- ") == f"file: evidence/{name}")


def mark_with_secret_bytes(run_cli: RunCli, project: Path, run_id: str, secret: Path) -> Path:
    """Attach a copy of the secret's bytes (so the recorded hash matches), then swap the stored
    copy for a link to the secret itself: what an attacker with write access to content/ plants."""
    copy = project.parent / "shadow-copy.txt"
    copy.write_bytes(secret.read_bytes())
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", copy, "-C", project)
    assert result.exit_code == 0, result.output
    stored = next((project / "content/runs/deploy" / run_id / "evidence").iterdir())
    stored.unlink()
    stored.symlink_to(secret)
    return stored


def embedded_files(pdf: Path) -> dict[str, bytes]:
    pikepdf = pytest.importorskip("pikepdf")
    with pikepdf.open(pdf) as document:
        return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}


# -- 1. symbolic links ------------------------------------------------------------------------


def test_build_and_close_refuse_a_linked_evidence_file(started: tuple[Path, str], run_cli: RunCli, secret: Path,
                                                      signing_key: Any) -> None:
    project, run_id = started
    stored = mark_with_secret_bytes(run_cli, project, run_id, secret)
    record = project / "content/runs/deploy" / f"{run_id}.yml"
    where = f"content/runs/deploy/{run_id}.yml:{evidence_line(record, stored.name)}"
    before = record.read_bytes()

    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {where}: evidence file evidence/{stored.name} is a symbolic link")
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output
    assert not (project / "output").exists()

    result = run_cli("run", "close", run_id, "--key", signing_key.pkcs12, "--force", "-C", project)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {where}: evidence file evidence/{stored.name} is a symbolic link")
    assert record.read_bytes() == before and not record.with_suffix(".pdf").exists()
    assert not (project / "content/runs/ledger.jsonl").exists() or SECRET not in (
        project / "content/runs/ledger.jsonl").read_text()

    # Marking again must not write through the planted link (nor reuse it as "the same file").
    again = project.parent / stored.name
    again.write_text("fresh evidence\n")
    result = run_cli("run", "mark", run_id, "freeze", "--status", "done", "--evidence", again, "-C", project)
    assert result.exit_code == 1 and "is a symbolic link" in result.stderr
    assert secret.read_text().startswith("root:") and record.read_bytes() == before
    assert tree_mentions(project / "output") == []


def test_a_linked_evidence_folder_is_refused(started: tuple[Path, str], run_cli: RunCli, secret: Path) -> None:
    project, run_id = started
    run_folder = project / "content/runs/deploy" / run_id
    run_folder.mkdir(parents=True)
    (run_folder / "evidence").symlink_to(secret.parent, target_is_directory=True)
    note = project.parent / "note.txt"
    note.write_text("ok\n")
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", note, "-C", project)
    assert result.exit_code == 1 and "evidence folder is a symbolic link" in result.stderr
    assert sorted(p.name for p in secret.parent.iterdir()) == ["shadow"]


def test_evidence_named_by_a_link_on_the_command_line_is_stored_as_a_copy(
        started: tuple[Path, str], run_cli: RunCli, tmp_path: Path) -> None:
    project, run_id = started
    real = tmp_path / "report.txt"
    real.write_text("scan clean\n")
    link = tmp_path / "latest.txt"
    link.symlink_to(real)
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", link, "-C", project)
    assert result.exit_code == 0, result.output
    stored = project / "content/runs/deploy" / run_id / "evidence/latest.txt"
    assert not stored.is_symlink() and stored.read_text() == "scan clean\n"
    real.write_text("changed later\n")
    assert stored.read_text() == "scan clean\n"


@pytest.fixture
def sealed_with_evidence(started: tuple[Path, str], run_cli: RunCli, tmp_path: Path, secret: Path,
                         monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, Path, Path]:
    """A run sealed with an encrypted key made by ``keys new`` (passphrase from the
    environment); its evidence holds the secret's bytes. Returns (project, run, key, cert)."""
    project, run_id = started
    monkeypatch.setenv("LAUNCHBOOK_SIGNING_PASSPHRASE", "correct horse")
    result = run_cli("keys", "new", "--name", "Leak Tester", "--out", tmp_path / "keys", "-C", project)
    assert result.exit_code == 0, result.output
    key, cert = tmp_path / "keys/launchbook-signing.p12", tmp_path / "keys/launchbook-signing.pem"
    copy = tmp_path / "shadow-copy.txt"
    copy.write_bytes(secret.read_bytes())
    assert run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", copy,
                   "-C", project).exit_code == 0
    result = run_cli("run", "close", run_id, "--key", key, "--force", "-C", project)
    assert result.exit_code == 0, result.output
    return project, run_id, key, cert


def test_verify_and_bundle_refuse_a_link_planted_after_sealing(sealed_with_evidence: tuple[Path, str, Path, Path],
                                                               run_cli: RunCli, secret: Path,
                                                               tmp_path: Path) -> None:
    project, run_id, key, cert = sealed_with_evidence
    pdf = project / "content/runs/deploy" / f"{run_id}.pdf"
    assert embedded_files(pdf)["evidence-shadow-copy.txt"] == secret.read_bytes()  # attached on purpose: fine
    assert run_cli("verify", "--trust", cert, "-C", project).exit_code == 0

    stored = project / "content/runs/deploy" / run_id / "evidence/shadow-copy.txt"
    stored.unlink()
    stored.symlink_to(secret)  # same bytes, same hash: only the link gives it away
    result = run_cli("verify", "--trust", cert, "-C", project)
    assert result.exit_code == 1
    assert f"content/runs/deploy/{run_id}/evidence/shadow-copy.txt: evidence file is a symbolic link" in result.output
    assert "no problems" not in result.output

    checkpoints = project / "content/runs/checkpoints"
    before = sorted(checkpoints.iterdir()) if checkpoints.exists() else []
    result = run_cli("bundle", run_id, "-o", tmp_path / "b.zip", "--key", key, "-C", project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = evidence_line(project / "content/runs/deploy" / f"{run_id}.yml", "shadow-copy.txt")
    assert result.stderr.startswith(f"Error: content/runs/deploy/{run_id}.yml:{line}: evidence file "
                                    "evidence/shadow-copy.txt is a symbolic link")
    assert not (tmp_path / "b.zip").exists()
    assert (sorted(checkpoints.iterdir()) if checkpoints.exists() else []) == before  # nothing signed either

    result = run_cli("build", "-C", project)
    assert result.exit_code == 1 and "is a symbolic link" in result.stderr
    assert not (project / "output").exists()


def test_the_encrypted_key_needs_its_passphrase(sealed_with_evidence: tuple[Path, str, Path, Path],
                                               run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    _, _, key, _ = sealed_with_evidence
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(key.read_bytes(), None)
    assert pkcs12.load_key_and_certificates(key.read_bytes(), b"correct horse")[0] is not None
    assert oct(key.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("what", ["asset", "template", "theme folder"])
def test_theme_files_linked_out_of_the_theme_are_refused(run_project: Path, run_cli: RunCli, secret: Path,
                                                         what: str) -> None:
    (run_project / "content/site.yml").write_text("title: T\ntheme: mine\n")
    theme = run_project / "themes/mine"
    if what == "theme folder":
        (secret.parent / "assets").mkdir()
        (secret.parent / "assets/extra.css").write_text(f"/* {SECRET} */\n")
        theme.parent.mkdir(parents=True)
        theme.symlink_to(secret.parent, target_is_directory=True)
    else:
        folder = theme / ("assets" if what == "asset" else "templates")
        folder.mkdir(parents=True)
        (folder / ("extra.css" if what == "asset" else "base.html")).symlink_to(secret)
    result = run_cli("build", "-C", run_project)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output
    assert "symbolic link" in result.stderr or "leads out of" in result.stderr
    assert not (run_project / "output").exists()


@pytest.mark.parametrize("kind", ["page", "folder", "site.yml", "asset"])
def test_content_linked_out_of_the_project_is_refused(small_site: Path, run_cli: RunCli, secret: Path,
                                                      kind: str) -> None:
    content = small_site / "content"
    if kind == "page":
        (content / "ops/shadow.md").symlink_to(secret)
        name = "content/ops/shadow.md"
    elif kind == "folder":
        (content / "mirror").symlink_to(secret.parent, target_is_directory=True)
        name = "content/mirror"
    elif kind == "site.yml":
        (content / "site.yml").unlink()
        (content / "site.yml").symlink_to(secret)
        name = "content/site.yml"
    else:
        (content / "logo.png").symlink_to(secret)
        name = "content/logo.png"
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {name}: ") and result.stderr.count("Error:") == 1
    assert SECRET not in result.output
    assert not (small_site / "output").exists()


def test_a_link_that_stays_inside_content_is_published_as_a_copy(small_site: Path, run_cli: RunCli) -> None:
    content = small_site / "content"
    (content / "ops/alias.md").symlink_to(content / "ops/deploy.md")
    (content / "shared").symlink_to(content / "guides", target_is_directory=True)
    assert run_cli("build", "-C", small_site).exit_code == 0
    out = small_site / "output"
    assert (out / "ops/alias.html").is_file() and not (out / "ops/alias.html").is_symlink()
    assert (out / "shared/style.html").is_file()


def test_a_folder_link_looping_back_is_refused(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/ops/again").symlink_to(small_site / "content", target_is_directory=True)
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1 and result.stderr.startswith("Error: content/ops/again: is a symbolic link to a "
                                                              "folder that contains it"), result.output


def test_lint_fix_never_writes_through_a_link(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md"
    original = b"\xef\xbb\xbf# Outside\r\n\r\n- [ ] item\r\n"  # BOM + CRLF: --fix would rewrite it
    outside.write_bytes(original)
    content = small_site / "content"
    (content / "ops/linked.md").symlink_to(outside)
    inside = content / "guides/crlf.md"
    inside.write_bytes(b"# CRLF\r\n\r\n- [ ] item\r\n")

    for args in (["lint", "--fix", "-C", small_site], ["lint", "--fix", "-C", small_site, content / "ops/linked.md"]):
        result = run_cli(*args)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith("Error: content/ops/linked.md: is a symbolic link")
        assert outside.read_bytes() == original
        assert inside.read_bytes() == b"# CRLF\r\n\r\n- [ ] item\r\n"  # checked first, nothing fixed
    result = run_cli("lint", "--fix", "-C", small_site, outside)  # a file outside content/ is not --fix'ed
    assert result.exit_code == 1 and "--fix rewrites only files inside content/" in result.stderr
    assert outside.read_bytes() == original
    assert sorted(p.name for p in tmp_path.rglob("*.bak*")) == []

    (content / "ops/linked.md").unlink()
    planted = tmp_path / "planted-target"
    (content / "guides/crlf.md.bak").symlink_to(planted)  # a planted backup name must not be written through
    result = run_cli("lint", "--fix", "-C", small_site)
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert not planted.exists()
    assert inside.read_bytes() == b"# CRLF\n\n- [ ] item\n"
    assert (content / "guides/crlf.md.bak.2").read_bytes() == b"# CRLF\r\n\r\n- [ ] item\r\n"


# -- 2. private keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["content/keys", "output/keys", "content"])
def test_keys_new_refuses_a_published_folder(run_project: Path, run_cli: RunCli, where: str) -> None:
    result = run_cli("keys", "new", "--no-passphrase", "--out", run_project / where, "-C", run_project)
    assert result.exit_code == 1 and "refusing to put a private key" in result.stderr, result.output
    assert not list(run_project.rglob("*.p12"))


def test_keys_new_refuses_any_content_or_output_folder_whatever_the_working_folder(
        run_project: Path, run_cli: RunCli, tmp_path: Path) -> None:
    (run_project / "content/site.yml").write_text("title: T\n")
    assert run_cli("build", "-C", run_project, "-o", tmp_path / "site").exit_code == 0
    for out in (run_project / "content/deep/keys", tmp_path / "site/keys"):  # -C not given: found by their markers
        result = run_cli("keys", "new", "--no-passphrase", "--out", out)
        assert result.exit_code == 1 and "refusing to put a private key" in result.stderr, result.output
    assert not list(tmp_path.rglob("*.p12"))


def test_keys_new_without_a_passphrase_source_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LAUNCHBOOK_SIGNING_PASSPHRASE", None)
    result = subprocess.run([sys.executable, "-m", "generator", "keys", "new", "--out", str(tmp_path / "k")],
                            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, cwd=tmp_path,
                            check=False)
    assert result.returncode == 2, result.stderr
    for option in ("LAUNCHBOOK_SIGNING_PASSPHRASE", "terminal", "--no-passphrase"):
        assert option in result.stderr
    assert not (tmp_path / "k").exists() or not list((tmp_path / "k").iterdir())


def test_keys_new_no_passphrase_is_explicit(tmp_path: Path, run_cli: RunCli,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    monkeypatch.delenv("LAUNCHBOOK_SIGNING_PASSPHRASE", raising=False)
    monkeypatch.chdir(tmp_path)  # no project here: keys new works outside projects
    assert run_cli("keys", "new", "--no-passphrase", "--out", tmp_path / "k").exit_code == 0
    assert pkcs12.load_key_and_certificates((tmp_path / "k/launchbook-signing.p12").read_bytes(), None)[0]


def _key_files(tmp_path: Path) -> dict[str, bytes]:
    from generator.report.keys import create_key

    made = create_key(tmp_path / "made", "Leak")
    pem = subprocess.run(["openssl", "pkcs12", "-in", str(made.pkcs12), "-nocerts", "-nodes", "-passin", "pass:"],
                         capture_output=True, check=False).stdout
    if b"PRIVATE KEY" not in pem:  # no openssl CLI: write the PEM with cryptography
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        private = pkcs12.load_key_and_certificates(made.pkcs12.read_bytes(), None)[0]
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore
                                    serialization.NoEncryption())
    return {"signing.p12": made.pkcs12.read_bytes(), "backup.pfx": b"anything",
            "renamed.bin": made.pkcs12.read_bytes(), "deploy-key.txt": b"ssh access:\n" + pem}


def test_build_refuses_private_keys_under_content(run_project: Path, run_cli: RunCli, tmp_path: Path) -> None:
    for name, data in _key_files(tmp_path).items():
        target = run_project / "content/files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        result = run_cli("build", "-C", run_project)
        assert result.exit_code == 1, (name, result.output)
        assert result.stderr.startswith(f"Error: content/files/{name}: is a ")
        assert "PRIVATE KEY" not in result.output
        assert not (run_project / "output").exists()
        target.unlink()
    (run_project / "content/files/cert.pem").write_bytes((tmp_path / "made/launchbook-signing.pem").read_bytes())
    (run_project / "content/files/howto.md").write_text("Keys start with `-----BEGIN PRIVATE KEY-----`.\n")
    assert run_cli("build", "-C", run_project).exit_code == 0  # a certificate or a mention is fine


def test_run_mark_refuses_a_private_key_as_evidence(started: tuple[Path, str], run_cli: RunCli,
                                                     tmp_path: Path) -> None:
    project, run_id = started
    for name, data in _key_files(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(data)
        result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--evidence", path, "-C", project)
        assert result.exit_code == 1 and "refusing to attach a" in result.stderr, (name, result.output)
    assert not (project / "content/runs/deploy" / run_id / "evidence").exists() or not list(
        (project / "content/runs/deploy" / run_id / "evidence").iterdir())


# -- 3. names that are not links ---------------------------------------------------------------

HOSTILE = ["javascript:alert(1).md", "q?x=1.md", "hash#top.md", "pct%41.md", "two words.md", 'quo"te\'s.md',
           "lt<b>gt.md", "ünïcødé.md", "javascript:folder/inner.md", "amp&amp.md"]


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)


def _pages(out: Path) -> Iterator[tuple[Path, list[str]]]:
    for page in sorted(out.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        yield page, parser.links


def _resolves(out: Path, page: Path, href: str) -> Path:
    base = "file://" + (page.relative_to(out).as_posix() and "/" + page.relative_to(out).as_posix())
    url = urlsplit(urljoin(base, href))
    assert url.scheme == "file", (page, href)
    return out / unquote(url.path).lstrip("/")


def test_hostile_file_names_become_working_relative_links(write_project: Callable[..., Path],
                                                          run_cli: RunCli) -> None:
    files = {f"content/{name}": f"# Page {n}\n\n- [ ] step {n}\n" for n, name in enumerate(HOSTILE)}
    project = write_project({**files, "content/index.md": "# Home\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    out = project / "output"
    for name in HOSTILE:
        assert (out / name.replace(".md", ".html")).is_file(), name
    linked: set[Path] = set()
    for page, links in _pages(out):
        for href in links:
            if href.startswith(("http://", "https://", "#")):
                continue
            assert href.startswith(("./", "../")) or not re.match(r"^[^/?#]*:", href), (page, href)
            assert not re.search(r"[\s\"'<>]", href), (page, href)
            target = _resolves(out, page, href)
            assert target.exists(), (page, href)
            linked.add(target)
    for name in HOSTILE:
        assert out / name.replace(".md", ".html") in linked, name
    urls = [fragment[2] for fragment in search_fragments(out).values()]
    assert len(urls) == len(HOSTILE) + 1
    for url in urls:
        assert not re.match(r"^[^/?#]*:", url) and "?" not in url and "#" not in url, url
        assert _resolves(out, out / "index.html", "./" + url).is_file(), url


def test_search_ui_never_navigates_to_a_scheme() -> None:
    """The search UI builds every link through siteHref: root-relative, http(s)/file only."""
    script = (ROOT / "themes/default/assets/launchbook.js").read_text(encoding="utf-8")
    assert 'getAttribute("data-root") || "./"' in script
    assert "root + e.u" not in script and "root + row.u" not in script
    assert script.count("siteHref(") >= 3
    node = subprocess.run(["node", "--version"], capture_output=True, check=False) if os.path.exists(
        "/usr/bin/node") else None
    if node is None or node.returncode:
        pytest.skip("node is not installed")
    body = script[script.index("  function siteHref"):script.index("\n  }\n", script.index("  function siteHref")) + 4]
    program = ("var location = {href: 'file:///site/index.html'}; var root = '';" + body.replace("root + url",
               "(root || './') + url") + "\nconsole.log(JSON.stringify(["
               "siteHref('javascript:alert(1).html'), siteHref('javascript%3Aalert(1).html'), siteHref('a/b.html')]));")
    result = subprocess.run(["node", "-e", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == '["./javascript:alert(1).html","./javascript%3Aalert(1).html","./a/b.html"]'


# -- 4. backups and editor leftovers -----------------------------------------------------------


def test_backups_and_editor_leftovers_are_not_published(small_site: Path, run_cli: RunCli) -> None:
    content = small_site / "content"
    leftovers = ["ops/deploy.md.bak", "ops/deploy.md.bak.2", "ops/deploy.md~", "ops/.#deploy.md",
                 "ops/deploy.md.swp", "ops/#deploy.md#", "logo.png.bak", "ops/deploy.md.BAK"]
    for rel in leftovers:
        (content / rel).write_text(f"# Old {SECRET}\n\n- [ ] old step\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0, result.output
    out = small_site / "output"
    assert tree_mentions(out) == []
    assert not [p for p in out.rglob("*") if ".bak" in p.name.lower() or p.name.endswith(("~", ".swp", "#"))]
    assert (out / "ops/deploy.html").is_file()


def test_a_fixed_files_backup_stays_unpublished(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/guides/crlf.md").write_bytes(f"# CRLF {SECRET}\r\n\r\n- [ ] item\r\n".encode())
    assert run_cli("lint", "--fix", "-C", small_site).exit_code in (0, 1)
    assert (small_site / "content/guides/crlf.md.bak").is_file()
    (small_site / "content/guides/crlf.md").write_text("# Clean\n\n- [ ] item\n")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert tree_mentions(small_site / "output") == []


@pytest.mark.parametrize("what", ["record", "report", "checklist folder"])
def test_run_records_and_reports_linked_from_elsewhere_are_refused(started: tuple[Path, str], run_cli: RunCli,
                                                                   tmp_path: Path, what: str) -> None:
    project, run_id = started
    runs = project / "content/runs"
    record = runs / "deploy" / f"{run_id}.yml"
    elsewhere = tmp_path / "elsewhere-runs"
    if what == "record":
        elsewhere.mkdir()
        moved = elsewhere / record.name
        record.rename(moved)
        record.symlink_to(moved)
    elif what == "report":
        (elsewhere).mkdir()
        (elsewhere / "r.pdf").write_text(SECRET)
        text = record.read_text()
        record.write_text(text + f"report:\n  file: {run_id}.pdf\n  sha256: {'a' * 64}\n  size: 10\n")
        record.with_suffix(".pdf").symlink_to(elsewhere / "r.pdf")
    else:
        (runs / "deploy").rename(elsewhere)
        (runs / "deploy").symlink_to(elsewhere, target_is_directory=True)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output
    assert "symbolic link" in result.stderr or "leads out of" in result.stderr
    assert not (project / "output").exists()


def test_keys_new_never_writes_through_a_planted_link(tmp_path: Path, run_cli: RunCli, secret: Path) -> None:
    (tmp_path / "k").mkdir()
    (tmp_path / "k/launchbook-signing.pem").symlink_to(tmp_path / "elsewhere/cert-written-here")
    (tmp_path / "content").mkdir()
    result = run_cli("keys", "new", "--no-passphrase", "--out", tmp_path / "k", "-C", tmp_path)
    assert result.exit_code == 1 and "refusing to overwrite" in result.stderr
    assert sorted(p.name for p in secret.parent.iterdir()) == ["shadow"]
    assert not (tmp_path / "k/launchbook-signing.p12").exists()


# Last in the file on purpose: the module-scoped browser keeps an event loop running, in which
# pyHanko (the sealing tests above) cannot sign.
@pytest.mark.browser
def test_a_javascript_named_page_opens_as_a_page_in_chromium(write_project: Callable[..., Path], run_cli: RunCli,
                                                            browser: Any) -> None:
    project = write_project({"content/javascript:alert(1).md": "# Trap page\n\n- [ ] harmless step\n",
                             "content/index.md": "# Home\n"})
    assert run_cli("build", "-C", project).exit_code == 0
    context = browser.new_context()
    tab = context.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        tab.goto((project / "output/index.html").as_uri())
        tab.locator("nav a", has_text="Trap page").first.click()
        tab.wait_for_url(re.compile(r"javascript%3Aalert%281%29\.html$"), timeout=5000)
        tab.goto((project / "output/index.html").as_uri())
        tab.keyboard.press("/")
        tab.keyboard.type("harmless")
        tab.wait_for_selector("#search-results [role=option]", timeout=5000)
        href = tab.locator("#search-results [role=option] a").first.get_attribute("href")
        assert href is not None and href.startswith("./"), href
        tab.keyboard.press("Enter")
        tab.wait_for_url(re.compile(r"javascript%3Aalert%281%29\.html#harmless-step"), timeout=5000)
        assert "Trap page" in tab.title() and dialogs == []
    finally:
        context.close()
