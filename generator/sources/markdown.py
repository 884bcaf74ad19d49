"""The one Markdown parser launchbook uses, with its task-item rule and safe renderer.

Task state is kept as data on tokens (``list_item_open.meta["task"]``), never scraped
back out of HTML. The renderer reads IDs and counts that the checklist stage stores on
tokens (``attrs["id"]``, ``meta``). Raw HTML from sources goes through
:mod:`generator.sources.sanitize`: what GitHub shows renders, the rest is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt, rules_block
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers._mapping import LEXERS
from pygments.util import ClassNotFound

from generator.sources.bounds import MAX_NESTING, bounded_table
from generator.sources.sanitize import PHRASING, Part, clean, image_src_allowed, is_rendered

# GitHub's checkbox: "[ ]", "[x]" or "[X]" (and our "[~]"), then a space, tab, vertical tab or form feed.
_TASK = re.compile(r"^\[([ xX~])\][ \t\v\f]+(?=\S)")
_ATTRS = re.compile(r"[ \t]*\{[ \t]*((?:(?:#[A-Za-z0-9][\w:.-]*|\.[A-Za-z][\w-]*)[ \t]*)+)\}[ \t]*$")
_STATES = {" ": "open", "x": "done", "X": "done", "~": "na"}
_STATE_LABELS = {"open": "Open", "done": "Done", "na": "Not applicable"}
PAGE = "launchbook_page"  # env key: the content path of the page being rendered (for relative images)


def _task_rule(state: StateCore) -> None:
    """Mark list items that start with ``[ ]``, ``[x]``, ``[X]`` or ``[~]`` as tasks.

    Runs after block parsing and before inline parsing, so the checkbox and any trailing
    ``{#id .optional}`` attribute block are removed from the inline source. An item whose
    first block became a setext heading (``- [x] text`` over a line ``-`` or ``===``, an
    empty sub-item as written) is a task on GitHub: the heading is made its paragraph.
    """
    tokens = state.tokens
    for index, token in enumerate(tokens[:-3]):
        if token.type != "list_item_open":
            continue
        block, inline = tokens[index + 1], tokens[index + 2]
        setext = block.type == "heading_open" and block.markup in ("-", "=")
        if (block.type != "paragraph_open" and not setext) or inline.type != "inline":
            continue
        match = _TASK.match(inline.content)
        if not match:
            continue
        if setext:
            for part, kind in ((block, "paragraph_open"), (tokens[index + 3], "paragraph_close")):
                part.type, part.tag, part.markup = kind, "p", ""
        content = inline.content[match.end() :]
        attrs: list[str] = []
        lines = content.split("\n")
        for number in (len(lines) - 1, 0):
            attr_match = _ATTRS.search(lines[number])
            if attr_match:
                attrs = attr_match.group(1).split()
                lines[number] = lines[number][: attr_match.start()]
                break
        content = "\n".join(lines)
        inline.content = content
        token.meta = {**(token.meta or {}), "task": _STATES[match.group(1)], "attrs": attrs}


_BUILT_IN_ALIASES = frozenset(alias for _, _, aliases, _, _ in LEXERS.values() for alias in aliases)
"""Pygments' own lexer names. A name outside them would make Pygments scan every installed
package's entry points for plugin lexers (importing IPython and the like: ~0.5 s per build)
and let whatever plugins happen to be installed change the output: such code stays plain."""


def _highlight(code: str, lang: str, _attrs: Any) -> str:
    # markdown-it splits the info string on CommonMark's whitespace; Python's str.split() also
    # splits on control characters (U+001C-U+001F, U+0085), so an info string of one of those
    # has no words at all: it is plain code.
    words = lang.split() if lang else []
    if not words:
        return f"<pre><code>{escapeHtml(code)}</code></pre>" if lang else ""
    name = words[0]
    if name.lower() not in _BUILT_IN_ALIASES:
        return ""
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return ""
    formatter = HtmlFormatter(nowrap=True)
    return f'<pre class="highlight"><code class="language-{escapeHtml(name)}">' + pygments_highlight(
        code, lexer, formatter
    ) + "</code></pre>\n"


def _heading_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return self.renderToken(tokens, idx, options, env)


def _heading_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    opening = tokens[idx - 2]
    anchor = opening.attrGet("id")
    extra = ""
    count = (opening.meta or {}).get("count")
    if count:
        done, total = count
        extra += f' <span class="section-count" title="{done} of {total} items done">{done}/{total}</span>'
    if anchor:
        extra += (
            f'<a class="anchor" href="#{escapeHtml(str(anchor))}" '
            f'aria-label="Permalink to this section">#</a>'
        )
    return extra + f"</{tokens[idx].tag}>\n"


def _list_item_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    meta = token.meta or {}
    if "task" not in meta:
        return self.renderToken(tokens, idx, options, env)
    state = meta["task"]
    classes = ["lb-item", f"state-{state}"]
    if meta.get("optional"):
        classes.append("optional")
    if meta.get("signoff"):
        classes.append("signoff")
    item_id = escapeHtml(str(token.attrGet("id") or ""))
    label = _STATE_LABELS[state]
    html = f'<li class="{" ".join(classes)}" id="{item_id}" data-item="{item_id}">'
    html += f'<span class="box" role="img" aria-label="{label}" title="{label}"></span>'
    html += f'<a class="anchor item-link" href="#{item_id}" aria-label="Link to this item">#</a>'
    if meta.get("optional"):
        html += '<span class="badge optional-badge">optional</span>'
    if meta.get("signoff"):
        html += '<span class="badge signoff-badge">sign-off</span>'
    else:
        html += f"<!--lb:history:{item_id}-->"  # filled in by the site build from run history
    return html


def _page(env: Any) -> str:
    return str((env or {}).get(PAGE, "")) if isinstance(env, dict) else ""


def _html_block(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    # A block nested in a list or quote: sanitized on its own, so its tags close inside it.
    # Top-level blocks are sanitized together by SafeRenderer.render.
    return clean([Part(tokens[idx].content, raw=True)], _page(env))


def _html_inline(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    # Reached only for tags that do not render (SafeRenderer.renderInline takes the others).
    content = tokens[idx].content
    if content.startswith("<!--"):
        return ""
    return escapeHtml(content)


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    token = tokens[idx]
    if not image_src_allowed(str(token.attrGet("src") or ""), _page(env)):
        return escapeHtml(plain_text(token.children))  # the alt text, as GitHub shows a refused image
    return str(self.image(tokens, idx, options, env))


ITEM_HTML = "launchbook_item_html"
"""An inline token's meta key: set (to ``None``) on a checklist item's text, filled with its HTML
when the page is rendered, so an item's HTML is the page's (links rewritten) and made once."""


class SafeRenderer(RendererHTML):
    """markdown-it's HTML renderer, with raw HTML sanitized across the tokens it spans.

    ``<details>`` opened in one HTML block and closed in another wraps the Markdown between
    them, as on GitHub; ``<kbd>`` … ``</kbd>`` inside a line wraps the text between.
    """

    def render(self, tokens: Sequence[Token], options: OptionsDict, env: Any) -> str:
        if not any(token.type == "html_block" and token.level == 0 for token in tokens):  # nothing raw to clean
            return "".join([self._one(tokens, index, options, env) for index in range(len(tokens))])
        parts: list[Part] = []
        for index, token in enumerate(tokens):
            if token.type == "html_block" and token.level == 0:
                parts.append(Part(token.content, raw=True))
            else:
                parts.append(Part(self._one(tokens, index, options, env), raw=False))
        return clean(parts, _page(env))

    def renderInline(self, tokens: Sequence[Token], options: OptionsDict, env: Any) -> str:
        if not any(token.type == "html_inline" for token in tokens):  # nothing raw to clean: the parts joined
            return "".join([self._one(tokens, index, options, env) for index in range(len(tokens))])
        parts = [
            Part(token.content, raw=True)
            if token.type == "html_inline" and is_rendered(token.content, PHRASING)
            else Part(self._one(tokens, index, options, env), raw=False)
            for index, token in enumerate(tokens)
        ]
        return clean(parts, _page(env), PHRASING)

    def _one(self, tokens: Sequence[Token], index: int, options: OptionsDict, env: Any) -> str:
        token = tokens[index]
        if token.type == "inline":
            html = self.renderInline(token.children or [], options, env)
            if ITEM_HTML in token.meta:  # a checklist item's text: kept for its Item
                token.meta[ITEM_HTML] = html
            return html
        if token.type in self.rules:
            return str(self.rules[token.type](tokens, index, options, env))
        return self.renderToken(tokens, index, options, env)


def _table_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return '<div class="table-wrap">' + self.renderToken(tokens, idx, options, env)


def _table_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    """Return the shared parser: CommonMark + tables + strikethrough + task items.

    Strikethrough is GitHub's: ``~text~`` and ``~~text~~``, three or more tildes are text.
    Raw HTML is *recognised* (so task lines inside HTML blocks and comments do not
    count); comments are dropped, what GitHub renders is sanitized, the rest is escaped.
    """
    md = MarkdownIt(
        "commonmark",
        {"html": True, "highlight": _highlight, "typographer": False, "strikethrough_single_tilde": True,
         "maxNesting": MAX_NESTING},
        renderer_cls=SafeRenderer,
    )
    md.enable(["table", "strikethrough"])
    md.block.ruler.at("table", bounded_table(rules_block.table), {"alt": ["paragraph", "reference"]})
    md.core.ruler.after("block", "launchbook_tasks", _task_rule)
    md.add_render_rule("heading_open", _heading_open)
    md.add_render_rule("heading_close", _heading_close)
    md.add_render_rule("list_item_open", _list_item_open)
    md.add_render_rule("html_block", _html_block)
    md.add_render_rule("html_inline", _html_inline)
    md.add_render_rule("image", _image)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    return md


def plain_text(children: Sequence[Token] | None, *, as_shown: bool = False) -> str:
    """Inline tokens -> plain text: markup dropped, code and image alt text kept.

    Raw HTML tags are kept as written (item IDs and section names are computed from this
    text, so they stay what they were); ``as_shown`` drops the tags that render, giving the
    text a reader sees, with its whitespace as written (what GitHub makes heading anchors from).
    """
    parts: list[str] = []
    for token in children or ():
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type == "html_inline" and not token.content.startswith("<!--"):
            if not (as_shown and is_rendered(token.content, PHRASING)):
                parts.append(token.content)  # shown literally (escaped) on the page, so keep it
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n" if as_shown else " ")
        elif token.type == "image":
            parts.append(plain_text(token.children, as_shown=as_shown))
    return "".join(parts).strip() if as_shown else " ".join("".join(parts).split())


def pygments_css() -> str:
    """Stylesheet for highlighted code: light by default, dark under ``.dark``/media."""
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(":root[data-theme=dark] .highlight")
    return f"{light}\n{dark}\n"
