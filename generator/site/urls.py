"""Site URLs: output paths of sources, links relative to the page they are on.

Every link in the site is relative (``../ops/deploy.html``), and folders are linked
through their explicit ``index.html``, so the site works from ``file://`` too. Links are
percent-encoded: a file or folder name can never be read as a scheme, query or fragment.
"""

from __future__ import annotations

import re
from html import escape as html_escape
from urllib.parse import quote

HOME = "index.html"


def output_path(rel_path: str) -> str:
    """``ops/deploy.md`` -> ``ops/deploy.html`` (string work: called for every link of every page)."""
    slash = rel_path.rfind("/")
    dot = rel_path.rfind(".")
    return (rel_path[:dot] if dot > slash + 1 else rel_path) + ".html"


def relative_url(target: str, from_page: str) -> str:
    """URL of ``target`` (a site-relative output path) as seen from ``from_page`` (ditto).

    Both are normalised output paths, so this is plain string work (no ``relpath``). The
    result is percent-encoded (:func:`url_path`): a file or folder name can never be read as
    a scheme (``javascript:…``), a query (``?``) or a fragment (``#``).
    """
    if not target:
        return url_path(from_page.rsplit("/", 1)[-1])
    here = from_page.split("/")[:-1]
    there = target.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "../" * (len(here) - common) + url_path("/".join(there[common:]))


_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def url_path(path: str) -> str:
    """A relative path as a URL: everything but letters, digits, ``-._~`` and ``/`` is
    percent-encoded (UTF-8), so ``:`` ``?`` ``#`` ``%`` ``"`` ``<`` and spaces mean nothing."""
    if _URL_SAFE.issuperset(path):
        return path
    return quote(path, safe="/-._~")


def root_prefix(from_page: str) -> str:
    """``""`` for top-level pages, ``"../"`` one folder down, and so on."""
    depth = from_page.count("/")
    return "../" * depth


_RELATIVE_LINK = re.compile(r'(\s(?:href|src)=")(?![A-Za-z][A-Za-z0-9+.-]*:|/|#)')
"""A link attribute whose value is relative to the page (no scheme, not from the root, not an anchor)."""
_DATA_ROOT = re.compile(r'<html[^>]*\sdata-root="([^"]*)"')


def rooted(html: str, prefix: str) -> str:
    """A top-level page's HTML with every relative link (and the site script's ``data-root``)
    starting at ``prefix``: the 404 page is answered at any depth (``/a/b/missing.html``), where
    links relative to the site's root folder would lead nowhere. ``prefix`` is the site's root
    URL: ``base_url`` when configured, ``/`` under ``launchbook serve``. A page rooted before (its
    ``data-root`` is the ``base_url`` the build used) is rooted at ``prefix`` instead: a preview's
    404 page must not load the published site's styles or lead to it."""
    quoted = html_escape(prefix, quote=True)
    before = _DATA_ROOT.search(html)
    if before is not None and before.group(1) not in ("", quoted):
        html = html.replace(f'="{before.group(1)}', f'="{quoted}')
    html = _RELATIVE_LINK.sub(lambda found: found.group(1) + quoted, html)
    return html.replace(' data-root=""', f' data-root="{quoted}"', 1)
