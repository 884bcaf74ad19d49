"""Take screenshots of a built site with headless Debian Chromium (for the README).

Usage: python scripts/screenshot.py OUTPUT_DIR PAGE [PNG] [--dark] [--width N] [--search TEXT]

``--search TEXT`` types TEXT into the page's search box (as a user pressing ``/`` would) and
waits for the results before the picture is taken.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The emoji font's subsets load on demand, some only once a later layout pass meets their
# characters: wait until two frames pass with no font loading.
FONTS_SETTLED = """async () => {
  const frame = () => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let i = 0; i < 20; i++) {
    await document.fonts.ready;
    await frame();
    if (document.fonts.status === 'loaded') return;
  }
}"""


def main(argv: list[str]) -> None:
    dark = "--dark" in argv
    width = 1280
    if "--width" in argv:
        width = int(argv[argv.index("--width") + 1])
    query = argv[argv.index("--search") + 1] if "--search" in argv else ""
    positional = [a for i, a in enumerate(argv)
                  if not a.startswith("--") and (i == 0 or argv[i - 1] not in ("--width", "--search"))]
    site, page_path = Path(positional[0]).resolve(), positional[1]
    png = positional[2] if len(positional) > 2 else "screenshot.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 860}, color_scheme="dark" if dark else "light")
        page.goto((site / page_path).as_uri())
        page.evaluate(FONTS_SETTLED)
        if query:
            page.keyboard.press("/")
            page.keyboard.type(query, delay=40)
            page.wait_for_selector("#search-results li", state="visible", timeout=15000)
            page.evaluate(FONTS_SETTLED)
        page.screenshot(path=png)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
