"""The demo site's layout in real headless Chromium, measured as a reader sees it (issue #16):
nothing wider than its box at desktop, laptop and phone widths, an archive pager only when there
is more than one page, Copy link buttons that cost no line, emoji drawn with real glyphs from the
vendored font (over file:// and HTTP), and a favicon on every page at every folder depth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import build_demo, served_folder

pytestmark = pytest.mark.browser

WIDTHS = [1280, 1024, 390]

# Every element whose content is wider than its box (a clipped table, a scrolling wrapper, text
# running out of a cell), and the page itself scrolling sideways. Visually hidden elements (clip)
# are skipped: they are 1 px boxes on purpose.
OVERFLOW_JS = """() => {
  const hidden = el => {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === 'none' || style.clip !== 'auto') return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  for (const el of document.body.querySelectorAll('*')) {
    if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1 || hidden(el)) continue;
    const parent = el.parentElement ? name(el.parentElement) + ' > ' : '';
    found.push(`${parent}${name(el)}: content ${el.scrollWidth} px in a ${el.clientWidth} px box`);
  }
  return found;
}"""


# Font subsets load on demand, some only once a later layout pass meets their characters: wait
# until two frames pass with no font loading (as scripts/screenshot.py does).
FONTS_SETTLED = """async () => {
  const frame = () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let i = 0; i < 20; i++) {
    await document.fonts.ready;
    await frame();
    if (document.fonts.status === 'loaded') return;
  }
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo built by the CLI, as users build it (checklists, runs, archive, Audit)."""
    return build_demo(tmp_path_factory.mktemp("layout") / "output")


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with served_folder(site) as url:
        yield url


def _tab(browser: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 800})
    return context.new_page()


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_has_anything_wider_than_its_box(browser: Any, site: Path, width: int) -> None:
    """Every page of every type (home, folders, checklists, guides, runs, archive, Audit, 404)."""
    pages = _pages(site)
    kinds = {"index.html", "platform/sv-sdk.html", "runs/index.html", "runs/audit.html", "404.html"}
    assert kinds <= set(pages) and any(p.startswith("runs/sv-sdk-launch/") for p in pages), pages
    tab = _tab(browser, width)
    problems = []
    for rel in pages:
        tab.goto((site / rel).as_uri())
        tab.wait_for_load_state("load")
        problems += [f"{rel} at {width} px: {problem}" for problem in tab.evaluate(OVERFLOW_JS)]
    tab.context.close()
    assert problems == [], "\n".join(problems)


def test_a_checklist_runs_table_fits_at_1280_with_every_fact(browser: Any, site: Path) -> None:
    """The issue's case: the Runs table of a checklist in its ~688 px box at a 1280 px window."""
    tab = _tab(browser, 1280)
    tab.goto((site / "platform/sv-sdk.html").as_uri())
    wrap = tab.locator(".run-history .table-wrap")
    box, table = wrap.bounding_box(), wrap.locator("table").bounding_box()
    assert box is not None and table is not None and table["width"] <= box["width"]
    first = tab.locator(".run-history tbody tr").first
    text = first.inner_text()
    assert "2026-03-10 08:30:00" in text and "20260310-0830-v1-9-0" in text  # time and run ID
    assert "v1.9.0" in text and "production" in text and "NO-GO" in text and "97.6%" in text
    first.locator("a").click()
    tab.wait_for_url(re.compile(r"runs/sv-sdk-launch/20260310-0830-v1-9-0\.html$"))
    tab.context.close()


def test_tables_of_runs_become_cards_on_a_phone(browser: Any, site: Path) -> None:
    """At 390 px each run is a card whose every value is labelled (the header row is hidden)."""
    tab = _tab(browser, 390)
    tab.goto((site / "runs/index.html").as_uri())
    row = tab.locator("#run-table tbody tr").first
    row.wait_for()
    cells = row.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert all(b is not None for b in boxes)
    assert len({round(b["x"]) for b in boxes if b}) == 1  # stacked, not side by side
    labels = cells.evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert labels == ['"Run"', '"Checklist"', '"Release"', '"Outcome"', '"Done"']
    assert not tab.locator("#run-table thead").is_visible() or tab.locator("#run-table thead").bounding_box()["width"] <= 1
    tab.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_archive_filters_line_up_in_even_rows(browser: Any, site: Path, width: int) -> None:
    """The filter row: equal control heights, rows aligned, and every row filled to the same edges."""
    tab = _tab(browser, width)
    tab.goto((site / "runs/index.html").as_uri())
    controls = tab.locator("#run-filters select, #run-filters input")
    boxes = [b for b in (controls.nth(i).bounding_box() for i in range(controls.count())) if b]
    assert len(boxes) == 5
    assert len({round(b["height"]) for b in boxes}) == 1, boxes  # selects as tall as inputs
    rows: dict[int, list[dict[str, float]]] = {}
    for b in boxes:
        rows.setdefault(round(b["y"]), []).append(b)
    lefts = {round(min(b["x"] for b in row)) for row in rows.values()}
    rights = {round(max(b["x"] + b["width"] for b in row)) for row in rows.values()}
    assert len(lefts) == 1 and len(rights) == 1, rows  # no ragged row
    form = tab.locator("#run-filters").bounding_box()
    assert form is not None and abs(form["x"] + form["width"] - rights.pop()) <= 1  # rows reach the right edge
    tab.context.close()


def test_the_pager_hides_when_all_runs_fit_on_one_page(browser: Any, site: Path) -> None:
    tab = _tab(browser, 1280)
    tab.goto((site / "runs/index.html").as_uri())
    tab.wait_for_function("document.getElementById('run-count').textContent.includes('match')")
    assert tab.locator("#run-count").inner_text() == "6 runs match."
    assert not tab.locator(".pager").is_visible()
    assert tab.locator(".pager").bounding_box() is None
    tab.context.close()


def test_copy_link_costs_no_line_on_a_phone(browser: Any, site: Path) -> None:
    """Items are exactly as tall with their (hidden) Copy link buttons as without them."""
    tab = _tab(browser, 390)
    tab.goto((site / "platform/sv-sdk.html").as_uri())
    heights = "[...document.querySelectorAll('li.lb-item')].map(li => li.getBoundingClientRect().height)"
    with_buttons = tab.evaluate(heights)
    assert tab.locator("li.lb-item .copy-link").count() == len(with_buttons) > 100
    one_line = min(with_buttons)
    assert sum(1 for h in with_buttons if h == one_line) > 20  # many short items, all one line tall
    tab.evaluate("document.querySelectorAll('.copy-link').forEach(b => b.remove())")
    assert tab.evaluate(heights) == with_buttons
    tab.context.close()


def test_copy_link_shows_on_tap_hover_and_focus(browser: Any, site: Path) -> None:
    tab = _tab(browser, 390)
    tab.goto((site / "platform/sv-sdk.html").as_uri())
    items = tab.locator("li.lb-item")
    button = items.nth(3).locator(".copy-link")
    opacity = "el => getComputedStyle(el).opacity"
    assert button.evaluate(opacity) == "0"
    assert button.evaluate("el => getComputedStyle(el).pointerEvents") == "none"  # a tap there reaches the text
    items.nth(3).dispatch_event("click")  # a tap on the item's text (a click without hover)
    assert button.evaluate(opacity) == "1"
    tab.locator("h1").dispatch_event("click")  # a tap elsewhere: it goes again
    assert button.evaluate(opacity) == "0"
    items.nth(5).hover()
    assert items.nth(5).locator(".copy-link").evaluate(opacity) == "1"
    items.nth(7).locator(".copy-link").focus()
    assert items.nth(7).locator(".copy-link").evaluate(opacity) == "1"
    tab.context.close()


def _font_families(tab: Any, selector: str) -> dict[str, int]:
    """Which fonts Chromium drew the text of ``selector`` with: family -> glyphs (DevTools protocol)."""
    tab.evaluate(FONTS_SETTLED)
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"]: font["glyphCount"] for font in fonts}


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_emoji_and_decision_boxes_are_drawn_with_an_emoji_font(browser: Any, site: Path, base_url: str,
                                                               scheme: str) -> None:
    """A machine with no emoji font installed (this one: DejaVu only) still draws 🚀 and ⬜: the
    vendored Noto Emoji (or a system emoji font, where there is one) supplies the glyphs; a page
    without emoji downloads none of its files."""
    def url(rel: str) -> str:
        return (site / rel).as_uri() if scheme == "file" else base_url + rel

    def open_page(rel: str) -> tuple[Any, list[str]]:
        """A fresh tab, so that no earlier page's font requests are counted."""
        tab = _tab(browser, 1280)
        requested: list[str] = []
        tab.on("request", lambda request: requested.append(request.url))
        tab.goto(url(rel))
        return tab, requested

    tab, requested = open_page("launches/momentverse.html")
    heading = tab.locator("h2", has_text="Pre-Deployment Setup").first
    assert heading.inner_text().startswith("🚀")
    fonts = _font_families(tab, "h2[id$='pre-deployment-setup']")
    assert any("Emoji" in family and glyphs >= 1 for family, glyphs in fonts.items()), fonts
    tab.context.close()
    tab, requested = open_page("platform/sv-sdk.html")
    assert "⬜ Not Ready" in tab.locator("p", has_text="Deployment Status").inner_text()
    fonts = _font_families(tab, "p:has(> strong)")  # the paragraph holding the three ⬜
    assert any("Emoji" in family and glyphs >= 3 for family, glyphs in fonts.items()), fonts
    woff = [u for u in requested if u.endswith(".woff2")]
    assert woff and all("/assets/fonts/noto-emoji/" in u and u.startswith(url("")) for u in woff), woff
    assert len(woff) == 1, woff  # only the subset holding ⬜ (unicode-range), not all twelve
    tab.context.close()
    tab, requested = open_page("404.html")
    tab.evaluate(FONTS_SETTLED)
    assert not [u for u in requested if ".woff" in u]  # no emoji on the page: no font download
    tab.context.close()


def test_every_page_links_a_favicon_that_resolves(site: Path) -> None:
    """Relative links, so they work at every folder depth and from file://; SVG plus a PNG."""
    pages = _pages(site)
    assert any(rel.count("/") >= 2 for rel in pages)  # run pages sit two folders deep
    for rel in pages:
        html = (site / rel).read_text(encoding="utf-8")
        icons = re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', html)
        assert len(icons) == 3, rel
        for href in icons:
            assert not href.startswith(("/", "http:", "https:")), (rel, href)
            assert (site / rel).parent.joinpath(href).resolve().is_file(), (rel, href)
    svg = (site / "assets/favicon.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and 'viewBox="0 0 32 32"' in svg


@pytest.mark.parametrize("rel", ["index.html", "runs/sv-sdk-launch/20260310-0830-v1-9-0.html"])
def test_the_favicon_loads_in_chromium_from_a_file_url(browser: Any, site: Path, rel: str) -> None:
    tab = _tab(browser, 1280)
    tab.goto((site / rel).as_uri())
    sizes = tab.evaluate("""() => Promise.all([...document.querySelectorAll('link[rel~=icon], link[rel=apple-touch-icon]')]
      .map(link => new Promise(done => { const img = new Image(); img.onload = () => done([link.href, img.naturalWidth]);
        img.onerror = () => done([link.href, 0]); img.src = link.href; })))""")
    assert len(sizes) == 3 and all(width > 0 for _, width in sizes), sizes
    assert all(href.startswith("file:") for href, _ in sizes)
    tab.context.close()
