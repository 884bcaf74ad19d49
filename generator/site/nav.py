"""Navigation: output paths, the nav tree mirroring ``content/``, breadcrumbs, links.

Every link in the site is relative (``../ops/deploy.html``), and folders are linked
through their explicit ``index.html``, so the site works from ``file://`` too.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import quote

from generator.model import Document, DocumentSummary

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


@dataclass(slots=True)
class NavNode:
    """One entry of the navigation tree: a document or a folder."""

    title: str
    """Label shown."""
    url: str | None
    """Site-relative output path, or ``None`` for a folder without an index page."""
    key: str
    """Content-relative path (folder or file) used for ordering and matching."""
    kind: str = "page"
    """``checklist``, ``page`` or ``folder``."""
    children: list[NavNode] = field(default_factory=list)
    """Entries inside a folder."""
    order: int | None = None
    """Explicit ``nav_order``."""
    generated: bool = False
    """A folder without its own index.md: launchbook writes a listing page for it."""


def _folder_title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").strip().capitalize() or name


def build_nav(documents: Sequence[Document | DocumentSummary], order: tuple[str, ...]) -> list[NavNode]:
    """The navigation tree: folders first by ``site.yml`` order, then by order/title."""
    root = NavNode("", HOME, "", "folder")
    folders: dict[str, NavNode] = {"": root}

    def folder(key: str) -> NavNode:
        if key not in folders:
            parent = folder(posixpath.dirname(key))
            node = NavNode(_folder_title(posixpath.basename(key)), None, key, "folder")
            parent.children.append(node)
            folders[key] = node
        return folders[key]

    for document in documents:
        parent_key = posixpath.dirname(document.rel_path)
        folder(parent_key)
        if PurePosixPath(document.rel_path).name == "index.md":
            node = folder(parent_key)
            if parent_key:
                node.title = document.title
                node.url = output_path(document.rel_path)
                node.order = document.nav_order
            continue
        kind = document.kind
        folder(parent_key).children.append(
            NavNode(document.title, output_path(document.rel_path), document.rel_path, kind, order=document.nav_order)
        )
    for key, node in folders.items():
        if key and node.url is None:
            node.url, node.generated = f"{key}/index.html", True
    rank = {key: index for index, key in enumerate(order)}
    _sort(root, rank)
    return root.children


def walk(nodes: list[NavNode]) -> list[NavNode]:
    """Every node of the tree, depth first."""
    found: list[NavNode] = []
    for node in nodes:
        found.append(node)
        found.extend(walk(node.children))
    return found


EXPAND_ALL_UP_TO = 150
"""Sites with at most this many nav entries show every folder open; larger ones open only
the folders on the way to the current page, so a page's nav stays small however big the
site grows (MkDocs renders the whole tree into every page, which makes builds quadratic)."""


def _sort(node: NavNode, rank: dict[str, int]) -> None:
    big = len(rank) + 1

    def key(child: NavNode) -> tuple[int, int, str, str]:
        explicit = rank.get(child.key, big)
        return (explicit, child.order if child.order is not None else 10**9, child.title.lower(), child.key)

    node.children.sort(key=key)
    for child in node.children:
        _sort(child, rank)


def breadcrumbs(nav: list[NavNode]) -> dict[str, list[tuple[str, str | None]]]:
    """Page URL -> (title, url) of the folders above it, for every page at once."""
    trails: dict[str, list[tuple[str, str | None]]] = {}

    def visit(nodes: list[NavNode], path: list[tuple[str, str | None]]) -> None:
        for node in nodes:
            if node.url is not None:
                trails.setdefault(node.url, list(path))
            if node.kind == "folder":
                visit(node.children, [*path, (node.title, node.url)])

    visit(nav, [])
    return trails
