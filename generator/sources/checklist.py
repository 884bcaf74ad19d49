"""Markdown source -> :class:`Checklist` or :class:`Page`.

Stages, each a small function: decode and repair the bytes, split front matter, parse
with the shared Markdown parser, walk the tokens into headings and items, assign stable
IDs and anchors, then render the body with those IDs in place.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError
from generator.core.keyfiles import pem_private_key_at
from generator.model import Checklist, Heading, Item, ItemState, Page, SignoffRole
from generator.sources.anchors import GithubAnchors
from generator.sources.bounds import parse_bounded
from generator.sources.frontmatter import FrontMatter, split_front_matter
from generator.sources.ids import EXPLICIT_ID, document_id, item_id, normalise, slugify
from generator.sources.markdown import ITEM_HTML, PAGE, markdown, plain_text
from generator.sources.repair import decode_source, repair_text
from generator.sources.signoffs import decisions, signoff_role, table_signoffs
from generator.sources.tasklines import lost_task_lines

_OPTIONAL = re.compile(
    r"\((?:optional\b[^)]*|if (?:applicable|needed|necessary|required|relevant|available|"
    r"possible|desired|any|supported|enabled|used|using\b[^)]*)|when (?:applicable|needed)|"
    r"nice[- ]to[- ]have|recommended)\)"
    r"|^optional\s*[:\-–—]",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(slots=True)
class _RawItem:
    token: Token
    inline: Token
    line: int
    depth: int
    parent: int | None
    section: tuple[str, ...]
    anchors: tuple[str, ...]
    state: ItemState
    attrs: list[str]
    text: str = ""
    role: str | None = None
    command: str = ""
    shell: str = ""


RUNNABLE = re.compile(r"^(sh|bash)\s*\{[^{}]*(?<![\w-])\.run(?![\w-])[^{}]*\}$")
"""A fenced block's info string that marks it as the item's runnable step: ``sh {.run}``, ``bash {.run}``."""


@dataclass(slots=True)
class _Walk:
    items: list[_RawItem] = field(default_factory=list)
    headings: list[tuple[Token, int, str, int]] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # each heading's text as a reader sees it (for anchors)
    title_heading: Token | None = None


def is_optional(text: str) -> bool:
    """Whether an item's text marks it optional ("(optional)", "(if using …)" …)."""
    return bool(_OPTIONAL.search(text))


def parse_document(data: bytes, source: str, rel_path: str) -> Checklist | Page:
    """Parse one Markdown file's bytes. ``source`` is the path shown in messages."""
    key_at = pem_private_key_at(data)
    if key_at is not None:  # a page is published (and indexed for search) as it is, code blocks and all
        raise SourceError("holds a PEM private key; every page under content/ is published, so keep keys "
                          "elsewhere (the default is .launchbook/keys/)", source, data.count(b"\n", 0, key_at) + 1)
    text, warnings = decode_source(data, source)
    repaired = repair_text(text, source)
    warnings.extend(repaired.warnings)
    front, body, offset = split_front_matter(repaired.text, source)
    warnings.extend(front.warnings)
    md = markdown()
    tokens, env, body, flattened = parse_bounded(md, body, source, offset, {PAGE: rel_path})
    warnings.extend(flattened)
    walk = _walk(tokens, offset)
    warnings.extend(lost_task_lines(body, tokens, {(raw.token.map or [0])[0] for raw in walk.items}, source, offset))
    title = front.title or (plain_text(_inline_after(tokens, walk.title_heading)) if walk.title_heading else "")
    title = title or PurePosixPath(rel_path).stem.replace("-", " ").replace("_", " ").strip().title()
    doc_id = front.id or document_id(rel_path)
    if front.id and not EXPLICIT_ID.match(front.id):
        raise SourceError(f"front matter id {front.id!r} may only use letters, digits and - _ . :", source, 2,
                          code="LB203")

    items, warnings_items = _finish_items(walk.items, front, source)
    warnings.extend(warnings_items)
    headings = _assign_anchors(walk, {new_id for _, new_id, _, _ in items})
    links = _rewrite_links(tokens, offset, {heading.anchor for heading in headings})
    if walk.title_heading is not None:
        _drop_heading(tokens, walk.title_heading)
    plain = _plain_body(tokens)
    common = dict(
        id=doc_id,
        title=title,
        source=source,
        rel_path=rel_path,
        description=front.description,
        tags=front.tags,
        owner=front.owner,
        plain_text=plain,
        headings=tuple(headings),
        warnings=tuple(warnings),
        sha256=hashlib.sha256(data).hexdigest(),
        links=tuple(links),
        nav_order=front.nav_order,
    )
    signoffs = [
        *[SignoffRole(raw.role, raw.line, "line", str(raw.token.attrGet("id") or "") or None)
          for raw in walk.items if raw.role],
        *table_signoffs(tokens, offset),
    ]
    signoffs.sort(key=lambda role: role.line)
    is_checklist = front.type == "checklist" or (front.type != "page" and (items or signoffs))
    if not is_checklist:
        _untask(walk.items)
        return Page(body_html=md.renderer.render(tokens, md.options, env), **common)  # type: ignore[arg-type]
    counts = _section_counts(walk)
    body_html = md.renderer.render(tokens, md.options, env)
    return Checklist(
        body_html=body_html,
        items=tuple(_item(pending, md, env) for pending in items),
        signoffs=tuple(signoffs),
        decisions=tuple(decisions(tokens, offset)),
        section_counts=counts,
        **common,  # type: ignore[arg-type]
    )


def _item(pending: _Pending, md: MarkdownIt, env: dict[str, object]) -> Item:
    """The item, with the HTML its text got in the page's render (rendered apart only if the page did not)."""
    raw, new_id, optional, parent = pending
    html = raw.inline.meta.get(ITEM_HTML)
    if not isinstance(html, str):
        renderer: Any = md.renderer
        html = renderer.renderInline(raw.inline.children or [], md.options, env)
    return Item(new_id, raw.text, html, raw.section, raw.depth, optional, raw.state, raw.line, parent, raw.command,
                raw.shell)


def _inline_after(tokens: list[Token], opening: Token | None) -> list[Token]:
    index = tokens.index(opening) if opening is not None else -1
    return (tokens[index + 1].children or []) if index >= 0 else []


def _walk(tokens: list[Token], offset: int) -> _Walk:
    walk = _Walk()
    h1s = [t for t in tokens if t.type == "heading_open" and t.tag == "h1"]
    first_heading = next((t for t in tokens if t.type == "heading_open"), None)
    if len(h1s) == 1 and first_heading is h1s[0]:
        walk.title_heading = h1s[0]
    sections: list[tuple[int, str, str]] = []  # (level, text, provisional key)
    stack: list[int | None] = []  # open list items: index into walk.items or None
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token is not walk.title_heading:
            level = int(token.tag[1])
            text = plain_text(tokens[index + 1].children)
            while sections and sections[-1][0] >= level:
                sections.pop()
            key = str(len(walk.headings))
            sections.append((level, text, key))
            walk.headings.append((token, level, text, (token.map or [0])[0] + 1 + offset))
            walk.shown.append(plain_text(tokens[index + 1].children, as_shown=True))
        elif token.type == "list_item_open":
            meta = token.meta or {}
            if "task" not in meta:
                stack.append(None)
                continue
            task_parents = [i for i in stack if i is not None]
            raw = _RawItem(
                token=token,
                inline=tokens[index + 2],
                line=(token.map or [0])[0] + 1 + offset,
                depth=len(task_parents) + 1,
                parent=task_parents[-1] if task_parents else None,
                section=tuple(s[1] for s in sections),
                anchors=tuple(s[2] for s in sections),
                state=ItemState(meta["task"]),
                attrs=list(meta.get("attrs", [])),
            )
            stack.append(len(walk.items))
            walk.items.append(raw)
        elif token.type == "list_item_close":
            stack.pop()
        elif token.type == "fence" and stack and stack[-1] is not None:
            owner = walk.items[stack[-1]]
            runnable = RUNNABLE.match(token.info.strip())
            if runnable and not owner.command:
                owner.command, owner.shell = token.content.rstrip("\n"), runnable.group(1)
    return walk


_Pending = tuple[_RawItem, str, bool, str | None]
"""An item before the page is rendered: its raw form, ID, whether optional, its parent's ID."""


def _finish_items(raws: list[_RawItem], front: FrontMatter, source: str) -> tuple[list[_Pending], list[Diagnostic]]:
    warnings: list[Diagnostic] = []
    explicit: dict[str, int] = {}
    for raw in raws:
        raw.text = plain_text(raw.inline.children)
        raw.inline.meta[ITEM_HTML] = None  # the page's render keeps the item's HTML here (one render, links rewritten)
        raw.role = signoff_role(raw.inline.content)
        for attr in raw.attrs:
            if attr.startswith("#"):
                wanted = attr[1:]
                if not EXPLICIT_ID.match(wanted):
                    raise SourceError(f"item ID {wanted!r} may only use letters, digits and - _ . :", source, raw.line,
                                      code="LB203")
                if wanted in explicit:
                    raise SourceError(
                        f"duplicate item ID {wanted!r} (first used on line {explicit[wanted]})", source, raw.line,
                        code="LB203",
                    )
                explicit[wanted] = raw.line
    occurrences: dict[tuple[tuple[str, ...], str], int] = {}
    used: dict[str, int] = {}
    ids: list[str] = []
    for raw in raws:
        asked = next((a[1:] for a in raw.attrs if a.startswith("#")), None)
        if raw.role:
            new_id = asked or f"signoff-{slugify(raw.role, 'role')}"
        elif asked:
            new_id = asked
        else:
            key = (tuple(normalise(s) for s in raw.section), normalise(raw.text))
            occurrences[key] = occurrences.get(key, 0) + 1
            new_id = item_id(raw.section, raw.text, occurrences[key])
        while new_id in used:
            new_id = f"{new_id}-{used[new_id] + 1}"
        used[new_id] = 1
        ids.append(new_id)
        raw.token.attrSet("id", new_id)
    items: list[_Pending] = []
    known_optional = set(front.optional)
    for raw, new_id in zip(raws, ids, strict=True):
        if raw.role:
            raw.token.meta["signoff"] = True
            continue
        if not raw.text:
            warnings.append(Diagnostic(source, raw.line, "empty checklist item", "LB201"))
        inherited = raw.parent is not None and raws[raw.parent].token.meta.get("optional", False)
        optional = ".required" not in raw.attrs and (
            ".optional" in raw.attrs
            or new_id in known_optional
            or is_optional(raw.text)
            or inherited
            or any(is_optional(heading) for heading in raw.section)
        )
        known_optional.discard(new_id)
        raw.token.meta["optional"] = optional
        parent = ids[raw.parent] if raw.parent is not None and not raws[raw.parent].role else None
        items.append((raw, new_id, optional, parent))
    for unknown in sorted(known_optional):
        warnings.append(Diagnostic(source, 2, f"front matter 'optional' names unknown item {unknown!r}", "LB303"))
    return items, warnings


def _assign_anchors(walk: _Walk, reserved: set[str]) -> list[Heading]:
    anchors = GithubAnchors(reserved)
    headings: list[Heading] = []
    mapping: dict[str, str] = {}
    for position, (token, level, text, line) in enumerate(walk.headings):
        anchor = anchors.take(walk.shown[position])
        token.attrSet("id", anchor)
        mapping[str(position)] = anchor
        headings.append(Heading(level, text, anchor, line))
    for raw in walk.items:
        raw.anchors = tuple(mapping[key] for key in raw.anchors)
    return headings


def _section_counts(walk: _Walk) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for raw in walk.items:
        if raw.role or raw.state is ItemState.NA:
            continue
        for anchor in raw.anchors:
            entry = counts.setdefault(anchor, [0, 0])
            entry[1] += 1
            entry[0] += raw.state is ItemState.DONE
    for token, *_ in walk.headings:
        heading_id = token.attrGet("id")
        if heading_id in counts:
            token.meta = {**(token.meta or {}), "count": tuple(counts[str(heading_id)])}
    return {anchor: (done, total) for anchor, (done, total) in sorted(counts.items())}


def _untask(raws: list[_RawItem]) -> None:
    for raw in raws:
        raw.token.meta.pop("task", None)


def _rewrite_links(tokens: list[Token], offset: int, anchors: set[str]) -> list[tuple[str, int]]:
    """Point links at ``.md`` sources to the ``.html`` pages they become; collect them as written.

    A link to a heading on the same page written in another case (``#Deploy-Steps``, which
    GitHub follows) points at the anchor itself, so it works without the site script.
    """
    links: list[tuple[str, int]] = []
    line = 0
    for token in tokens:
        if token.map:
            line = token.map[0] + 1 + offset
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            if not href or _SCHEME.match(href) or href.startswith("//"):
                continue
            links.append((href, line))  # as written: messages name what the author wrote
            path, hash_, fragment = href.partition("#")
            if not path and fragment not in anchors and unquote(fragment).lower() in anchors:
                fragment = unquote(fragment).lower()
                child.attrSet("href", "#" + fragment)
            published = published_href(path)
            if published != path:
                child.attrSet("href", published + hash_ + fragment)
    return links


def published_href(path: str) -> str:
    """A link's path (and query) as the site has it: a ``.md`` source becomes the ``.html`` page
    made from it (``deploy.md?tab=1`` too)."""
    base, mark, query = path.partition("?")
    return (base[:-3] + ".html" if base.endswith(".md") else base) + mark + query


def _drop_heading(tokens: list[Token], opening: Token) -> None:
    index = tokens.index(opening)
    del tokens[index : index + 3]


def _plain_body(tokens: list[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type == "inline":
            parts.append(plain_text(token.children))
        elif token.type in ("fence", "code_block"):
            parts.append(token.content.strip())
    return " ".join(" ".join(parts).split())
