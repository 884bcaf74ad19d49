"""The built demo in real headless Chromium, opened from file:// like an auditor would."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.site.build import build_site
from generator.site.search.document import fragment_name
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


def test_archive_pager_buttons_at_the_ends_are_disabled(archive_site: Path, page) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: a pager button that cannot be used looks it, is skipped by Tab, ignores clicks and
    says so to assistive technology; the focus never falls off the pager when an end is reached."""
    page.goto((archive_site / "runs/index.html").as_uri())
    page.wait_for_function("document.getElementById('run-page').textContent === 'Page 1 of 3'")
    newer, older = page.locator(".pager [data-page=prev]"), page.locator(".pager [data-page=next]")
    assert newer.is_disabled() and newer.get_attribute("aria-disabled") == "true"
    assert older.is_enabled() and older.get_attribute("aria-disabled") == "false"
    style = "el => [getComputedStyle(el).opacity, getComputedStyle(el).cursor]"
    assert older.evaluate(style) == ["1", "pointer"]
    opacity, cursor = newer.evaluate(style)
    assert float(opacity) < 0.6 and cursor == "not-allowed"  # muted
    newer.click(force=True)  # a click on it does nothing
    assert page.locator("#run-page").inner_text() == "Page 1 of 3"
    page.locator("#run-table tbody a").last.focus()
    page.keyboard.press("Tab")  # from the last run link: straight to Older, past the disabled Newer
    assert page.evaluate("document.activeElement.dataset.page") == "next"
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.locator("#run-page").inner_text() == "Page 3 of 3"
    assert older.is_disabled() and older.get_attribute("aria-disabled") == "true"
    assert page.evaluate("document.activeElement.dataset.page") == "prev"  # focus handed to Newer
    assert newer.get_attribute("aria-disabled") == "false"
    assert page.errors == []


SEARCH_SITE = {
    "content/ops/cluster.md": "# Cluster upgrade\n\n## Nodes\n\n- [ ] Drain every Kubernetes node {#drain}\n"
                              "- [ ] Restart the kubelet {#kubelet}\n",
    "content/hostile.md": '---\ntitle: "<img src=x onerror=window.__pwned=1> zebra title"\n---\n\n## Steps\n\n'
                          "- [ ] <img src=x onerror=window.__pwned=2> zebra item {#img}\n"
                          "- [ ] javascript:window.__pwned=3 zebra crossing {#js}\n",
    "content/javascript:zebra.md": "# Zebra notes\n\nStripes.\n",
    **{f"content/notes/note-{n}.md": f"# Note {n}\n\nAbout the kubelet, part {n}.\n" for n in range(3)},
}


@pytest.fixture(scope="module")
def search_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site for the search box: an item to find by a prefix, hostile titles and items."""
    project = tmp_path_factory.mktemp("search")
    for rel, text in SEARCH_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, encoding="utf-8")
    build_site(project, project / "output")
    return project / "output"


def results_for(page, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Type ``query`` into the search box and wait for its answer; the results' texts."""
    page.evaluate("document.getElementById('search-status').textContent = ''")
    page.locator("#search-input").fill(query)
    page.wait_for_function("(s => s && !s.startsWith('Loading'))(document.getElementById('search-status').textContent)",
                           timeout=5000)
    return page.locator("#search-results [role=option]").all_inner_texts()  # type: ignore[no-any-return]


def test_search_matches_the_start_of_words_from_a_file_url(search_site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((search_site / "index.html").as_uri())
    texts = results_for(page, "kube")
    assert any("Drain every Kubernetes node" in text for text in texts), texts
    assert any("Restart the kubelet" in text for text in texts), texts
    assert page.locator("#search-results mark").first.inner_text().lower() == "kube"
    page.locator("#search-results a", has_text="Drain every Kubernetes node").click()
    page.wait_for_url(re.compile(r"ops/cluster\.html#drain$"), timeout=5000)
    page.go_back()
    page.wait_for_url(re.compile(r"index\.html$"))
    assert results_for(page, "ubernetes") == []  # words match from their start, not inside
    assert page.locator("#search-status").inner_text().startswith("No results")
    assert page.errors == []


def test_search_shows_hostile_titles_and_items_as_text(search_site: Path, page) -> None:  # type: ignore[no-untyped-def]
    page.goto((search_site / "ops/cluster.html").as_uri())
    texts = results_for(page, "zebra")
    joined = "\n".join(texts)
    assert "<img src=x onerror=window.__pwned=1> zebra title" in joined
    assert "<img src=x onerror=window.__pwned=2> zebra item" in joined
    assert "javascript:window.__pwned=3 zebra crossing" in joined
    assert "Zebra notes" in joined
    assert page.locator("#search-results img, #search-results script").count() == 0
    hrefs = [a.get_attribute("href") or "" for a in page.locator("#search-results a").all()]
    assert hrefs and all(href.startswith("../") for href in hrefs), hrefs  # relative: never a scheme
    resolved = page.evaluate("[...document.querySelectorAll('#search-results a')].map(a => a.href)")
    assert all(url.startswith("file:") for url in resolved), resolved
    page.locator("#search-results a", has_text="Zebra notes").click()
    page.wait_for_url(re.compile(r"javascript%3Azebra\.html$"), timeout=5000)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


@pytest.fixture
def slow_server(search_site: Path) -> Iterator[tuple[str, list[str]]]:
    """The search site over HTTP; files named in the returned list are served 1.5 s late."""
    slow: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            if any(name in self.path for name in slow):
                time.sleep(1.5)
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(search_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", slow
    server.shutdown()
    server.server_close()


def test_search_shows_only_the_latest_query_when_files_arrive_late(slow_server, page) -> None:  # type: ignore[no-untyped-def]
    base, slow = slow_server
    page.goto(base + "index.html")
    assert any("zebra item" in text for text in results_for(page, "zebra"))  # meta and shard loaded
    slow.append(fragment_name("ops/cluster.html"))  # what "kubelet" needs and "zebra" does not
    page.locator("#search-input").fill("kubelet")
    page.wait_for_timeout(300)  # its fragment is on the way
    page.locator("#search-input").fill("zebra crossing")
    page.wait_for_function("(document.querySelector('#search-results [role=option]') || {textContent: ''})"
                           ".textContent.includes('zebra crossing')", timeout=5000)
    answer = page.locator("#search-results [role=option]").all_inner_texts()
    status = page.locator("#search-status").inner_text()
    page.wait_for_timeout(2000)  # the kubelet answer arrives now, and is dropped
    assert page.locator("#search-results [role=option]").all_inner_texts() == answer
    assert page.locator("#search-status").inner_text() == status == "2 results"
    assert not any("kubelet" in text for text in answer), answer
    assert page.errors == []


def test_search_says_when_a_file_of_the_index_is_missing(search_site: Path, tmp_path: Path, page) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    shutil.copytree(search_site, site)
    (site / "assets/search/doc" / f"{fragment_name('ops/cluster.html')}.js").unlink()
    page.goto((site / "index.html").as_uri())
    assert results_for(page, "drain") == []
    assert page.locator("#search-status").inner_text() == "The search index could not be loaded."
    assert any("zebra item" in text for text in results_for(page, "zebra"))  # the rest still works
    assert page.errors == []


def test_search_finds_a_run_by_its_ticket_and_opens_its_page(tmp_path: Path, page) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: runs are in the index, shown as "Run" with outcome, ID, ticket and operator."""
    from generator.runs.start import start_run

    project = tmp_path / "project"
    (project / "content").mkdir(parents=True)
    (project / "content/deploy.md").write_text("# Deploy\n\n- [ ] Ship {#ship}\n")
    _, record = start_run(project, "deploy", release="v2.5", change="CHG-42", operator="Olga Ivanova",
                          environment="prod", at="2026-02-01T10:00:00Z")
    build_site(project, project / "output")
    page.goto((project / "output/index.html").as_uri())
    texts = results_for(page, "chg-42")
    assert len(texts) == 1, texts
    option = page.locator("#search-results [role=option]").first
    assert option.locator(".result-kind").text_content() == "Run"
    assert "v2.5 · Deploy" in texts[0]
    assert f"INCOMPLETE · run {record.id} · CHG-42 · Olga Ivanova · prod" in texts[0]
    assert results_for(page, "olga") == texts and results_for(page, "incomplete v2") == texts
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"runs/deploy/{re.escape(record.id)}\.html$"), timeout=5000)
    assert page.errors == []
