"""README promises, each with a test that fails when the promise is broken.

Every test here was checked by breaking the mechanism by hand (see the report of issue 11):
the item-ID hash, n/a in completion, the outcome rules, HTML escaping in the templates,
autoescape, and the racy-mtime rule of the up-to-date check.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.core.templating import default_theme_dir, make_environment
from generator.model import Checklist
from generator.runs.outcome import Outcome, summarize
from generator.runs.record import Decision, Entry, ItemResult, RunRecord, Signoff, Snapshot, SnapshotItem, Status
from generator.site import incremental
from generator.sources.checklist import parse_document
from tests.helpers import CONTENT, parse_checklist

# ---------------------------------------------------------------------------------------------
# Stable item IDs
# ---------------------------------------------------------------------------------------------

# Real IDs of the demo content (from `launchbook inspect FILE`). Change tickets and run records
# point at these; they must never change. (rel path, line, section path, text, ID)
PINNED = [
    ("launches/planner-app.md", 22, ("Pre-Deployment Requirements", "Backend Infrastructure", "1. WebSocket Sync Server"),
     "Set up Socket.IO server with clustering support", "set-up-socket-io-server-with-fcedcc"),
    ("launches/planner-app.md", 34, ("Pre-Deployment Requirements", "Backend Infrastructure", "1. WebSocket Sync Server"),
     "Set up health check endpoints", "set-up-health-check-endpoints-794155"),
    ("launches/planner-app.md", 62, ("Pre-Deployment Requirements", "Backend Infrastructure", "2. Authentication Service"),
     "Implement refresh token rotation", "implement-refresh-token-rotation-ea3ed8"),
    ("launches/planner-app.md", 96, ("Pre-Deployment Requirements", "Backend Infrastructure", "3. Calendar Sync Service"),
     "Google Cloud Console - Calendar API", "google-cloud-console-calendar-api-602ce4"),
    ("launches/dreamcatcher.md", 17, ("Pre-Deployment", "Infrastructure Setup"),
     "Provision production server (AWS EC2, DigitalOcean, etc.)", "provision-production-server-aws-ec2-digitalocean-b5128b"),
    ("launches/dreamcatcher.md", 21, ("Pre-Deployment", "Infrastructure Setup"),
     "Disable root login via SSH", "disable-root-login-via-ssh-9e3382"),
    ("launches/momentverse.md", 16, ("🚀 Pre-Deployment Setup", "Environment Configuration"),
     "Configure Stripe production keys", "configure-stripe-production-keys-d20515"),
    ("launches/momentverse.md", 18, ("🚀 Pre-Deployment Setup", "Environment Configuration"),
     "Configure monitoring (Sentry, etc.)", "configure-monitoring-sentry-etc-3e66fd"),
    ("platform/go-live-readiness.md", 35, ("🔐 Security",), "SSL certificate obtained", "ssl-certificate-obtained-572e5d"),
    ("platform/go-live-readiness.md", 38, ("🔐 Security",), "HTTP → HTTPS redirect configured",
     "http-https-redirect-configured-18d655"),
    ("platform/go-live-readiness.md", 39, ("🔐 Security",), "Certificate auto-renewal setup (Let's Encrypt)",
     "certificate-auto-renewal-setup-let-s-41d8dd"),
    ("platform/sv-sdk.md", 19, ("Pre-Deployment", "Environment Configuration"),
     "BETTER_AUTH_SECRET generated (min 32 chars random)", "better-auth-secret-generated-min-32-4695ab"),
    ("platform/sv-sdk.md", 21, ("Pre-Deployment", "Environment Configuration"),
     "REDIS_URL points to production Redis", "redis-url-points-to-production-redis-76c43a"),
]


def demo(rel: str) -> Checklist:
    document = parse_document((CONTENT / rel).read_bytes(), f"content/{rel}", rel)
    assert isinstance(document, Checklist)
    return document


def expected_hash(section: tuple[str, ...], text: str) -> str:
    """The README's rule, written out independently: slug of the text + 6 hex of sha256(section path, text)."""
    digest = hashlib.sha256("\x1f".join((*section, text)).encode("utf-8")).hexdigest()[:6]
    return digest


@pytest.mark.parametrize(("rel", "line", "section", "text", "item_id"), PINNED, ids=[p[4] for p in PINNED])
def test_demo_item_ids_are_pinned(rel: str, line: int, section: tuple[str, ...], text: str, item_id: str) -> None:
    items = {item.line: item for item in demo(rel).items}
    item = items[line]
    assert (item.section, item.text) == (section, text)
    assert item.id == item_id
    assert item.id.endswith("-" + expected_hash(section, text))


def test_id_is_slug_plus_hash_of_section_path_and_text() -> None:
    doc = parse_checklist("## Before\n\n### Database\n\n- [ ] Take a backup\n- [ ] Run the migration\n")
    for item in doc.items:
        slug, _, digest = item.id.rpartition("-")
        assert slug == item.text.lower().replace(" ", "-")
        assert len(digest) == 6 and all(c in "0123456789abcdef" for c in digest)
        assert digest == expected_hash(("Before", "Database"), item.text)


def test_same_text_other_section_path_gets_other_hash() -> None:
    doc = parse_checklist("## A\n\n### X\n\n- [ ] Check it\n\n## B\n\n### X\n\n- [ ] Check it\n")
    first, second = doc.items
    assert first.id.startswith("check-it-") and second.id.startswith("check-it-")
    assert first.id != second.id
    assert first.id == "check-it-" + expected_hash(("A", "X"), "Check it")
    assert second.id == "check-it-" + expected_hash(("B", "X"), "Check it")


def test_duplicates_in_one_section_get_dash_2_and_dash_3() -> None:
    doc = parse_checklist("## A\n\n- [ ] Test it\n- [ ] Other\n- [ ] Test it\n- [ ] Test it\n")
    base = "test-it-" + expected_hash(("A",), "Test it")
    assert [i.id for i in doc.items] == [base, "other-" + expected_hash(("A",), "Other"), base + "-2", base + "-3"]


def _ids_by_text(text: str) -> dict[tuple[tuple[str, ...], str, int], str]:
    """(section path, text, occurrence) -> ID."""
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    ids: dict[tuple[tuple[str, ...], str, int], str] = {}
    for item in parse_checklist(text).items:
        n = seen[(item.section, item.text)] = seen.get((item.section, item.text), 0) + 1
        ids[(item.section, item.text, n)] = item.id
    return ids


DOC = """\
## Before

- [ ] Announce the window
- [ ] Freeze merges
- [ ] Take a backup

## During

- [ ] Run the migration
  - [ ] Watch the error rate
- [ ] Smoke test
"""


@pytest.mark.parametrize("variant", [
    pytest.param(DOC.replace("- [ ] Freeze merges\n", ""), id="remove"),
    pytest.param(DOC.replace("- [ ] Freeze merges\n", "- [ ] Freeze merges\n- [ ] Pin TLS 1.3\n"), id="add"),
    pytest.param(DOC.replace("- [ ] Announce the window\n- [ ] Freeze merges\n- [ ] Take a backup\n",
                             "- [ ] Take a backup\n- [ ] Announce the window\n- [ ] Freeze merges\n"), id="reorder"),
    pytest.param(DOC.replace("Freeze merges", "Freeze all merges to main"), id="reword"),
    pytest.param(DOC.replace("- [ ] Announce the window\n", "- [ ] Announce the window\n- [ ] Announce the window\n"),
                 id="add-duplicate-after"),
    pytest.param("- [ ] A new first item\n\n" + DOC, id="add-before-first-section"),
    pytest.param(DOC.replace("- [ ] Smoke test\n", "- [ ] Smoke test\n\n## After\n\n- [ ] Smoke test\n"),
                 id="add-section"),
])
def test_other_items_changing_never_changes_an_id(variant: str) -> None:
    before = _ids_by_text(DOC)
    after = _ids_by_text(variant)
    kept = [key for key in before if key in after]
    assert len(kept) >= 4
    for key in kept:
        assert after[key] == before[key], key


def test_demo_ids_survive_edits_to_other_items() -> None:
    rel = "platform/go-live-readiness.md"
    original = (CONTENT / rel).read_bytes()
    before = {(i.section, i.text): i.id for i in demo(rel).items}
    lines = original.split(b"\n")
    edited = [line for line in lines if b"Default passwords changed" not in line]       # remove
    edited = [line.replace(b"Redis password configured", b"Redis password rotated") for line in edited]  # reword
    edited.insert(20, b"- [ ] A brand new first-level item")                             # add
    doc = parse_document(b"\n".join(edited), f"content/{rel}", rel)
    after = {(i.section, i.text): i.id for i in doc.items}
    kept = [key for key in before if key in after]
    assert len(kept) == len(before) - 2
    assert all(after[key] == before[key] for key in kept)
    pinned = {i.text: i.id for i in doc.items}
    assert pinned["SSL certificate obtained"] == "ssl-certificate-obtained-572e5d"


# ---------------------------------------------------------------------------------------------
# Completion and outcome
# ---------------------------------------------------------------------------------------------

FIVE = Snapshot(
    title="Deploy", source="deploy.md", source_sha256="0" * 64,
    items=tuple(SnapshotItem(key, f"Item {key}", ("S",), 1, key == "o") for key in ("a", "b", "c", "d", "o")),
    signoff_roles=("Lead", "Security"),
)
D, F, N, S, B, O = Status.DONE, Status.FAILED, Status.NA, Status.SKIPPED, Status.BLOCKED, Status.OPEN  # noqa: E741 - a one-letter table of statuses, O reads as OPEN


def run(statuses: dict[str, Status], signoffs: tuple[Signoff, ...] = (), by: str = "Ari") -> RunRecord:
    results = {key: ItemResult(Entry(status, by, "2026-01-01T00:00:00Z", "why" if status.needs_reason else ""))
               for key, status in statuses.items()}
    return RunRecord(id="r1", checklist="deploy", release="1", snapshot=FIVE, started_at="2026-01-01T00:00:00Z",
                     results=results, signoffs=signoffs)


def sign(role: str, name: str = "Lee", decision: Decision = Decision.APPROVE, at: str = "01") -> Signoff:
    return Signoff(role, name, decision, "approved", f"2026-01-01T{at}:00:00Z")


BOTH = (sign("Lead"), sign("Security", "Sam"))


@pytest.mark.parametrize(("statuses", "completion"), [
    # 5 items, 2 n/a, 2 done: done ÷ (items − n/a) = 2/3. N/A as done would give 4/5 = 80.0,
    # n/a kept in the denominator 2/5 = 40.0.
    ({"a": D, "b": D, "c": N, "d": N}, 66.7),
    # 1 done, 1 n/a, 3 open: 1/4 = 25.0 (as done: 40.0, in denominator: 20.0)
    ({"a": D, "b": N}, 25.0),
    # all n/a: nothing applicable is 100 % (as-done also 100, in-denominator 0)
    ({"a": N, "b": N, "c": N, "d": N, "o": N}, 100.0),
    # n/a with failed/skipped/blocked: these are applicable and not done: 1/4
    ({"a": D, "b": F, "c": S, "d": B, "o": N}, 25.0),
    ({}, 0.0),
])
def test_completion_is_done_over_items_minus_na(statuses: dict[str, Status], completion: float) -> None:
    summary = summarize(run(statuses))
    assert summary.completion == completion
    assert summary.counts["done"] == sum(s is D for s in statuses.values())
    assert summary.counts["na"] == sum(s is N for s in statuses.values())
    assert summary.counts["open"] == 5 - len(statuses)
    assert sum(summary.counts.values()) == summary.total == 5 and summary.required == 4


@pytest.mark.parametrize(("statuses", "signoffs", "outcome"), [
    ({"a": D, "b": D, "c": D, "d": D}, BOTH, Outcome.GO),
    ({"a": D, "b": N, "c": N, "d": N}, BOTH, Outcome.GO),                       # n/a counts as finished
    ({"a": D, "b": D, "c": D, "d": D, "o": B}, BOTH, Outcome.GO),               # optional blocked never blocks
    ({"a": D, "b": D, "c": D, "d": D, "o": S}, BOTH, Outcome.GO),
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead"),), Outcome.INCOMPLETE),    # one role missing
    ({"a": D, "b": D, "c": D, "d": D}, (sign("lead"), sign("SECURITY", "Sam")), Outcome.GO),  # roles by casefold
    ({"a": D, "b": D, "c": D}, BOTH, Outcome.INCOMPLETE),                       # one required open
    ({"a": D, "b": D, "c": D, "d": S}, BOTH, Outcome.INCOMPLETE),               # skipped is not done
    ({"a": D, "b": D, "c": D, "d": F}, BOTH, Outcome.NO_GO),
    ({"a": D, "b": D, "c": D, "d": B}, (), Outcome.NO_GO),                      # no-go wins over missing roles
    ({"a": F}, (), Outcome.NO_GO),                                              # no-go wins over open items
    ({"a": D, "b": D, "c": D, "d": D}, (*BOTH, sign("Lead", "Kim", Decision.REJECT, "02")), Outcome.NO_GO),
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead", decision=Decision.REJECT), *BOTH), Outcome.GO),  # superseded
    ({"a": D, "b": D, "c": D, "d": D}, (*BOTH, sign("Lead", decision=Decision.REJECT, at="03")), Outcome.NO_GO),
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead", "LEE", Decision.REJECT), sign("Lead", "lee"),
                                        sign("Security", "Sam")), Outcome.GO),   # same person, any case
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead"), sign("Security", "Sam", Decision.REJECT)), Outcome.NO_GO),
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead"), sign("Lead", "Kim")), Outcome.INCOMPLETE),  # two, one role
    ({"a": D, "b": D, "c": D, "d": D}, (sign("Lead", decision=Decision.REJECT), sign("Lead", "Kim", at="02"),
                                        sign("Security", "Sam")), Outcome.NO_GO),  # Kim cannot overrule Lee
])
def test_outcome_rules(statuses: dict[str, Status], signoffs: tuple[Signoff, ...], outcome: Outcome) -> None:
    assert summarize(run(statuses, signoffs)).outcome is outcome


def test_superseded_signoffs_stay_in_the_record_and_flag_executors() -> None:
    record = run({"a": D, "b": D, "c": D, "d": D}, (sign("Lead", "Ari", Decision.REJECT), sign("Lead", "Ari"),
                                                     sign("Security", "Sam")))
    summary = summarize(record)
    assert summary.outcome is Outcome.GO
    assert len(record.signoffs) == 3
    assert summary.sod_conflicts == ("Ari",)


def test_completion_and_outcome_through_the_cli(started: tuple[Path, str], run_cli: Callable[..., Result]) -> None:
    project, run_id = started
    for item, status in (("announce", "done"), ("freeze", "na"), ("partners", "na")):
        args = ["run", "mark", run_id, item, "--status", status, "--by", "Ari", "-C", project]
        if status == "na":
            args += ["--note", "not this time"]
        result = run_cli(*args)
        assert result.exit_code == 0, result.output
    shown = json.loads(run_cli("run", "show", run_id, "--json", "-C", project).stdout)
    summary = shown.get("summary", shown)
    # 4 items, 2 n/a, 1 done: 1 / (4 - 2) = 50 % (n/a as done: 75 %, n/a in denominator: 25 %)
    assert summary["completion"] == 50.0
    assert summary["outcome"] == "incomplete"


# ---------------------------------------------------------------------------------------------
# HTML escaping and autoescape
# ---------------------------------------------------------------------------------------------

EVIL = "<b id=evil>bold</b>"


def test_environment_autoescapes_html_templates_and_strings() -> None:
    env = make_environment([default_theme_dir()])
    assert env.from_string("{{ x }}").render(x=EVIL) == "&lt;b id=evil&gt;bold&lt;/b&gt;"
    auto = env.autoescape
    for name in ("base.html", "checklist.html", "page.html", "_macros.html", "sitemap.xml"):
        assert (auto(name) if callable(auto) else auto) is True, name


def test_titles_headings_and_toc_are_escaped(write_project: Callable[..., Path],
                                              run_cli: Callable[..., Result]) -> None:
    project = write_project({
        "content/site.yml": f"title: 'Site {EVIL}'\n",
        "content/ops/deploy.md": f"""
            ---
            title: 'Deploy {EVIL}'
            description: 'About {EVIL}'
            owner: 'SRE {EVIL}'
            tags: ['{EVIL}']
            ---
            # Deploy

            ## Step {EVIL}

            - [ ] Item {EVIL}

            ## Second step

            - [ ] Another
        """,
        "content/guides/page.md": f"""
            ---
            title: 'Guide {EVIL}'
            ---
            ## Heading {EVIL}

            Text.
        """,
    })
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    out = project / "output"
    checklist = (out / "ops" / "deploy.html").read_text(encoding="utf-8")
    guide = (out / "guides" / "page.html").read_text(encoding="utf-8")
    home = (out / "index.html").read_text(encoding="utf-8")
    escaped = "&lt;b id=evil&gt;bold&lt;/b&gt;"
    for page in (checklist, guide, home):
        assert "<b id=evil>" not in page
        assert f"Site {escaped}" in page                                   # site title (brand, <title>)
    assert f"<title>Deploy {escaped}" in checklist                          # <title>
    assert f"<h1>Deploy {escaped}</h1>" in checklist                        # page heading
    assert f">Step {escaped}</a></li>" in checklist                          # table of contents
    assert f">Heading {escaped}</a></li>" in guide
    assert f"Guide {escaped}" in home or f"Guide {escaped}" in checklist     # navigation / cards


# ---------------------------------------------------------------------------------------------
# The racy-mtime rule of the up-to-date check
# ---------------------------------------------------------------------------------------------

def _rewrite_keeping_stamp(path: Path, body: bytes, mtime_ns: int | None = None) -> None:
    """Write ``body`` (same size) in place, keeping inode, size and mtime: only the content changes."""
    info = path.stat()
    assert len(body) == info.st_size
    with path.open("r+b") as handle:
        handle.write(body)
    os.utime(path, ns=(info.st_atime_ns, mtime_ns if mtime_ns is not None else info.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (info.st_size, mtime_ns or info.st_mtime_ns,
                                                                info.st_ino)


def test_a_recently_modified_file_is_rehashed_even_with_the_same_stamp(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_bytes(b"aaaa")
    store = tmp_path / "hashes.json"
    hashes = incremental.FileHashes(store)
    assert hashes.of(path) == hashlib.sha256(b"aaaa").hexdigest()
    hashes.save()
    _rewrite_keeping_stamp(path, b"bbbb")
    assert time.time_ns() - path.stat().st_mtime_ns < incremental.RACY_NS
    assert hashes.of(path) == hashlib.sha256(b"bbbb").hexdigest()               # remembered in memory
    _rewrite_keeping_stamp(path, b"cccc")
    assert incremental.FileHashes(store).of(path) == hashlib.sha256(b"cccc").hexdigest()  # remembered on disk


def test_a_settled_file_with_the_same_stamp_is_not_reread(tmp_path: Path) -> None:
    """The counterpart: outside the racy window the stamp is trusted (so the test above is about the window)."""
    path = tmp_path / "doc.md"
    path.write_bytes(b"aaaa")
    old = time.time_ns() - 2 * incremental.RACY_NS
    os.utime(path, ns=(old, old))
    hashes = incremental.FileHashes(None)
    assert hashes.of(path) == hashlib.sha256(b"aaaa").hexdigest()
    _rewrite_keeping_stamp(path, b"bbbb", old)
    assert hashes.of(path) == hashlib.sha256(b"aaaa").hexdigest()


def test_a_build_right_after_a_same_size_edit_is_not_skipped(small_site: Path,
                                                             run_cli: Callable[..., Result]) -> None:
    assert run_cli("build", "-C", small_site).exit_code == 0
    source = small_site / "content" / "ops" / "deploy.md"
    page = small_site / "output" / "ops" / "deploy.html"
    assert "Freeze merges" in page.read_text(encoding="utf-8")
    _rewrite_keeping_stamp(source, source.read_bytes().replace(b"Freeze merges", b"Thawed merges"))
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0, result.output
    assert "Thawed merges" in page.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Quick start: the demo command builds site + signed reports, and its archive verifies
# ---------------------------------------------------------------------------------------------

def test_the_demo_builds_and_its_archive_verifies(tmp_path: Path) -> None:
    """What `./scripts/demo` runs after installing: scripts/build_demo.py, here on a copy of the
    repository's content (a demo that broke once went unnoticed until a clean clone was tried)."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    copy = tmp_path / "clone"
    shutil.copytree(root / "content", copy / "content")
    shutil.copytree(root / "scripts", copy / "scripts")
    done = subprocess.run([sys.executable, str(copy / "scripts/build_demo.py")], cwd=copy, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout.count("Sealed ") == 5, done.stdout
    assert len(list((copy / "output/runs").rglob("*.pdf"))) == 5
    audit = (copy / "output/runs/audit.html").read_text(encoding="utf-8")
    assert "Archive verified: no problems" in audit
    verified = subprocess.run([sys.executable, "-m", "generator", "verify", str(copy / ".launchbook/demo-project"),
                               "--trust", str(copy / ".launchbook/demo-keys/launchbook-signing.pem"), "--json"],
                              capture_output=True, text=True, timeout=600)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["results"][0]["sealed_runs"] == 5
    assert (root / "content/runs").exists() and not (copy / "content/runs/ledger.jsonl").exists()  # sources untouched


DEBIAN_PYTHON = Path("/usr/bin/python3")


def test_both_quick_start_commands_work_on_an_externally_managed_python(tmp_path: Path) -> None:
    """`./scripts/demo` and `./scripts/test` with a stock Debian Python (PEP 668: global pip
    refused) first on PATH: they make and use the project's venv. Run on a copy of the tracked
    files, as a fresh clone; the test command runs one small test file (not this suite again)."""
    import shutil
    import subprocess

    marker = next(DEBIAN_PYTHON.resolve().parent.parent.glob("lib/python3*/EXTERNALLY-MANAGED"), None) \
        if DEBIAN_PYTHON.exists() else None
    if marker is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must have Debian's externally managed /usr/bin/python3")
        pytest.skip("no externally managed /usr/bin/python3 here")
    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    clone = tmp_path / "clone"
    for name in filter(None, tracked.decode().split("\0")):
        source = root / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    refused = subprocess.run([str(DEBIAN_PYTHON), "-m", "pip", "install", "--dry-run", "click"], capture_output=True,
                             text=True)
    assert refused.returncode != 0  # this Python does refuse global installs (or has no pip at all)
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    done = subprocess.run(["./scripts/demo"], cwd=clone, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.count("Sealed ") == 5 and (clone / ".venv/bin/python").exists()
    assert (clone / "output/index.html").is_file() and len(list((clone / "output/runs").rglob("*.pdf"))) == 5
    tested = subprocess.run(["./scripts/test", "-q", "-p", "no:cacheprovider", "tests/test_wording.py"], cwd=clone,
                            env=env, capture_output=True, text=True, timeout=1800)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert re.search(r"\d+ passed", tested.stdout) and (clone / ".venv/bin/pytest").exists()
