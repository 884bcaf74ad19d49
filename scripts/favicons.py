"""Render the theme's PNG icons from its favicon.svg with headless Debian Chromium.

Usage: python scripts/favicons.py   (writes themes/default/assets/favicon-32.png and apple-touch-icon.png)

The PNGs are committed: builds copy them like any other asset, so the site's bytes never depend
on a browser. Run this again only after changing favicon.svg, and review the pictures.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ASSETS = Path(__file__).resolve().parents[1] / "themes" / "default" / "assets"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# (file, size in px, background): the tab icon keeps its rounded corners on any tab colour; the
# home-screen icon is opaque, as iOS wants it (it rounds the corners itself).
ICONS = [("favicon-32.png", 32, "transparent"), ("apple-touch-icon.png", 180, "#0b5cd5")]


def main() -> None:
    svg = (ASSETS / "favicon.svg").read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, size, background in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(f'<body style="margin:0;background:{background}">'
                             f'<div style="width:{size}px;height:{size}px">{svg}</div></body>')
            size_js = f"el => {{ el.setAttribute('width', {size}); el.setAttribute('height', {size}); }}"
            page.locator("svg").evaluate(size_js)
            page.screenshot(path=str(ASSETS / name), omit_background=background == "transparent")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
