"""Internal link checking: every relative link must reach a page, file or anchor."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar
from urllib.parse import unquote

from generator.core.diagnostics import Diagnostic
from generator.model import Checklist, Document, DocumentSummary
from generator.site.urls import HOME, output_path
from generator.sources.checklist import published_href

Target = TypeVar("Target")


def anchors_of(document: Document) -> set[str]:
    """Every fragment a link may point at on this document's page."""
    anchors = {heading.anchor for heading in document.headings}
    if isinstance(document, Checklist):
        anchors.update(item.id for item in document.items)
        anchors.update(role.anchor for role in document.signoffs if role.anchor)
    return anchors


def _reaches(fragment: str, anchors: set[str]) -> bool:
    """Exact, or in another case: heading anchors are lower case and the site script (like
    GitHub's) follows ``#Deploy-Steps`` to ``deploy-steps``."""
    return fragment in anchors or fragment.lower() in anchors


def check_links(documents: Sequence[Document | DocumentSummary], asset_paths: set[str],
                load: Callable[[DocumentSummary], Document] | None = None) -> list[Diagnostic]:
    """Warnings for relative links whose file or anchor does not exist.

    Summaries carry no anchors: a page's full document is loaded (with ``load``) only when
    some link points at an anchor in it.
    """

    def anchors(doc: Document | DocumentSummary) -> set[str]:
        if isinstance(doc, DocumentSummary):
            if load is None:
                raise TypeError("check_links needs load() to check anchors of summaries")
            doc = load(doc)
        return anchors_of(doc)

    return broken_links(documents, {output_path(doc.rel_path): doc for doc in documents}, asset_paths, anchors)


def _folder_pages(pages: Mapping[str, object]) -> set[str]:
    """The home page and every folder's ``index.html``: the build makes one for each folder that
    holds a page (``site/nav.py``), whether or not it has an ``index.md``."""
    found = {HOME}
    for url in pages:
        folder = posixpath.dirname(url)
        while folder and (index := posixpath.join(folder, HOME)) not in found:
            found.add(index)
            folder = posixpath.dirname(folder)
    return found


def broken_links(documents: Sequence[Document | DocumentSummary], pages: Mapping[str, Target], asset_paths: set[str],
                 anchors: Callable[[Target], set[str]]) -> list[Diagnostic]:
    """Warnings for the relative links of ``documents`` that reach neither a page (``pages``,
    by output path) nor an asset; ``anchors`` gives a page's anchors, asked once per page and
    only for pages some link points into (so the site's other pages need not be parsed)."""
    known: dict[str, set[str]] = {}

    def anchors_at(url: str) -> set[str]:
        if url not in known:
            known[url] = anchors(pages[url])
        return known[url]

    generated = _folder_pages(pages)
    warnings: list[Diagnostic] = []
    for document in documents:
        here = output_path(document.rel_path)
        for href, line in document.links:
            path, _, fragment = href.partition("#")
            path = unquote(published_href(path).split("?", 1)[0])
            if path.startswith("/"):
                continue  # site-absolute: depends on where the site is served
            target = posixpath.normpath(posixpath.join(posixpath.dirname(here), path)) if path else here
            if target in ("", "."):
                target = HOME
            elif target.endswith("/"):
                target = posixpath.join(target, HOME)
            if target in pages:
                if fragment and not _reaches(unquote(fragment), anchors_at(target)):
                    page = "that page" if path else "this page"
                    warnings.append(Diagnostic(document.source, line, f"broken link: {href} (no such anchor on {page})",
                                               "LB301"))
            elif target in generated or posixpath.join(target, HOME) in generated:
                continue  # a folder's page (or the home page) the build makes when there is no index.md
            elif target not in asset_paths and posixpath.join(target, HOME) not in pages:
                warnings.append(Diagnostic(document.source, line, f"broken link: {href} (no such page or file)",
                                           "LB301"))
    return warnings
