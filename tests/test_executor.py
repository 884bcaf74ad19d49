"""The executor interface: the same build and the same verify on the local fork pool and on a
Dask cluster (a ``LocalCluster`` of two worker processes, started once for the module), and
the errors a user gets for a bad ``--executor``, a missing extra or an unreachable scheduler."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from generator.archive.seal import close_run
from generator.parallel import cluster, map_chunks, parse_executor, use_executor
from generator.runs.operations import add_signoff, mark_item
from generator.runs.start import start_run
from tests.helpers import ROOT, RUN_SITE
from tests.test_build import tree_digest

RunCli = Callable[..., Result]

CHECKLISTS = {
    f"content/team-{n % 2}/check-{n}.md": f"# Check {n}\n\n## Steps\n\n- [ ] step {n} {{#s{n}}}\n- [x] done {n}\n"
    for n in range(8)
}


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A Dask cluster on this machine: two worker processes of one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield "dask://" + local.scheduler_address.removeprefix("tcp://")


@pytest.fixture(scope="module")
def sealed_project(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> Path:
    """Ten checklists, two sealed runs (one report tampered with) and one open run."""
    project = tmp_path_factory.mktemp("executor") / "project"
    for rel, body in {**RUN_SITE, **CHECKLISTS}.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(body).lstrip("\n"))
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    runs = []
    for day, close in ((1, True), (2, True), (3, False)):
        _, record = start_run(project, "deploy", release=f"v{day}", operator="Olga", at=f"2026-07-0{day}T08:00:00Z")
        for item in ("announce", "freeze", "migrate", "partners"):
            mark_item(project, record.id, item, status="done", by="Ari", at=f"2026-07-0{day}T08:10:00Z")
        for role, name in (("Release Manager", "Rhea"), ("Security", "Sam")):
            add_signoff(project, record.id, role=role, name=name, decision="approve", at=f"2026-07-0{day}T08:20:00Z")
        if close:
            close_run(project, record.id, key=str(signing_key.pkcs12), at=f"2026-07-0{day}T08:30:00Z")
        runs.append(record.id)
    pdf = project / f"content/runs/deploy/{runs[1]}.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"%\n")
    return project


@pytest.fixture
def every_map_parallel(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every map leaves the process even for this small project; returns the names of the
    functions a Dask executor was given, in order."""
    from generator.archive import reportcheck
    from generator.site import pages, runpages
    from generator.site import runs as site_runs
    from generator.sources import cache

    for module, name in ((cache, "PARALLEL_FROM"), (pages, "PARALLEL_PAGES_FROM"), (runpages, "PARALLEL_RUNS_FROM"),
                         (site_runs, "PARALLEL_RECORDS_FROM"), (reportcheck, "PARALLEL_FROM")):
        monkeypatch.setattr(module, name, 1)
    names: list[str] = []
    run = cluster.DaskExecutor.run

    def spy(self: cluster.DaskExecutor, function: Any, *args: Any) -> Any:
        inner = getattr(function, "func", function)
        names.append(f"{inner.__module__}.{inner.__name__}")
        return run(self, function, *args)

    monkeypatch.setattr(cluster.DaskExecutor, "run", spy)
    return names


def test_build_on_a_dask_cluster_is_byte_identical_to_local(sealed_project: Path, dask_address: str,
                                                             every_map_parallel: list[str], run_cli: RunCli,
                                                             tmp_path: Path) -> None:
    local = run_cli("build", "-C", sealed_project, "-o", tmp_path / "local", "--no-cache")
    assert local.exit_code == 0, local.output
    assert every_map_parallel == []
    dask = run_cli("build", "-C", sealed_project, "-o", tmp_path / "dask", "--no-cache", "--executor", dask_address)
    assert dask.exit_code == 0, dask.output
    assert every_map_parallel == [
        "generator.sources.cache._index_chunk", "generator.site.runs._digest_into_cache",
        "generator.archive.reportcheck._report_chunk", "generator.site.pages._render_chunk",
        "generator.site.runpages._render_chunk",
    ]
    assert tree_digest(tmp_path / "dask") == tree_digest(tmp_path / "local")
    assert len(tree_digest(tmp_path / "local")) > 20


def test_verify_on_a_dask_cluster_finds_the_same(sealed_project: Path, dask_address: str,
                                                 every_map_parallel: list[str], run_cli: RunCli,
                                                 signing_key: Any) -> None:
    args = ("verify", "-C", sealed_project, "--trust", signing_key.certificate, "--json")
    local = run_cli(*args)
    dask = run_cli(*args, "--executor", dask_address)
    assert every_map_parallel == ["generator.archive.reportcheck._run_chunk"]
    assert (local.exit_code, dask.exit_code) == (1, 1)  # the tampered report
    assert _unclocked(json.loads(dask.stdout)) == _unclocked(json.loads(local.stdout))
    assert "bytes or an incremental update were added after the last signature" in local.stdout


def _unclocked(found: Any) -> Any:
    """A verify verdict less the moment each certificate was checked ("now" for a report with
    no timestamp: two runs seconds apart differ there, and only there)."""
    if isinstance(found, dict):
        return {key: _unclocked(value) for key, value in found.items() if key != "certificate_checked_at"}
    if isinstance(found, list):
        return [_unclocked(value) for value in found]
    return found


def _scale(factor: int, chunk: list[int]) -> list[int]:
    return [factor * n for n in chunk]


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_results_come_back_in_item_order_with_progress(executor: str, request: pytest.FixtureRequest) -> None:
    spec = request.getfixturevalue("dask_address") if executor == "dask" else "local"
    seen: list[tuple[str, int, int]] = []
    with use_executor(spec):
        scaled = map_chunks(_scale, range(100), shared=3, parallel_from=1,
                            progress=lambda label, done, total: seen.append((label, done, total)), label="Scaling")
    assert scaled == [3 * n for n in range(100)]
    assert seen[-1] == ("Scaling", 100, 100) and len(seen) > 1
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)


@pytest.mark.parametrize("value", ["spark://h:1", "dask://", "dask://scheduler", "dask://h:0", "dask://h:99999",
                                   "tcp://h:8786", "dask:/h:1", ""])
def test_a_bad_executor_is_a_usage_error_naming_the_valid_forms(value: str, small_site: Path,
                                                               run_cli: RunCli) -> None:
    for command in ("build", "verify"):
        result = run_cli(command, "-C", small_site, "--executor", value)
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--executor'" in result.stderr
        assert ("'local', 'dask://HOST:PORT' or 'dask://local'" in result.stderr
                or "out of range" in result.stderr)


def test_dask_without_the_extra_says_how_to_install_it(small_site: Path, run_cli: RunCli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    result = run_cli("build", "-C", small_site, "--executor", "dask://scheduler:8786")
    assert result.exit_code == 1
    assert result.stderr == ("Error: the dask executor needs the optional Dask extra: "
                             "pip install 'launchbook[dask]'\n")
    assert not (small_site / "output").exists()


UNREACHABLE = """
import sys
from generator.cli import cli
from generator.parallel import cluster

cluster.CONNECT_TIMEOUT = 1.0
cli(["build", "-C", sys.argv[1], "--executor", sys.argv[2]])
"""


@pytest.mark.parametrize("listening", [False, True], ids=["nothing-there", "silent-server"])
def test_an_unreachable_scheduler_is_a_clear_error(listening: bool, small_site: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        if listening:
            server.listen()  # connections are accepted by the kernel; nothing ever answers
        else:
            server.close()
        done = subprocess.run([sys.executable, "-c", UNREACHABLE, str(small_site), f"dask://127.0.0.1:{port}"],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"Error: cannot reach the Dask scheduler at dask://127.0.0.1:{port}: ")
    assert "Traceback" not in done.stderr


def test_the_executor_can_come_from_the_environment(small_site: Path, run_cli: RunCli,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUNCHBOOK_EXECUTOR", "hadoop")
    assert run_cli("build", "-C", small_site).exit_code == 2
    monkeypatch.setenv("LAUNCHBOOK_EXECUTOR", "local")
    assert run_cli("build", "-C", small_site).exit_code == 0


@pytest.mark.parametrize(("value", "name"), [("local", "local"), (" dask://local ", "dask://local"),
                                             ("dask://scheduler.example:8786", "dask://scheduler.example:8786"),
                                             ("dask://[::1]:8786", "dask://[::1]:8786")])
def test_the_valid_forms_name_their_executor_without_connecting(value: str, name: str) -> None:
    assert parse_executor(value).name == name


def _collector_running(_shared: None, chunk: list[int]) -> list[bool]:
    import gc

    return [gc.isenabled() for _ in chunk]


def test_a_local_worker_collects_its_own_garbage_when_the_parent_paused_it() -> None:
    """serve pauses the parent's collector during a rebuild; forked render workers must not
    inherit the pause (a worker rendering thousands of pages would only grow)."""
    import gc

    gc.disable()
    try:
        with use_executor("local"):
            running = map_chunks(_collector_running, range(40), parallel_from=1)
    finally:
        gc.enable()
    assert running == [True] * 40
