"""Run records held as digests during a build: full records only where a page needs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from generator.runs.digest import RunHead, digest_cache_key, load_digest
from generator.runs.record import Snapshot
from generator.runs.store import find_run, record_cache_keys
from generator.sources.cachedir import cache_dir


def _mark(run_cli: Callable[..., Any], project: Path, run_id: str, item: str, status: str, at: str) -> None:
    args = ["run", "mark", run_id, item, "--status", status, "--by", "Ari", "--at", at, "-C", project]
    if status != "done":
        args += ["--note", "did not work"]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output


def test_run_pages_show_full_results_while_lists_hold_digests(started: tuple[Path, str],
                                                               run_cli: Callable[..., Any]) -> None:
    project, run_id = started
    _mark(run_cli, project, run_id, "announce", "done", "2026-03-01T10:01:00Z")
    _mark(run_cli, project, run_id, "migrate", "failed", "2026-03-01T10:02:00Z")
    assert run_cli("build", "-C", project).exit_code == 0
    page = (project / "output" / "runs" / "deploy" / f"{run_id}.html").read_text(encoding="utf-8")
    assert "did not work" in page  # the item's note: only the full record has it
    checklist = (project / "output" / "deploy.html").read_text(encoding="utf-8")
    assert "failed in 1 of the last 1 runs" in checklist  # item history from the digest's failing items

    from generator.site.runs import load_runs

    views = load_runs(project, lambda _: None, cache_dir(project) / "records")
    assert [v.record.id for v in views] == [run_id]
    assert isinstance(views[0].record, RunHead) and not hasattr(views[0].record, "results")
    assert views[0].summary.counts["failed"] == 1


def test_a_digest_with_a_future_time_is_never_cached(started: tuple[Path, str],
                                                     run_cli: Callable[..., Any]) -> None:
    project, run_id = started
    run_file = find_run(project, run_id)
    cache = cache_dir(project) / "records"
    [key] = record_cache_keys([run_file])
    digest_file = cache / digest_cache_key(key)[:2] / digest_cache_key(key)
    load_digest(run_file, cache, key, {})
    assert digest_file.is_file()  # an ordinary record's digest is kept

    data = yaml.safe_load(run_file.path.read_text(encoding="utf-8"))
    data["results"] = {"announce": {"status": "done", "by": "Ari", "at": "2099-01-01T00:00:00Z"}}
    run_file.path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    [key] = record_cache_keys([run_file])
    digest = load_digest(run_file, cache, key, {})
    assert any("dated in the future" in d.message for d in digest.impossible_times)
    future_file = cache / digest_cache_key(key)[:2] / digest_cache_key(key)
    # Whether 2099 is still in the future depends on when the next build runs: never cached.
    assert not future_file.exists()


def test_runs_of_one_checklist_version_share_one_snapshot(started: tuple[Path, str],
                                                          run_cli: Callable[..., Any]) -> None:
    project, first = started
    second = run_cli("run", "start", "deploy", "--release", "v1.1", "--at", "2026-03-02T10:00:00Z",
                     "-C", project).stdout.strip()
    cache = cache_dir(project) / "records"
    files = [find_run(project, first), find_run(project, second)]
    keys = record_cache_keys(files)
    for cached in (False, True):  # made from the records, then loaded from the digest cache
        snapshots: dict[str, Snapshot] = {}
        digests = [load_digest(f, cache, k, snapshots) for f, k in zip(files, keys, strict=True)]
        assert digests[0].head.snapshot is digests[1].head.snapshot, cached
        assert len(digests[0].head.snapshot.items) == 4


def test_fifos_and_links_planted_in_the_record_cache_are_ignored(started: tuple[Path, str],
                                                                 run_cli: Callable[..., Any], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    project, run_id = started
    assert run_cli("build", "-C", project).exit_code == 0
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"not a pickle")
    entries = [p for p in (cache_dir(project) / "records").rglob("*") if p.is_file()]
    assert entries
    for number, entry in enumerate(entries):
        entry.unlink()
        if number % 2:
            entry.symlink_to(outside)
        else:
            os.mkfifo(entry)  # reading it would wait for a writer forever
    (project / "content" / "deploy.md").write_text(
        (project / "content" / "deploy.md").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "generator", "build", "-C", str(project)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert run_id in (project / "output" / "runs" / "index.html").read_text(encoding="utf-8") or \
        (project / "output" / "runs" / "deploy" / f"{run_id}.html").is_file()


def test_a_build_with_a_future_time_is_never_skipped_as_up_to_date(started: tuple[Path, str]) -> None:
    """Whether 2099 is in the future depends on the clock, not on the files: the up-to-date check
    (which only sees the files) must not keep the old verdict."""
    from generator.site.uptodate import build

    project, run_id = started
    run_file = find_run(project, run_id)
    data = yaml.safe_load(run_file.path.read_text(encoding="utf-8"))
    data["results"] = {"announce": {"status": "done", "by": "Ari", "at": "2099-01-01T00:00:00Z"}}
    run_file.path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    first = build(project, None, strict=False, clean=False, cache=True, audit=None)
    assert not first.skipped
    again = build(project, None, strict=False, clean=False, cache=True, audit=None)
    assert not again.skipped  # built again, so a time that is no longer in the future stops being flagged
    data["results"] = {"announce": {"status": "done", "by": "Ari", "at": "2026-03-01T10:01:00Z"}}
    run_file.path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    build(project, None, strict=False, clean=False, cache=True, audit=None)
    assert build(project, None, strict=False, clean=False, cache=True, audit=None).skipped  # an ordinary archive
