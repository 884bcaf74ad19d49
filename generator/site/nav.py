"""Navigation: the nav tree mirroring ``content/``, breadcrumbs, and its HTML per folder."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.config import SiteConfig
from generator.core.files import load_cache_text, store_cache_bytes
from generator.model import Document, DocumentSummary
from generator.site.render import render_page
from generator.site.urls import HOME, output_path


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
        if document.rel_path.rsplit("/", 1)[-1] == "index.md":
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


def tree_shape(nodes: list[NavNode]) -> tuple[Any, ...]:
    """Everything of the tree a nav shows, as nested tuples (to hash it)."""
    return tuple((n.title, n.url, n.key, n.kind, n.order, n.generated, tree_shape(n.children)) for n in nodes)


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


class NavRenderer:
    """Renders the navigation once per folder and marks the current page by string edit.

    Every page of a folder shares the same nav HTML (links are relative to the folder);
    only ``aria-current`` differs, so a 1,000-page site renders 10s of navs, not 1,000.
    """

    def __init__(self, env: Any, nav: list[NavNode], config: SiteConfig, theme: str = "",
                 cache: Path | None = None) -> None:
        self.env, self.nav, self.config, self.store = env, nav, config, cache
        self.expand_all = len(walk(nav)) <= EXPAND_ALL_UP_TO
        self.cache: dict[str, str] = {}
        self.digests: dict[str, str] = {}
        self.entries: set[str] = set()
        """The names of the cache entries this build's navigation is kept under (what pruning leaves)."""
        # Given the themes' fingerprint, each folder's nav is kept for the next build while the
        # tree, the config and the themes stay the same: in memory (serve) and in ``cache``.
        self.memo = hashlib.sha256(f"{theme}\0{tree_shape(nav)!r}\0{config!r}".encode()).hexdigest() if theme else ""

    def digest(self, page_url: str) -> str:
        """Hash of the nav a page gets, less its own ``aria-current`` mark (its URL is known)."""
        folder = page_url.rsplit("/", 1)[0] if "/" in page_url else ""
        if folder not in self.digests:
            self.for_page(page_url)
            self.digests[folder] = hashlib.sha256(self.cache[folder].encode()).hexdigest()
        return self.digests[folder]

    def for_page(self, page_url: str) -> str:
        folder = page_url.rsplit("/", 1)[0] if "/" in page_url else ""
        if folder not in self.cache:
            name = hashlib.sha256(f"{self.memo}\0{folder}".encode()).hexdigest()
            self.entries.add(name)
            stored = self.store / name[:2] / f"{name}.html" if self.memo and self.store is not None else None
            kept = load_cache_text(stored, remember=True) if stored is not None else None
            if kept is None:
                kept = render_page(self.env, "nav.html", page_url, self.config, nav=self.nav, current_dir=folder,
                                   expand_all=self.expand_all)
                if stored is not None:
                    store_cache_bytes(stored, kept.encode("utf-8"))
            self.cache[folder] = kept
        html = self.cache[folder]
        link = f'href="{page_url.rsplit("/", 1)[-1]}"'
        return html.replace(link + ">", link + ' aria-current="page">', 1)
