"""The built demo in real headless Chromium, opened from file:// like an auditor would."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.site.build import build_site
from tests.helpers import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "output"
    build_site(ROOT, out)
    return out


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.requests = []  # every URL the page asked for
    tab.errors = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()


@pytest.fixture(params=["file", "http"])
def home_url(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    """The demo's home page from file:// and from a local HTTP server."""
    if request.param == "file":
        yield (site / "index.html").as_uri()
        return
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def test_search_lands_on_the_item_over_file_and_http(home_url: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(home_url)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type("jwt secret strong")
    page.wait_for_function(
        "(document.querySelector('#search-results [role=option]') || {textContent: ''})"
        ".textContent.includes('JWT_SECRET is random and strong')", timeout=5000)
    first = page.locator("#search-results [role=option]").first
    assert "JWT_SECRET is random and strong" in first.inner_text()
    assert "Go-live readiness with sign-off" in first.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"go-live-readiness\.html#jwt-secret-is-random-and-strong-"), timeout=5000)
    item_id = page.url.split("#", 1)[1]
    target = page.locator(f"li[id='{item_id}']")
    assert target.evaluate("el => el.matches(':target')")
    assert target.is_visible()
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    origin = home_url.rsplit("/", 1)[0]
    assert all(url.startswith(origin) for url in page.requests), page.requests  # no CDN, no fonts
    assert page.errors == []


def test_search_finds_repaired_text_and_says_when_nothing_matches(site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "launches/momentverse.html").as_uri())
    search = page.locator("#search-input")
    search.fill("kubernetes")
    page.locator("#search-results [role=option]").first.wait_for(timeout=5000)
    assert "☸️ Kubernetes (if applicable)" in page.locator("#search-results").inner_text()
    search.fill("zzzz-no-such-thing")
    page.wait_for_function("document.getElementById('search-status').textContent.startsWith('No results')")


def test_dark_mode_toggle_is_remembered(site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "platform/sv-sdk.html").as_uri())
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.locator(".theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_copy_link_and_keyboard_reachable_items(site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((site / "platform/sv-sdk.html").as_uri())
    button = page.locator("li.lb-item .copy-link").first
    button.focus()
    assert button.evaluate("el => getComputedStyle(el).opacity") == "1"
    button.press("Enter")
    page.locator(".toast").wait_for(state="visible", timeout=3000)
    assert page.locator(".toast").inner_text() in ("Link copied", "Link is in the address bar")


def test_phone_layout_hides_and_opens_navigation(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 800})
    tab = context.new_page()
    tab.goto((site / "launches/planner-app.html").as_uri())
    assert not tab.locator("#sidebar").is_visible()
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    tab.locator(".nav-toggle").click()
    assert tab.locator("#sidebar").is_visible()
    assert tab.locator(".nav-toggle").get_attribute("aria-expanded") == "true"
    context.close()


@pytest.fixture(scope="module")
def archive_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 runs of two checklists: enough for three pages in the archive."""
    from generator.runs.operations import mark_item
    from generator.runs.start import start_run

    project = tmp_path_factory.mktemp("archive")
    (project / "content").mkdir()
    (project / "content/deploy.md").write_text("# Deploy\n\n- [ ] Ship {#ship}\n")
    (project / "content/rollback.md").write_text("# Rollback\n\n- [ ] Revert {#revert}\n")
    for n in range(120):
        checklist = "deploy" if n % 2 else "rollback"
        _, record = start_run(project, checklist, release=f"v1.{n}", at=f"2026-01-{1 + n // 10:02d}T{n % 10:02d}:00:00Z")
        if n % 3 == 0:
            mark_item(project, record.id, "ship" if checklist == "deploy" else "revert", status="failed", note="broke")
    out = project / "output"
    build_site(project, out)
    return out


def test_archive_filters_and_pages_from_file_url(archive_site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((archive_site / "runs/index.html").as_uri())
    count = page.locator("#run-count")
    page.wait_for_function("document.getElementById('run-count').textContent.startsWith('120 runs match')")
    assert count.inner_text() == "120 runs match; page 1 of 3."
    assert page.locator("#run-table tbody tr").count() == 50
    page.locator(".pager [data-page=next]").click()
    assert count.inner_text() == "120 runs match; page 2 of 3."
    assert "page=2" in page.url
    page.select_option("select[name=checklist]", "deploy")
    page.select_option("select[name=outcome]", "no-go")
    assert count.inner_text() == "20 runs match."
    rows = page.locator("#run-table tbody tr")
    assert rows.count() == 20
    assert all("NO-GO" in text for text in rows.all_inner_texts())
    page.fill("input[name=release]", "v1.33")
    assert count.inner_text() == "1 run matches."
    page.fill("input[name=release]", "")
    page.fill("input[name=from]", "2026-01-12")
    assert count.inner_text() == "2 runs match."  # v1.111 and v1.117 started on 2026-01-12
    page.fill("input[name=from]", "")
    page.reload()  # filters live in the URL, so a shared or reloaded link keeps them
    page.wait_for_function("document.getElementById('run-count').textContent.includes('match')")
    assert page.locator("select[name=checklist]").input_value() == "deploy"
    assert count.inner_text() == "20 runs match."
    rows.first.locator("a").click()
    page.wait_for_url(re.compile(r"runs/deploy/.+\.html$"))
    assert "NO-GO" in page.locator("h1").inner_text()
    assert page.errors == []
