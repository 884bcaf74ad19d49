"""Attacks on where launchbook writes: the output swap, -o paths, killed writers (issue 11).

Each refusal ends in one ``Error: path: …`` line, exit 1, with nothing written, deleted or
lost; each crash is repaired by the next command.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from generator.core.errors import BuildError
from generator.site import swap
from generator.site.build import build_site
from generator.site.writer import OutputWriter
from tests.helpers import ROOT, RUN_SITE

RunCli = Callable[..., Result]


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: file contents hashed, folders, links and FIFOs by kind."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            found[rel] = "link:" + os.readlink(path)
        elif stat.S_ISREG(mode):
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir" if stat.S_ISDIR(mode) else f"special:{stat.S_IFMT(mode)}"
    return found


def leftovers(folder: Path) -> list[str]:
    """Staging, retired outputs and journals a swap may leave beside or inside a folder."""
    return sorted(p.name for p in folder.iterdir()
                  if ".building-" in p.name or ".old-" in p.name or p.name.endswith(".swap.json"))


def _default_signals() -> None:
    """In the child: the default action for the signals the tests send. Started under ``nohup``
    (or by a runner that ignores SIGHUP), a child inherits "ignore", and launchbook rightly leaves
    an ignored signal ignored: the test would then see the copy finish (exit 0)."""
    for number in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP, signal.SIGINT, signal.SIGTERM})  # nor blocked


def cli_process(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_signals)


def touch_content(project: Path) -> None:
    """Change a source, so the next build is not skipped as up to date."""
    page = project / "content/guides/style.md"
    page.write_text(page.read_text() + f"\nEdited {time.time_ns()}.\n")


# --- the output swap never loses a user's entry -------------------------------------------------


def test_second_clean_keeps_both_copies_aside(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    assert run_cli("build", "-C", small_site).exit_code == 0
    (out / "CNAME").write_text("first\n")
    assert run_cli("build", "-C", small_site, "--clean").exit_code == 0
    (out / "CNAME").write_text("second\n")
    result = run_cli("build", "-C", small_site, "--clean")
    assert result.exit_code == 0, result.output
    assert (small_site / "output.kept/CNAME").read_text() == "first\n"
    assert (small_site / "output.kept.2/CNAME").read_text() == "second\n"
    assert f"kept your file: {small_site / 'output.kept.2/CNAME'}" in result.stderr
    assert leftovers(small_site) == []


def test_user_folder_where_a_page_goes_is_refused_before_anything_moves(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    assert run_cli("build", "-C", small_site).exit_code == 0
    (out / "index.html").unlink()
    (out / "index.html").mkdir()
    (out / "index.html/draft.txt").write_text("mine")
    (out / "notes.txt").write_text("also mine")
    before = snapshot(out)
    touch_content(small_site)
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {out / 'index.html'}: your folder is where this build writes the file "
                                    "index.html")
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(out) == before
    assert leftovers(small_site) == []
    assert run_cli("build", "-C", small_site, "--clean").exit_code == 0  # the way out the message names
    assert (small_site / "output.kept/index.html/draft.txt").read_text() == "mine"
    assert (out / "index.html").is_file()


def test_empty_folders_fifos_and_sockets_of_the_user_are_kept(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    assert run_cli("build", "-C", small_site).exit_code == 0
    (out / "uploads").mkdir()
    (out / "ops/empty").mkdir()
    os.mkfifo(out / "pipe")
    server = socket.socket(socket.AF_UNIX)
    short = Path(tempfile.mkdtemp(dir="/tmp"))  # AF_UNIX paths are short; link the socket in
    try:
        server.bind(str(short / "s"))
        os.link(short / "s", out / "sock")
    except OSError:
        pass
    finally:
        server.close()
    mine = {rel: kind for rel, kind in snapshot(out).items() if rel in {"uploads", "ops/empty", "pipe", "sock"}}
    touch_content(small_site)
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert {rel: kind for rel, kind in snapshot(out).items() if rel in mine} == mine
    assert run_cli("build", "-C", small_site, "--clean").exit_code == 0
    kept = snapshot(small_site / "output.kept")
    assert {rel: kind for rel, kind in kept.items() if rel in mine} == mine
    assert not any((out / rel).exists() or (out / rel).is_symlink() for rel in mine)


def test_swap_moves_entries_one_by_one_when_the_folder_cannot_be_renamed(
        small_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = small_site / "output"
    build_site(small_site)
    (out / "CNAME").write_text("mine\n")
    real_rename = os.rename
    refused: list[str] = []

    def busy_rename(source: Any, target: Any) -> None:
        if Path(source) == out:  # a mount point: the folder itself cannot be renamed
            refused.append(str(source))
            raise OSError(errno.EBUSY, "Device or resource busy", str(source))
        real_rename(source, target)

    monkeypatch.setattr(swap.os, "rename", busy_rename)
    inode = out.stat().st_ino
    touch_content(small_site)
    build_site(small_site, cache=False)  # no cache: the whole site is staged and swapped
    assert refused == [str(out)]
    assert out.stat().st_ino == inode  # the same folder, its contents swapped
    assert (out / "CNAME").read_text() == "mine\n"
    assert "Edited" in (out / "guides/style.html").read_text()
    assert leftovers(small_site) == [] and leftovers(out) == []


def test_output_on_a_real_mount_point(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    out.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(out)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        assert run_cli("build", "-C", small_site).exit_code == 0
        (out / "CNAME").write_text("mine\n")
        unchanged = (out / "ops/deploy.html").stat().st_ino
        touch_content(small_site)
        result = run_cli("build", "-C", small_site)
        assert result.exit_code == 0, result.output
        assert (out / "ops/deploy.html").stat().st_ino == unchanged  # published in place: only changes touched
        assert (out / "CNAME").read_text() == "mine\n" and "Edited" in (out / "guides/style.html").read_text()
        assert run_cli("build", "-C", small_site, "--clean").exit_code == 0
        assert (out / ".launchbook.kept/CNAME").read_text() == "mine\n" and not (out / "CNAME").exists()
        assert leftovers(out) == [] and leftovers(small_site) == []
        assert not any(p.name.startswith(".launchbook.") and p.name != ".launchbook.kept" for p in out.iterdir())
    finally:
        subprocess.run(["umount", str(out)], check=True)


def test_build_killed_between_the_renames_is_completed_by_the_next_build(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    assert run_cli("build", "-C", small_site).exit_code == 0
    (out / "CNAME").write_text("mine\n")
    touch_content(small_site)
    killed = cli_process("build", "-C", small_site, "--no-cache", env={swap.KILL_HOOK: "between-renames"})
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()  # the state the kill left: output gone, the user's file in staging
    assert leftovers(small_site)
    again = cli_process("build", "-C", small_site)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert (out / "CNAME").read_text() == "mine\n"
    assert "Edited" in (out / "guides/style.html").read_text()
    assert leftovers(small_site) == []


def test_dead_builds_staging_is_removed_and_a_live_ones_kept(
        small_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(small_site)
    dead = small_site / ".output.building-dead"
    (dead / "assets").mkdir(parents=True)
    (dead / "assets/site.css").write_text("half a build")
    retired = small_site / ".output.old-dead"
    (retired / "site").mkdir(parents=True)
    (retired / "site/late.txt").write_text("added while a build ran")
    live = small_site / ".output.building-live"
    live.mkdir()
    holder = os.open(live, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build marks its staging
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (scratch / "launchbook-build-dead/parsed").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    try:
        touch_content(small_site)
        build_site(small_site, cache=False)
        assert not dead.exists() and not retired.exists()
        assert (small_site / "output.kept/late.txt").read_text() == "added while a build ran"
        assert live.is_dir()
        assert list(scratch.iterdir()) == []
    finally:
        os.close(holder)


WORKERS = """
import os, sys, time
from generator.parallel import map_chunks

def work(shared, chunk):
    with open(sys.argv[1], "a") as out:
        out.write(f"{os.getpid()}\\n")
    time.sleep(60)
    return chunk

map_chunks(work, list(range(64)), parallel_from=1)
"""


def test_forked_workers_die_with_their_parent(tmp_path: Path) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: map_chunks runs in-process")
    pids = tmp_path / "pids"
    pids.touch()
    parent = subprocess.Popen([sys.executable, "-c", WORKERS, str(pids)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while len(pids.read_text().split()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p) for p in pids.read_text().split()]
    assert len(workers) >= 2
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()
                 and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert alive == []


# --- the writer's refusals and a failed render --------------------------------------------------


@pytest.mark.parametrize("rel", ["../x.html", "a/../../x.html", "/etc/x.html", ""])
def test_writer_refuses_paths_outside_its_root(tmp_path: Path, rel: str) -> None:
    root = tmp_path / "staging"
    root.mkdir()
    with pytest.raises(BuildError, match="refusing to write outside the output folder"):
        OutputWriter(root).write(rel, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staging"] and not any(root.iterdir())


def test_writer_refuses_a_second_write_of_the_same_file(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path)
    writer.write("a/index.html", "first")
    with pytest.raises(BuildError, match="two sources want to write the same output file: a/index.html"):
        writer.write("a/./index.html", "second")
    with pytest.raises(BuildError, match="two sources want to write the same output file: a/index.html"):
        writer.claim("a/index.html")
    assert (tmp_path / "a/index.html").read_text() == "first"


def test_render_failure_leaves_old_output_and_no_staging(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    assert run_cli("build", "-C", small_site).exit_code == 0
    (out / "CNAME").write_text("mine\n")
    before = snapshot(out)
    (small_site / "content/site.yml").write_text("title: Ops\ntheme: raising\n")
    templates = small_site / "themes/raising/templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text('{% extends "base.html" %}{% block content %}{{ 1 // 0 }}{% endblock %}')
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "page.html:1: template page.html failed: ZeroDivisionError" \
        in result.stderr and "Traceback" not in result.output
    assert snapshot(out) == before
    assert leftovers(small_site) == []


# --- -o paths: never over a file without --force, never into the sources -------------------------


def test_build_output_on_or_around_the_sources_is_refused(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "themes/mine/templates").mkdir(parents=True)
    before = snapshot(small_site)
    for target, message in [
        ("content", "overlaps the content folder"), ("content/ops", "overlaps the content folder"),
        (".", "overlaps the content folder"), ("..", "overlaps the content folder"),
        ("themes", "inside the project's themes/ folder"), ("themes/mine/out", "inside the project's themes/ folder"),
    ]:
        result = run_cli("build", "-C", small_site, "-o", small_site / target)
        assert result.exit_code == 1, target
        assert result.stderr.startswith(f"Error: {(small_site / target).resolve()}: "), result.stderr
        assert message in result.stderr, (target, result.stderr)
    assert snapshot(small_site) == before


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> tuple[Path, str]:
    """A project with one sealed run (and its ledger entry)."""
    from generator.archive.seal import close_run
    from generator.runs.operations import add_signoff, mark_item
    from generator.runs.start import start_run

    project = tmp_path_factory.mktemp("sealed") / "project"
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))
    _, record = start_run(project, "deploy", release="v1", operator="Olga", at="2026-07-01T08:00:00Z")
    for item in ("announce", "freeze", "migrate", "partners"):
        mark_item(project, record.id, item, status="done", by="Ari", at="2026-07-01T08:10:00Z")
    for role, name in (("Release Manager", "Rhea"), ("Security", "Sam")):
        add_signoff(project, record.id, role=role, name=name, decision="approve", at="2026-07-01T08:20:00Z")
    close_run(project, record.id, key=str(signing_key.pkcs12), at="2026-07-01T08:30:00Z")
    return project, record.id


def test_o_never_writes_into_content(sealed: tuple[Path, str], run_cli: RunCli, signing_key: Any) -> None:
    project, run_id = sealed
    ledger = next(project.glob("content/runs/**/ledger.jsonl"), None) or next(project.glob("content/**/*.jsonl"))
    source = project / "content/deploy.md"
    before = snapshot(project / "content")
    attempts = [
        (["report", run_id, "-o", source], source),
        (["report", run_id, "-o", project / "content/new-draft.pdf"], project / "content/new-draft.pdf"),
        (["bundle", run_id, "-o", ledger], ledger),
        (["checkpoint", "--key", signing_key.pkcs12, "-o", project / "content/cp.json"], project / "content/cp.json"),
    ]
    for args, target in attempts:
        for force in ([], ["--force"]):
            result = run_cli(*args, *force, "-C", project)
            assert result.exit_code == 1, (args, result.output)
            assert result.stderr.startswith(f"Error: {target.resolve()}: output file is inside the project's "
                                            "content/ folder"), result.stderr
    assert snapshot(project / "content") == before  # no checkpoint stored either


def test_o_never_replaces_a_file_without_force(sealed: tuple[Path, str], run_cli: RunCli, tmp_path: Path,
                                               signing_key: Any) -> None:
    project, run_id = sealed
    for command in (["checkpoint", "--key", signing_key.pkcs12], ["report", run_id], ["bundle", run_id]):
        target = tmp_path / f"{command[0]}.out"
        target.write_text("precious")
        result = run_cli(*command, "-o", target, "-C", project)
        assert result.exit_code == 1
        assert result.stderr == f"Error: {target}: output file exists; pass --force to replace it\n"
        assert target.read_text() == "precious"
        forced = run_cli(*command, "-o", target, "--force", "-C", project)
        assert forced.exit_code == 0, forced.output
        assert target.read_bytes() != b"precious"


# --- killed writers leave no temp files behind -----------------------------------------------------


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp")) if folder.is_dir() else []


_PROCESSES: list[subprocess.Popen[bytes]] = []


def _wait_stopped(pid: int) -> None:
    """Until the process is stopped (state T in /proc), at most 5 s."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return
        if state in ("T", "t"):
            return
        time.sleep(0.001)


def _mark_big_file(project: Path, run_id: str, tmp_path: Path, sig: int, expected: int | None = -1) -> Path:
    """Start ``run mark`` with a big evidence file; send ``sig`` while the copy is under way;
    wait for the exit code ``expected`` (-1: the one ``sig`` gives; None: do not wait).
    Returns the run's evidence folder."""
    big = tmp_path / "capture.bin"
    with open(big, "wb") as out:
        block = os.urandom(1 << 20)
        for _ in range(160):
            out.write(block)
    process = cli_process("run", "mark", run_id, "announce", "--status", "done", "--evidence", big, "-C", project)
    _PROCESSES.append(process)
    evidence = None
    sent = False
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        evidence = next(project.glob("content/runs/**/evidence"), None)
        if evidence is not None and _temp_files(evidence):
            if sig in (signal.SIGSTOP, signal.SIGKILL):
                process.send_signal(sig)
                sent = True
                break
            # Freeze the writer, make sure it is still mid-copy (a loaded machine may let the copy
            # finish between the look and the signal), then signal it and let it go on.
            process.send_signal(signal.SIGSTOP)
            _wait_stopped(process.pid)
            if _temp_files(evidence):
                process.send_signal(sig)
                sent = True
            process.send_signal(signal.SIGCONT)
            if sent:
                break
        time.sleep(0.002)
    assert evidence is not None and sent, "the copy finished before the signal was sent"
    if expected is None:
        return evidence
    _, err = process.communicate(timeout=60)
    if expected == -1:
        expected = {signal.SIGKILL: -sig, signal.SIGINT: 1}.get(sig, 128 + sig)  # Ctrl-C: click's "Aborted!"
    masks = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(("SigBlk", "SigIgn"))]
    assert process.returncode == expected, (err.decode(errors="replace")[-2000:], masks)
    return evidence


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_mid_copy_removes_the_temp_file(started: tuple[Path, str], tmp_path: Path, sig: int) -> None:
    project, run_id = started
    evidence = _mark_big_file(project, run_id, tmp_path, sig)
    assert _temp_files(evidence) == []
    assert not any(evidence.iterdir())


def test_sigkill_mid_copy_temp_file_is_removed_by_the_next_write(started: tuple[Path, str], tmp_path: Path) -> None:
    project, run_id = started
    evidence = _mark_big_file(project, run_id, tmp_path, signal.SIGKILL)
    stale = _temp_files(evidence)
    assert len(stale) == 1 and f".{os.getpid()}." not in stale[0].name
    live = evidence / f".other.bin.{os.getpid()}.abcdefgh.tmp"  # a running writer's temp file
    live.write_text("in progress")
    holder = os.open(live, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        small = tmp_path / "small.txt"
        small.write_text("ok\n")
        process = cli_process("run", "mark", run_id, "freeze", "--status", "done", "--evidence", small, "-C", project)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        assert _temp_files(evidence) == [live]
        assert (evidence / "small.txt").read_text() == "ok\n"
    finally:
        os.close(holder)


def test_a_running_writers_temp_file_is_left_alone(started: tuple[Path, str], tmp_path: Path) -> None:
    from generator.core.files import atomic_write

    project, run_id = started
    evidence = _mark_big_file(project, run_id, tmp_path, signal.SIGSTOP, expected=None)
    try:
        paused = _temp_files(evidence)
        assert len(paused) == 1
        atomic_write(evidence / "other.txt", b"written while the copy is paused\n")  # sweeps this folder
        assert _temp_files(evidence) == paused
    finally:
        os.kill(_PROCESSES[-1].pid, signal.SIGCONT)
    _, err = _PROCESSES[-1].communicate(timeout=120)
    assert _PROCESSES[-1].returncode == 0, err.decode()
    assert _temp_files(evidence) == [] and (evidence / "capture.bin").stat().st_size == 160 << 20


def test_a_cache_file_already_holding_the_bytes_is_not_rewritten(tmp_path: Path) -> None:
    """Every build rewrote the checklist index and the hash memo even when nothing changed
    (10,000 entries each); a cache write of identical bytes now leaves the file alone, and a
    link at the path is still replaced, never followed."""
    from generator.core.files import read_cache_bytes, store_cache_bytes

    cache = tmp_path / "cache.json"
    store_cache_bytes(cache, b"same")
    before = cache.stat()
    store_cache_bytes(cache, b"same")
    assert cache.stat().st_ino == before.st_ino and cache.stat().st_mtime_ns == before.st_mtime_ns
    store_cache_bytes(cache, b"other")
    assert read_cache_bytes(cache) == b"other" and cache.stat().st_ino != before.st_ino

    target = tmp_path / "elsewhere"
    target.write_bytes(b"same")
    linked = tmp_path / "linked.json"
    linked.symlink_to(target)
    store_cache_bytes(linked, b"same")
    assert not linked.is_symlink() and target.read_bytes() == b"same"
