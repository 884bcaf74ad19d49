"""Navigation: output paths, the nav tree mirroring ``content/``, breadcrumbs, links.

Every link in the site is relative (``../ops/deploy.html``), and folders are linked
through their explicit ``index.html``, so the site works from ``file://`` too.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from generator.model import Checklist, Document

HOME = "index.html"


def output_path(rel_path: str) -> str:
    """``ops/deploy.md`` -> ``ops/deploy.html``."""
    return str(PurePosixPath(rel_path).with_suffix(".html"))


def relative_url(target: str, from_page: str) -> str:
    """URL of ``target`` (site-relative) as seen from ``from_page`` (site-relative)."""
    path, hash_, fragment = target.partition("#")
    base = posixpath.dirname(from_page) or "."
    rel = posixpath.relpath(path, base) if path else posixpath.basename(from_page)
    return rel + hash_ + fragment


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


def _folder_title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").strip().capitalize() or name


def build_nav(documents: list[Document], order: tuple[str, ...]) -> list[NavNode]:
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
        if PurePosixPath(document.rel_path).name == "index.md":
            node = folder(parent_key)
            if parent_key:
                node.title = document.title
                node.url = output_path(document.rel_path)
                node.order = document.nav_order
            continue
        kind = "checklist" if isinstance(document, Checklist) else "page"
        folder(parent_key).children.append(
            NavNode(document.title, output_path(document.rel_path), document.rel_path, kind, order=document.nav_order)
        )
    rank = {key: index for index, key in enumerate(order)}
    _sort(root, rank)
    return root.children


def _sort(node: NavNode, rank: dict[str, int]) -> None:
    big = len(rank) + 1

    def key(child: NavNode) -> tuple[int, int, str, str]:
        explicit = rank.get(child.key, big)
        return (explicit, child.order if child.order is not None else 10**9, child.title.lower(), child.key)

    node.children.sort(key=key)
    for child in node.children:
        _sort(child, rank)


def breadcrumbs(nav: list[NavNode], page_url: str) -> list[tuple[str, str | None]]:
    """(title, site-relative url) from the home page down to ``page_url``'s parent."""
    trail: list[tuple[str, str | None]] = []

    def visit(nodes: list[NavNode], path: list[NavNode]) -> bool:
        for node in nodes:
            if node.url == page_url and node.kind != "folder":
                trail.extend((p.title, p.url) for p in path)
                return True
            if node.kind == "folder":
                if node.url == page_url:
                    trail.extend((p.title, p.url) for p in path)
                    return True
                if visit(node.children, [*path, node]):
                    return True
        return False

    visit(nav, [])
    return trail
