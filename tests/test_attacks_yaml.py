"""Hostile and careless YAML (run records, front matter, site.yml) and odd code fences, through the CLI.

Every case is one ``Error: path:line: message`` (exit 1), fast, and a record that does not
parse exactly is never rewritten.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.runs.store import find_run
from tests.helpers import ROOT

RunCli = Callable[..., Result]
RECORD = "content/runs/deploy/20260301-1000-v1-0.yml"
BOMB = "".join(f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 10)}]\n" for n in range(10))


@pytest.fixture
def marked(started: tuple[Path, str], run_cli: RunCli) -> tuple[Path, str]:
    """A run with one result (with evidence and a history entry) and one sign-off."""
    project, run_id = started
    for status, note in (("failed", "lock timeout"), ("done", "")):
        args = ["--note", note] if note else []
        result = run_cli("run", "mark", run_id, "migrate", "--status", status, *args, "--evidence",
                         "https://ci.example/1", "--at", "2026-03-01T10:05:00Z", "-C", project)
        assert result.exit_code == 0, result.output
    result = run_cli("run", "signoff", run_id, "--role", "Security", "--name", "Sam", "--decision", "approve",
                     "--at", "2026-03-01T10:06:00Z", "-C", project)
    assert result.exit_code == 0, result.output
    return project, run_id


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """Line number of the ``nth`` line that contains ``fragment``."""
    return [number for number, line in enumerate(text.split("\n"), 1) if fragment in line][nth - 1]


def assert_error(result: Result, where: str, line: int, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and f"{where}:{line}: " in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output and "line None" not in result.stderr


def assert_mark_refused(run_cli: RunCli, project: Path, run_id: str, line: int, message: str) -> None:
    """``run show`` names the line; ``run mark`` fails the same way and leaves the file's bytes alone."""
    path = find_run(project, run_id).path
    before = path.read_bytes()
    assert_error(run_cli("run", "show", run_id, "-C", project), RECORD, line, message)
    assert_error(run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project), RECORD, line, message)
    assert path.read_bytes() == before


def cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; a hang (alias bomb) fails the test after 20 s instead of blocking it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=20, check=False)


# --- run records: duplicate keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "key"), [
    ("release: v1.0\n", "release: v1.0\nrelease: v2.0\n", "release:"),
    ("signoffs:", "results:\n  announce:\n    status: done\n    by: ''\n    at: '2026-03-01T10:05:00Z'\nsignoffs:",
     "results:"),
    ("    status: done\n", "    status: done\n    status: failed\n", "    status:"),
])
def test_record_duplicate_keys_are_errors_at_the_second(marked: tuple[Path, str], run_cli: RunCli, old: str,
                                                         new: str, key: str) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = path.read_text().replace(old, new, 1)
    path.write_text(text)
    second = [n for n, line in enumerate(text.split("\n"), 1) if line.startswith(key)][1]
    assert_mark_refused(run_cli, project, run_id, second, f"duplicate key {key.strip(' :')!r}")


def test_record_result_twice_is_an_error(marked: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = path.read_text().replace("results:\n", "results:\n  migrate:\n    status: open\n    by: ''\n"
                                                 "    at: '2026-03-01T10:05:00Z'\n", 1)
    path.write_text(text)
    assert_mark_refused(run_cli, project, run_id, line_of(text, "  migrate:", 2), "duplicate key 'migrate'")


# --- run records: unknown keys anywhere ---------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    status: done\n", "    status: done\n    notes: typo\n", "unknown field 'notes' in a result"),
    ("  decision: approve\n", "  decision: approve\n  comments: typo\n", "unknown field 'comments' in a sign-off"),
    ("    - url: https://ci.example/1\n", "    - url: https://ci.example/1\n      title: x\n",
     "unknown field 'title' in evidence"),
    ("    - status: failed\n", "    - status: failed\n      reason: x\n", "unknown field 'reason' in a history entry"),
    ("    depth: 1\n", "    depth: 1\n    owner: x\n", "unknown field 'owner' in a snapshot item"),
    ("  title: Deploy the API\n", "  title: Deploy the API\n  name: x\n", "unknown field 'name' in the snapshot"),
    ("release: v1.0\n", "release: v1.0\nrelese: v1.0\n", "unknown field 'relese'"),
])
def test_record_unknown_keys_are_errors_and_the_record_is_kept(marked: tuple[Path, str], run_cli: RunCli, old: str,
                                                               new: str, message: str) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    assert old in path.read_text()
    text = path.read_text().replace(old, new, 1)
    path.write_text(text)
    added = new[len(old):].rstrip("\n")
    assert_mark_refused(run_cli, project, run_id, text.split("\n").index(added) + 1, message)


def test_record_reports_every_problem_at_once(marked: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = (path.read_text().replace("    status: done\n", "    status: done\n    notes: x\n", 1)
            .replace("  decision: approve\n", "  decision: maybe\n", 1).replace("release: v1.0", "release: ''", 1))
    path.write_text(text)
    result = run_cli("run", "show", run_id, "-C", project)
    assert result.exit_code == 1
    for line, message in ((line_of(text, "launchbook_run:"), "missing 'release'"),
                          (line_of(text, "notes:"), "unknown field 'notes'"),
                          (line_of(text, "decision: maybe"), "invalid decision 'maybe'")):
        assert f"{RECORD}:{line}: {message}" in result.stderr, result.stderr


def test_sealed_section_is_free_form_but_still_strict_yaml(marked: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    free = path.read_text() + "sealed:\n  closed_at: '2026-03-01T11:00:00Z'\n  anything: {nested: [1, 2]}\n"
    path.write_text(free)
    assert run_cli("run", "show", run_id, "-C", project).exit_code == 0
    path.write_text(free + "  closed_at: again\n")
    assert_mark_refused(run_cli, project, run_id, line_of(free, "closed_at:") + 2, "duplicate key 'closed_at'")


# --- run records: aliases, anchors, merge keys, limits ---------------------------------------------------


@pytest.mark.parametrize(("added", "message"), [
    ("report:\n  a: &x {k: 1}\n  b: *x\n", "YAML anchors (&x) are not allowed"),
    ("report:\n  b: *x\n", "YAML aliases (*x) are not allowed"),  # not even an undefined one
    ("report:\n  <<: {k: 1}\n", "YAML merge keys ('<<') are not allowed"),
    ("report:\n  size: " + "9" * 5000 + "\n", "integer longer than 18 digits"),
    ("report:\n  ? [a, b]\n  : 1\n", "a mapping or list cannot be a key"),
    ("report:\n  x: !!python/object:os.system ls\n", "YAML tag !!python/object:os.system is not allowed"),
    ("report:\n  x: " + "[" * 20000 + "]" * 20000 + "\n", "YAML nested deeper than 64 levels"),
])
def test_record_refuses_yaml_tricks_with_their_line(marked: tuple[Path, str], run_cli: RunCli, added: str,
                                                    message: str) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = path.read_text()
    path.write_text(text + added)
    assert_mark_refused(run_cli, project, run_id, text.count("\n") + 2, message)


def test_record_alias_bomb_fails_at_once_in_every_command(marked: tuple[Path, str]) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = path.read_text()
    path.write_text(text + "sealed:\n" + BOMB)
    before = path.read_bytes()
    for args in (("run", "show", run_id), ("run", "mark", run_id, "announce", "--status", "done"), ("build",),
                 ("lint",), ("report", run_id, "-o", "draft.pdf"), ("run", "list")):
        result = cli(project, *args)
        assert result.returncode == 1, (args, result.stderr)
        said = result.stdout + result.stderr
        assert f"{RECORD}:{text.count(chr(10)) + 2}:" in said and "YAML anchors (&a0) are not allowed" in said, args
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == before


# --- front matter ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("front", "line", "message"), [
    ("title: A\nowner: x\ntitle: B\n", 4, "duplicate key 'title' (first on line 2)"),
    ("title: &t A\ndescription: *t\n", 2, "YAML anchors (&t) are not allowed"),
    ("title: A\nnav_order: " + "5" * 5000 + "\n", 3, "integer longer than 18 digits"),
    ("title: A\n{a: 1}: x\n", 3, "a mapping or list cannot be a key"),
    ("title: A\ntags: " + "[" * 20000 + "]" * 20000 + "\n", 3, "YAML nested deeper than 64 levels"),
    ("title: A\nnav_order: x\ntype: book\n", 3, "front matter 'nav_order' must be a whole number"),
])
def test_front_matter_refusals_name_the_line(write_project: Callable[..., Path], run_cli: RunCli, front: str,
                                             line: int, message: str) -> None:
    project = write_project({"content/doc.md": f"---\n{front}---\n- [ ] x\n"})
    for args in (("build", "-C", project), ("inspect", project / "content/doc.md")):
        assert_error(run_cli(*args), "content/doc.md", line, message)
    result = run_cli("lint", "-C", project)
    assert result.exit_code == 1
    assert f"content/doc.md:{line}: LB001 unreadable: {message}" in result.stdout


def test_front_matter_every_bad_value_is_reported(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project({"content/doc.md": "---\nnav_order: x\ntype: book\n---\n- [ ] x\n"})
    result = run_cli("build", "-C", project)
    assert "content/doc.md:2: front matter 'nav_order' must be a whole number" in result.stderr
    assert "content/doc.md:3: front matter 'type' must be 'checklist' or 'page'" in result.stderr


def test_front_matter_unknown_keys_warn_at_their_real_line(write_project: Callable[..., Path], run_cli: RunCli) -> None:
    project = write_project({"content/doc.md": "---\ntitle: A\ndescription: |\n  x\n\"colour\": red\n---\n- [ ] x\n"})
    result = run_cli("lint", "-C", project)
    assert "content/doc.md:5: LB302 unknown-key: unknown front matter key 'colour'" in result.stdout, result.stdout


# --- site.yml --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("site", "line", "message"), [
    ("title: A\ntitle: B\n", 2, "duplicate key 'title' (first on line 1)"),
    ("nav: yes\n", 1, "'nav' must be a list of content paths"),
    ("trust: cert.pem\n", 1, "'trust' must be a list of certificate files (PEM)"),
    ("title: A\nbase_url: ftp://x\n", 2, "'base_url' must start with http:// or https://"),
    ("theme: ../x\n", 1, "'theme' must be a folder name under themes/"),
    ("junit:\n  a.b: migrate\n  c.d: [x]\n", 3, "'junit' must map test names to item IDs"),
    ("title: [A\n", 1, "invalid YAML"),
    ("x: &a 1\ny: *a\n", 1, "YAML anchors (&a) are not allowed"),
    ("title: A\nnav: " + "[" * 20000 + "]" * 20000 + "\n", 2, "YAML nested deeper than 64 levels"),
    ("title: A\n? {a: 1}\n: 2\n", 2, "a mapping or list cannot be a key"),
    ("title: " + "1" * 5000 + "\n", 1, "integer longer than 18 digits"),
])
def test_site_yml_errors_stop_build_and_lint(small_site: Path, run_cli: RunCli, site: str, line: int,
                                            message: str) -> None:
    (small_site / "content/site.yml").write_text(site)
    assert_error(run_cli("build", "-C", small_site), "content/site.yml", line, message)
    result = run_cli("lint", "-C", small_site)
    assert result.exit_code == 1, result.output
    assert f"content/site.yml:{line}: LB002 bad-config: {message}" in result.stdout, result.stdout


def test_lint_reports_a_missing_theme_like_build(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("theme: nothere\n")
    assert run_cli("build", "-C", small_site).exit_code == 1
    result = run_cli("lint", "-C", small_site)
    assert result.exit_code == 1
    assert "content/site.yml: LB002 bad-config: theme 'nothere' not found" in result.stdout, result.stdout


def test_lint_reports_every_site_yml_problem(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("nav: yes\nbase_url: ftp://x\n'colour': red\n")
    result = run_cli("lint", "-C", small_site)
    assert result.exit_code == 1
    assert "content/site.yml:1: LB002" in result.stdout and "content/site.yml:2: LB002" in result.stdout
    assert "content/site.yml:3: LB302 unknown-key: unknown setting 'colour'" in result.stdout, result.stdout


def test_lint_reports_a_broken_run_record(marked: tuple[Path, str], run_cli: RunCli) -> None:
    project, run_id = marked
    path = find_run(project, run_id).path
    text = path.read_text().replace("release: v1.0\n", "release: v1.0\nrelease: v2\n")
    path.write_text(text)
    assert run_cli("build", "-C", project).exit_code == 1
    result = run_cli("lint", "-C", project)
    assert result.exit_code == 1
    assert f"{RECORD}:{line_of(text, 'release:', 2)}: LB003 bad-record: duplicate key 'release'" in result.stdout


def test_site_yml_unknown_setting_warns_at_its_real_line(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("title: A\n\"colour\": red\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0, result.output
    assert "warning: content/site.yml:2: unknown setting 'colour'" in result.stderr, result.stderr


# --- code fences whose info string is only Python whitespace ----------------------------------------------


@pytest.mark.parametrize("char", ["\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\x0b", "\x0c"])
def test_fence_with_a_control_character_info_string_is_plain_code(run_project: Path, run_cli: RunCli,
                                                                  char: str) -> None:
    checklist = run_project / "content/deploy.md"
    checklist.write_text(checklist.read_text() + f"\n```{char}\nrm -rf <b>\n```\n", encoding="utf-8")
    inspected = run_cli("inspect", checklist)
    assert inspected.exit_code == 0, inspected.output
    linted = run_cli("lint", "-C", run_project)
    assert "Traceback" not in linted.output and linted.exit_code in (0, 1)
    assert "IndexError" not in linted.output
    started = run_cli("run", "start", "deploy", "--release", "v1", "-C", run_project)
    assert started.exit_code == 0, started.output
    built = run_cli("build", "-C", run_project)
    assert built.exit_code == 0, built.output
    page = (run_project / "output/deploy.html").read_text(encoding="utf-8")
    assert "<pre><code>rm -rf &lt;b&gt;\n</code></pre>" in page


def test_a_fence_language_pygments_does_not_ship_is_plain_code_whatever_is_installed(
        small_site: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """```env (from a real checklist) is no Pygments lexer; asking Pygments for it scanned every
    installed package for plugin lexers (importing IPython: ~0.5 s a build) and would let a
    plugin change the page. Only Pygments' own lexers highlight; the rest is plain code."""
    from pygments.lexers import get_lexer_by_name

    def no_plugins() -> None:
        raise AssertionError("plugin lexers were looked up")

    # pygments.lexers replaces its module object: patch the globals its functions see.
    monkeypatch.setitem(get_lexer_by_name.__globals__, "find_plugin_lexers", no_plugins)
    page = small_site / "content/guides/style.md"
    page.write_text(page.read_text() + "\n```env\nFOO=<b>\n```\n\n```Python\nx = 1\n```\n", encoding="utf-8")
    built = run_cli("build", "-C", small_site, "--no-cache")
    assert built.exit_code == 0, built.output
    html = (small_site / "output/guides/style.html").read_text(encoding="utf-8")
    assert "<pre><code>FOO=&lt;b&gt;\n</code></pre>" in html or ">FOO=&lt;b&gt;\n</code></pre>" in html
    assert '<code class="language-Python">' in html
