"""Raw HTML in sources: the part GitHub shows is rendered through nh3, the rest is shown as text.

The policy follows GitHub's own sanitizer (html-pipeline's allow list), narrowed to what is
harmless on a site opened from ``file://``:

- Elements: GitHub's formatting set (``<br>``, ``<details>``/``<summary>``, ``<kbd>``, ``<sup>``,
  ``<sub>``, ``<ins>``, ``<del>``, ``<mark>``, ``<abbr>``, ``<img>``, ``<a>``, tables, lists, ``<div>``,
  ``<p>``, headings …). Inside a line of text only phrasing elements plus ``<details>``/``<summary>``
  render, so an item or a table cell keeps its shape.
- Attributes: a short list per element (``href``, ``src``, ``alt``, ``title``, ``width``, ``height``,
  ``align``, ``open``, ``colspan`` …). No ``on*`` handler, ``style``, ``class``, ``id`` or ``name``:
  sources cannot restyle the page, pose as launchbook's own markup or shadow its scripts' globals.
- Links (``<a href>``): http, https, mailto or relative. Images (``<img src>``, Markdown images
  too): http, https or a relative path that stays inside the site.

Every other tag (``<script>``, ``<iframe>``, ``<svg>``, ``<form>``, ``<input>``, ``<style>`` …), every
declaration and every stray ``<`` is escaped and shown as text; comments are dropped. The tags
come from markdown-it's own HTML grammar; nh3 (ammonia) does the sanitizing and balances the
tags, so an unclosed ``<details>`` cannot swallow the page.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

import nh3
from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.common.utils import escapeHtml

PHRASING = frozenset(
    "a abbr b bdi bdo br cite code del dfn em i img ins kbd mark q rp rt ruby s samp small span strike "
    "strong sub sup time tt u var wbr details summary".split()
)
FLOW = PHRASING | frozenset(
    "blockquote caption dd div dl dt figcaption figure h1 h2 h3 h4 h5 h6 hr li ol p pre table tbody td "
    "tfoot th thead tr ul".split()
)
_ATTRIBUTES = {
    "*": {"title", "lang", "dir", "align"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "details": {"open"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_TAG_NAME = re.compile(r"^</?([A-Za-z][A-Za-z0-9-]*)")
_MARK = re.compile("\ue000(\\d+)\ue001")
_MARKERS = re.compile("[\ue000\ue001]")


def image_src_allowed(src: str, page: str) -> bool:
    """http(s), or a relative path that resolves inside the site from ``page`` (a content path).

    Site-absolute (``/x``), protocol-relative (``//host``), backslashed and other-scheme
    sources are refused: from ``file://`` they would reach the reader's own disk.
    """
    value = "".join(src.split())
    match = _SCHEME.match(value)
    if match:
        return match.group(1).lower() in IMAGE_SCHEMES
    path = unquote(value.split("#", 1)[0].split("?", 1)[0])
    if not path or path.startswith("/") or "\\" in path:
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return resolved != ".." and not resolved.startswith("../")


def tag_name(tag: str) -> str | None:
    """The lower-case element name of one open or close tag; None for comments and declarations."""
    match = _TAG_NAME.match(tag)
    return match.group(1).lower() if match else None


def is_rendered(tag: str, allowed: frozenset[str] = FLOW) -> bool:
    """Whether this single tag (from markdown-it's HTML grammar) is one that renders."""
    name = tag_name(tag)
    return name is not None and name in allowed


def skeleton(html: str, allowed: frozenset[str] = FLOW) -> str:
    """Raw HTML with its rendered tags kept and everything else made text.

    Allowed tags stay for nh3; other tags, declarations and stray ``<`` are escaped; comments
    go. Text keeps its character references (``&nbsp;`` stays a space, as on GitHub).
    """
    out: list[str] = []
    position = 0
    html = _MARKERS.sub("\ufffd", html)
    while position < len(html):
        start = html.find("<", position)
        if start < 0:
            out.append(html[position:])
            break
        out.append(html[position:start])
        match = HTML_TAG_RE.match(html, start)
        if match is None:
            out.append("&lt;")
            position = start + 1
            continue
        tag = match.group(0)
        if not tag.startswith("<!--"):
            out.append(tag if is_rendered(tag, allowed) else escapeHtml(tag))
        position = match.end()
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a rendered fragment: launchbook's own markup (trusted) or raw HTML from a source."""

    text: str
    raw: bool


def clean(parts: Sequence[Part], page: str, allowed: frozenset[str] = FLOW) -> str:
    """Join parts; raw ones are sanitized *together* so their tags balance across the trusted ones.

    Trusted parts travel through nh3 as inert place-holders and are put back unchanged. If nh3
    ever dropped or duplicated a place-holder, each raw part is sanitized on its own instead.
    """
    if not any(part.raw for part in parts):
        return "".join(part.text for part in parts)
    trusted = [part.text for part in parts if not part.raw]
    marked: list[str] = []
    count = 0
    for part in parts:
        if part.raw:
            marked.append(skeleton(part.text, allowed))
        else:
            marked.append(f"\ue000{count}\ue001")
            count += 1
    cleaned = _nh3("".join(marked), page)
    found = [int(number) for number in _MARK.findall(cleaned)]
    if found == list(range(count)):
        return _MARK.sub(lambda m: trusted[int(m.group(1))], cleaned)
    return "".join(_nh3(skeleton(part.text, allowed), page) if part.raw else part.text for part in parts)


def _nh3(html: str, page: str) -> str:
    def keep(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src" and not image_src_allowed(value, page):
            return None
        return value

    return nh3.clean(
        html,
        tags=set(FLOW),
        attributes=_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=set(LINK_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
