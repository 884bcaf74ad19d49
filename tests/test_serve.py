"""`launchbook new` then `launchbook serve`: the live-reload loop a newcomer gets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.helpers import ROOT

RunCli = Callable[..., Result]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class Served:
    def __init__(self, project: Path) -> None:
        self.project = project
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "generator", "serve", "-a", "127.0.0.1:0", "-C",
                                         str(project)], stderr=subprocess.PIPE, text=True, env=env)
        assert self.process.stderr is not None
        self.log: list[str] = []
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if match:
                self.url = match.group(1)
                break
        else:
            raise AssertionError("serve did not start: " + "".join(self.log))
        os.set_blocking(self.process.stderr.fileno(), False)

    def status(self) -> dict[str, object]:
        return json.loads(fetch(self.url + "__launchbook/status")[1])

    def terminal(self) -> str:
        assert self.process.stderr is not None
        try:
            chunk = self.process.stderr.read()
        except TypeError:  # a non-blocking text read with nothing to read yet
            chunk = None
        if chunk:
            self.log.append(chunk)
        return "".join(self.log)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path, run_cli: RunCli) -> Iterator[Served]:
    made = run_cli("new", tmp_path / "site")
    assert made.exit_code == 0, made.output
    server = Served(tmp_path / "site")
    yield server
    server.stop()


def test_new_scaffolds_a_project_that_builds_and_never_overwrites(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "mine"
    (project / "content").mkdir(parents=True)
    (project / "content/index.md").write_text("# My own home\n")
    result = run_cli("new", project, "--json")
    data = json.loads(result.stdout)
    assert "content/index.md" in data["kept"] and "content/index.md" not in data["created"]
    assert (project / "content/index.md").read_text() == "# My own home\n"
    assert {"content/site.yml", "content/checklists/release.md", "themes/custom/README.md"} <= set(data["created"])
    assert any(rel.startswith("content/runs/release/") for rel in data["created"])
    assert "# Navigation order" in (project / "content/site.yml").read_text()  # documented inline
    built = run_cli("build", "-C", project, "--strict", "--json")
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["checklists"] == 1
    assert (project / "output/runs/index.html").is_file()
    assert run_cli("lint", "-C", project).exit_code == 0
    again = json.loads(run_cli("new", project, "--json").stdout)
    assert again["created"] == []


def test_serve_rebuilds_on_change_and_survives_a_broken_file(served: Served) -> None:
    page = served.url + "checklists/release.html"
    status, html = fetch(page)
    assert status == 200 and '<script src="/__launchbook/reload.js"></script></body>' in html
    on_disk = (served.project / "output/checklists/release.html").read_text()
    assert "__launchbook" not in on_disk  # the reload hook is only in what is served
    first = served.status()["generation"]

    checklist = served.project / "content/checklists/release.md"
    checklist.write_text(checklist.read_text().replace("Close the change ticket", "Close the change ticket today"))
    wait_for(lambda: served.status()["generation"] != first)
    assert "Close the change ticket today" in fetch(page)[1]

    broken = served.project / "content/broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\n# Broken\n")
    wait_for(lambda: bool(served.status()["error"]))
    assert str(served.status()["error"]).startswith("content/broken.md:2: invalid YAML front matter")
    assert fetch(page)[0] == 200  # the last good build is still served
    wait_for(lambda: "build failed: content/broken.md:2:" in served.terminal())
    assert served.process.poll() is None

    broken.write_text("# Fixed\n")
    wait_for(lambda: served.status()["error"] == "")
    assert fetch(served.url + "broken.html")[0] == 200


@pytest.mark.browser
def test_open_pages_reload_and_show_build_errors(served: Served, browser: Any) -> None:
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(served.url + "checklists/release.html")
        tab.wait_for_selector("html[data-launchbook-live]", state="attached")
        checklist = served.project / "content/checklists/release.md"
        checklist.write_text(checklist.read_text().replace("Smoke tests pass", "Smoke tests all pass"))
        tab.wait_for_selector("text=Smoke tests all pass", timeout=20000)  # reloaded by itself

        broken = served.project / "content/broken.md"
        broken.write_text("---\ntitle: [unclosed\n---\n")
        overlay = tab.wait_for_selector("#launchbook-build-error", timeout=20000)
        assert "content/broken.md:2: invalid YAML front matter" in overlay.text_content()
        broken.unlink()
        tab.wait_for_selector("#launchbook-build-error", state="detached", timeout=20000)
    finally:
        context.close()


def test_editor_temp_files_are_not_changes() -> None:
    from generator.site.relevance import editor_temp

    for name in (".release.md.swp", "release.md~", "#release.md#", ".#release.md", "4913", "x.tmp",
                 ".20260701-0800-v1.yml.lock"):
        assert editor_temp(name), name
    for name in ("release.md", "site.yml", "base.html", "2026-plan.md", "data.lock"):  # a user's .lock is published
        assert not editor_temp(name), name


def test_a_rebuild_pauses_the_collector_and_restores_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve keeps a large state between builds; a rebuild runs with the cyclic collector paused
    (each full collection would cost ~0.1 s at 10,000 pages) and collects once afterwards:
    after any rebuild, good or failed, the collector is running again."""
    import gc

    from generator.core import files
    from generator.core.errors import BuildError
    from generator.site.serve import LiveServer

    monkeypatch.setattr(files, "_MEMORY", None)  # a LiveServer keeps cache entries for the process: not after this test

    seen: list[bool] = []

    def good() -> None:
        seen.append(gc.isenabled())

    def bad() -> None:
        seen.append(gc.isenabled())
        raise BuildError("broken")

    for build in (good, bad):
        server = LiveServer(tmp_path, tmp_path / "output", build, port=0, report=lambda _: None)
        try:
            server.rebuild()
        finally:
            server.server.server_close()
        assert gc.isenabled()
    assert seen == [False, False]


def test_cache_files_for_the_next_process_are_written_after_the_pages_are_served(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under serve, the caches a later command reads (hash memo, checklist index, search join)
    wait until the rebuilt site is published; a one-shot build writes them at once."""
    from generator.core import files
    from generator.site.serve import LiveServer

    cache = tmp_path / "cache.json"
    generations: list[int] = []
    written_during_build: list[bool] = []

    def build() -> None:
        cache.unlink(missing_ok=True)
        files.store_cache_later(cache, lambda: generations.append(server.state.generation) or b"{}")
        written_during_build.append(cache.exists())

    server = LiveServer(tmp_path, tmp_path / "output", build, port=0, report=lambda _: None)
    try:
        server.rebuild()
        server.rebuild()
    finally:
        server.server.server_close()
    assert generations == [1, 2] and written_during_build == [False, False] and files.read_cache_bytes(cache) == b"{}"

    monkeypatch.setattr(files, "_LATER", None)
    cache.unlink()
    files.store_cache_later(cache, lambda: b"[]")
    assert files.read_cache_bytes(cache) == b"[]"


def test_serve_warms_up_without_rewriting_an_up_to_date_site(tmp_path: Path, run_cli: RunCli) -> None:
    """Once watching, serve runs every stage once (so the first edit finds the site in memory):
    on a site already built, that rewrites no file of the output."""
    assert run_cli("new", tmp_path / "site").exit_code == 0
    project = tmp_path / "site"
    assert run_cli("build", "-C", project).exit_code == 0

    manifest = project / "output/.launchbook-manifest.json"

    def files() -> dict[str, tuple[int, int]]:
        return {p.relative_to(project).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
                for p in sorted((project / "output").rglob("*")) if p.is_file() and p != manifest}

    before, recorded = files(), manifest.read_bytes()
    time.sleep(0.05)
    server = Served(project)
    try:
        wait_for(lambda: "built in" in server.terminal())  # the warm-up went through every stage
        assert files() == before and manifest.read_bytes() == recorded  # (the manifest is written by every build)
    finally:
        server.stop()


_LINK = re.compile(r'\s(?:href|src)="([^"]*)"')


@pytest.mark.parametrize("base_url", ["", "https://runbooks.example/docs/"])
def test_the_404_page_keeps_its_styles_and_links_at_any_depth(tmp_path: Path, run_cli: RunCli, base_url: str) -> None:
    """A missing page deep in the site is answered with the site's 404 page, whose links start
    at the site's root (relative ones would point into the missing folder); with a base URL,
    at the preview's root too, never at the published site."""
    assert run_cli("new", tmp_path / "site").exit_code == 0
    settings = tmp_path / "site/content/site.yml"
    settings.write_text(settings.read_text().replace('base_url: ""', f"base_url: {base_url or chr(34) * 2}"))
    assert base_url in settings.read_text()
    served = Served(tmp_path / "site")
    try:
        _check_missing_pages(served)
    finally:
        served.stop()


def _check_missing_pages(served: Served) -> None:
    wait_for(lambda: fetch(served.url)[0] == 200)
    for path in ("missing.html", "deep/er/missing.html", "deep/"):
        status, page = fetch(served.url + path)
        assert status == 404 and "Page not found" in page
        links = _LINK.findall(page)
        assert "/assets/launchbook.css" in links and 'data-root="/"' in page
        assert all(link.startswith(("/", "#")) for link in links), [link for link in links if link[:1] not in "/#"]
        for link in (link for link in links if link.startswith("/assets/")):
            with urllib.request.urlopen(served.url + link[1:], timeout=10) as response:
                assert response.status == 200, link
