"""What GitHub shows, launchbook shows: raw HTML GitHub allows, ``~strike~``, GitHub's heading anchors.

The reference is cmark-gfm (GitHub's renderer, via ``cmarkgfm``) for Markdown and HTML, and
``github-slugger`` (the npm package replicating GitHub's anchor filter, run under node) for
heading anchors. The security rules win over fidelity: anything outside the allowed set is
shown as text, never executed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from click.testing import Result

from generator.model import Checklist
from generator.sources.anchors import github_slug
from generator.sources.ids import item_id
from generator.sources.sanitize import image_src_allowed
from tests.helpers import parse, parse_checklist

_OURS_ONLY = ("anchor", "box", "badge", "section-count")


class _Shape(HTMLParser):
    """Elements and text of rendered HTML, without launchbook's own additions (permalinks, boxes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if self._skip or any(name in classes for name in _OURS_ONLY):
            self._skip += tag not in ("br", "img", "input", "hr", "wbr")
            return
        if tag == "input" or "table-wrap" in classes:
            return
        kept = sorted((k, v or "") for k, v in attrs if k in ("href", "src", "alt", "open", "align", "title"))
        self.events.append(f"<{'del' if tag == 's' else tag} {kept}>" if kept else f"<{'del' if tag == 's' else tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            self._skip -= 1
        elif tag not in ("input", "br", "img"):
            self.events.append(f"</{'del' if tag == 's' else tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.events.append(" ".join(data.split()))


def shape(html: str) -> list[str]:
    parser = _Shape()
    parser.feed(html)
    parser.close()
    return [e for e in parser.events if e not in ("<div>", "</div>")]


def github(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)


def ours(markdown: str) -> str:
    return parse(markdown).body_html


SAME_AS_GITHUB = {
    "kbd": "Press <kbd>Ctrl</kbd>+<kbd>C</kbd> to copy.\n",
    "br": "line one<br>line two<br/>line three\n",
    "sub-sup": "H<sub>2</sub>O and E=mc<sup>2</sup>\n",
    "ins-del-mark-abbr": '<ins>new</ins> <del>old</del> <mark>hi</mark> <abbr title="HyperText">HTML</abbr>\n',
    "strikethrough": "~one~ and ~~two~~ and ~~~three~~~ and ~a~~ and x~y~z\n",
    "image": 'Logo <img src="https://example.com/a.png" alt="logo"> here\n',
    "link": '<a href="https://example.com/">site</a> and <a href="mailto:ops@example.com">mail</a>\n',
    "centered": '<p align="center">centered <b>bold</b></p>\n\nafter\n',
    "details-block": "<details>\n<summary>More</summary>\n\nHidden *text*.\n\n</details>\n\nAfter.\n",
    "details-open": "<details open>\n<summary>Shown</summary>\n\nBody\n\n</details>\n",
    "details-tasks": "<details>\n<summary>Steps</summary>\n\n- [ ] one\n- [x] two\n\n</details>\n",
    "details-tight": "<details>\n<summary>Tight</summary>\n- [ ] not an item\n</details>\n",
    "item-br": "- [ ] first line<br>second line\n- [x] <kbd>Esc</kbd> closes\n",
    "table-br": "| a | b |\n|---|---|\n| x<br>y | <sup>1</sup> |\n",
}


@pytest.mark.parametrize("name", sorted(SAME_AS_GITHUB))
def test_renders_like_cmark_gfm(name: str) -> None:
    source = SAME_AS_GITHUB[name]
    assert shape(ours(source)) == shape(github(source))


def test_br_inside_an_item_is_a_line_break_and_the_item_id_is_unchanged() -> None:
    checklist = parse_checklist("- [ ] Drain the node<br>then cordon it\n")
    (item,) = checklist.items
    assert "<br>" in item.html and "&lt;br&gt;" not in checklist.body_html
    assert item.id == item_id((), "Drain the node<br>then cordon it")  # the ID it had before


def test_task_list_inside_details_counts_and_renders_inside_the_details() -> None:
    checklist = parse_checklist(SAME_AS_GITHUB["details-tasks"] + SAME_AS_GITHUB["details-tight"])
    assert [item.text for item in checklist.items] == ["one", "two"]
    first = checklist.body_html.split("</details>")[0]
    assert "<details>" in first and 'class="lb-item state-open"' in first and 'state-done' in first
    assert "- [ ] not an item" in checklist.body_html


DISALLOWED = ("script", "iframe", "svg", "math", "object", "form", "input", "style", "textarea", "embed",
              "video", "audio", "base", "link", "meta", "frame", "noscript", "template", "select", "button")


@pytest.mark.parametrize("tag", DISALLOWED)
@pytest.mark.parametrize("where", ["inline", "block", "item"])
def test_elements_github_refuses_are_shown_as_text(tag: str, where: str) -> None:
    raw = f'<{tag} onload="alert(1)">x</{tag}>'
    source = {"inline": f"Text {raw} end\n", "block": f"<div>\n{raw}\n</div>\n", "item": f"- [ ] do {raw}\n"}[where]
    body = parse(source).body_html
    assert f"&lt;{tag} onload=&quot;alert(1)&quot;&gt;" in body or f"&lt;{tag} onload=\"alert(1)\"&gt;" in body
    assert f"<{tag}" not in body


@pytest.mark.parametrize("html,refused", [
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>', "alert"),
    ('<a href="data:text/html,x">x</a>', "data:"),
    ('<a href="vbscript:x">x</a>', "vbscript"),
    ('<a href="file:///etc/passwd">x</a>', "file:"),
    ('<img src="javascript:alert(1)">', "javascript"),
    ('<img src="data:image/svg+xml,x">', "data:"),
    ('<img src="/etc/passwd">', "passwd"),
    ('<img src="../../../x.png">', "x.png"),
    ('<img src="%2e%2e/%2e%2e/x.png">', "x.png"),
    ('<img src="//evil.example/x.png">', "evil"),
    ('<details open ontoggle="alert(1)"><summary>s</summary>b</details>', "ontoggle"),
    ('<kbd style="background:url(https://evil.example/)">k</kbd>', "style"),
    ('<kbd class="lb-item" id="freeze" name="LAUNCHBOOK_SEARCH">k</kbd>', "lb-item"),
    ('<sup onmouseover="alert(1)">1</sup>', "onmouseover"),
])
def test_allowed_elements_lose_what_is_refused(html: str, refused: str) -> None:
    for source in (f"Text {html}\n", f"<div>\n{html}\n</div>\n", f"- [ ] do {html}\n"):
        body = parse(source, "ops/doc.md").body_html
        elements = _Attributes()
        elements.feed(body)
        assert elements.tags and refused.lower() not in repr(elements.attributes).lower(), (source, body)
        assert not {name for _, name, _ in elements.attributes} & {"style", "class", "id", "name"} \
            or "lb-item" not in html, body


class _Attributes(HTMLParser):
    """Elements and attributes that came from the source (launchbook's item markup left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("ul", "li", "p", "div") or any(name in classes for name in _OURS_ONLY):
            return
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def test_markdown_images_follow_the_image_rule() -> None:
    body = parse("![ok](https://example.com/a.png) ![local](pic.png) ![disk](/etc/x.png) ![up](../../x.png)\n",
                 "ops/doc.md").body_html
    assert 'src="https://example.com/a.png"' in body and 'src="pic.png"' in body
    assert "/etc/x.png" not in body and "../../x.png" not in body and "disk" in body and "up" in body


@pytest.mark.parametrize("src,page,allowed", [
    ("https://example.com/a.png", "doc.md", True), ("HTTP://x/a.png", "doc.md", True),
    ("pic.png", "doc.md", True), ("../pic.png", "ops/doc.md", True), ("../pic.png", "doc.md", False),
    ("/pic.png", "doc.md", False), ("//host/pic.png", "doc.md", False), ("..\\pic.png", "ops/doc.md", False),
    ("%2e%2e/pic.png", "doc.md", False), ("file:///etc/passwd", "doc.md", False), ("data:image/png;base64,AA", "doc.md", False),
    ("ftp://x/a.png", "doc.md", False), ("java\nscript:alert(1)", "doc.md", False),
])
def test_image_sources(src: str, page: str, allowed: bool) -> None:
    assert image_src_allowed(src, page) is allowed


class _Balance(HTMLParser):
    VOID = {"br", "img", "hr", "wbr", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> with {self.stack}")
        else:
            self.stack.pop()


@pytest.mark.parametrize("source", [
    "<details><summary>never closed\n\n- [ ] item\n\nafter\n",
    "</div></main></body>\n\ntext\n",
    "- [ ] a <details><summary>x\n- [ ] b </kbd></li></ul>\n",
    "Text \ue0000\ue001 and <kbd>\ue0001\ue001</kbd>\n\n<div>\ue0000\ue001\n",
    "<table>\n<tr><td>\n\n- [ ] inside a raw table\n\n</td></tr>\n</table>\n",
])
def test_raw_html_cannot_unbalance_the_page(source: str) -> None:
    document = parse(source)
    checker = _Balance()
    checker.feed(document.body_html)
    assert checker.errors == [] and checker.stack == [], document.body_html
    assert document.body_html.count("\ue000") == source.split("<div>")[0].count("\ue000")  # text stays text
    if isinstance(document, Checklist):
        for item in document.items:
            assert f'id="{item.id}"' in document.body_html


HEADINGS = [
    "Deploy steps", "🚀 Launch prep", "✅ Done", "A / B -> C", "Before", "Before", "Before", "before-1",
    "日本語の見出し", "Café crème", "Ünïcödé Straße", "What's new? (2024)", "snake_case & kebab-case",
    "  Spaces  around  ", "C++ / C#", "Ⓐ circled", "100% done!", "ÉCOLE", "Ελληνικά", "Русский заголовок",
    "emoji 👩‍💻 in the middle", "dots...and—dashes–", "tab\there", "x²", "Ⅻ roman", "`code` and [link](x)",
    "Step<br>two <kbd>Esc</kbd>",
]
# What GitHub's anchor filter reads: the heading's text as shown (Markdown and rendered tags gone).
SHOWN = {"`code` and [link](x)": "code and link", "Step<br>two <kbd>Esc</kbd>": "Steptwo Esc"}


def test_heading_anchors_follow_githubs_rule() -> None:
    document = parse("\n".join(f"## {heading}\n" for heading in HEADINGS))
    anchors = [heading.anchor for heading in document.headings]
    assert anchors[:9] == ["deploy-steps", "-launch-prep", "-done", "a--b---c", "before", "before-1", "before-2",
                           "before-1-1", "日本語の見出し"]
    assert github_slug("Café crème") == "café-crème" and github_slug("C++ / C#") == "c--c"


def _slugger() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed (scripts/test installs them)")
    folder = Path("/tmp/launchbook-github-slugger")
    if not (folder / "node_modules" / "github-slugger").is_dir():
        folder.mkdir(exist_ok=True)
        install = subprocess.run(["npm", "install", "--prefix", str(folder), "github-slugger@2.0.0"],
                                 capture_output=True, text=True, timeout=120, check=False)
        if install.returncode != 0:
            pytest.skip(f"cannot install github-slugger: {install.stderr[-200:]}")
    return folder


def test_heading_anchors_match_github_slugger() -> None:
    folder = _slugger()
    script = ("import GithubSlugger from 'github-slugger';const s=new GithubSlugger();"
              "let d='';process.stdin.on('data',c=>d+=c).on('end',()=>"
              "process.stdout.write(JSON.stringify(JSON.parse(d).map(h=>s.slug(h)))))")
    shown = [SHOWN.get(heading, heading) for heading in HEADINGS]
    node = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(shown), cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False)
    assert node.returncode == 0, node.stderr
    document = parse("\n".join(f"## {heading}\n" for heading in HEADINGS))
    # Markdown trims the heading text (GitHub's text content is trimmed the same way).
    expected = json.loads(node.stdout)
    expected[HEADINGS.index("  Spaces  around  ")] = "spaces--around"  # Markdown strips the ends of a heading
    assert [heading.anchor for heading in document.headings] == expected


def test_anchor_links_written_for_github_resolve(write_project: Callable[..., Path],
                                                 run_cli: Callable[..., Result]) -> None:
    project = write_project({
        "content/index.md": "# Home\n\nGo to [launch](ops/deploy.md#-launch-prep), [Steps](ops/deploy.md#Deploy-Steps)"
                            " and [missing](ops/deploy.md#nowhere).\n",
        "content/ops/deploy.md": "# Deploy\n\n[top](#-launch-prep) [dup](#before-1) [path](#a--b---c) "
                                 "[case](#Before)\n\n## 🚀 Launch prep\n\n- [ ] Go\n\n## Deploy Steps\n\n"
                                 "## Before\n\n## Before\n\n## A / B -> C\n",
    })
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    broken = [line for line in result.output.splitlines() if "broken link" in line]
    assert len(broken) == 1 and "#nowhere" in broken[0], result.output
    page = (project / "output" / "ops" / "deploy.html").read_text(encoding="utf-8")
    for anchor in ("-launch-prep", "deploy-steps", "before", "before-1", "a--b---c"):
        assert f'id="{anchor}"' in page
    assert 'href="#before"' in page  # a same-page link in another case points at the anchor itself
