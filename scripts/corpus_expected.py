"""GitHub's task items for every file of the real-world corpus -> tests/corpus/expected.json.

The reference is cmark-gfm, the C library GitHub renders Markdown with, through the ``cmarkgfm``
bindings (pinned in constraints/test.txt), with GitHub's extensions: table, strikethrough,
autolink, tagfilter and tasklist. For each ``tests/corpus/**/*.md`` file it records every task
item GitHub shows as a checkbox, in document order, as ``[line, checked, depth, text]``:

- ``line``: the 1-based source line the list item starts on (cmark's ``data-sourcepos``);
- ``checked``: ``true`` for ``[x]``/``[X]``, ``false`` for ``[ ]``;
- ``depth``: 1 + the number of enclosing *task* items (plain list items in between do not count,
  the same definition launchbook's ``Item.depth`` uses);
- ``text``: the plain text of the item's first paragraph (nested lists and later paragraphs
  excluded, image alt text kept, raw HTML dropped), normalised by :func:`normalise_text`.

YAML front matter (a first line ``---`` up to the next ``---`` or ``...`` line) is blanked
before rendering, as GitHub shows it as a table and not as Markdown; blank lines keep the line
numbers. Run from the repository root after adding or changing a corpus file::

    python3 scripts/corpus_expected.py           # rewrite tests/corpus/expected.json
    python3 scripts/corpus_expected.py --check   # exit 1 if the file is out of date

tests/test_corpus.py checks that the file is up to date and compares launchbook's items to it.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
EXPECTED = CORPUS / "expected.json"
EXTENSIONS = ["table", "strikethrough", "autolink", "tagfilter", "tasklist"]
_BLOCKS = {"p", "ul", "ol", "pre", "blockquote", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "div"}
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.S)
_FENCE_END = {"---", "..."}

Item = tuple[int, bool, int, str]


def normalise_text(text: str) -> str:
    """The comparison form of an item's text, applied to both cmark-gfm's and launchbook's text.

    HTML tags and comments are removed (GitHub renders inline HTML, launchbook shows it
    literally), entities decoded, and every run of whitespace (NBSP included) becomes one space.
    """
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def blank_front_matter(text: str) -> str:
    """Replace a leading YAML front matter block by empty lines (line numbers stay)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return text
    for end in range(1, len(lines)):
        if lines[end].rstrip() in _FENCE_END:
            return "\n" * end + "\n" + "\n".join(lines[end + 1 :])
    return text


class _TaskCollector(HTMLParser):
    """Walks cmark-gfm's HTML (with source positions) and collects the task items."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[list[object]] = []
        self._stack: list[dict[str, object]] = []  # open <li>s
        self._capture: dict[str, object] | None = None  # the task <li> whose text is being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self._capture is not None:
            cap = self._capture
            if tag == "p" and not cap["started"] and not "".join(cap["parts"]).strip():  # type: ignore[arg-type]
                cap["started"] = True
                cap["in_p"] = True
                return
            if tag in _BLOCKS or tag == "li":
                self._finish_capture()
            elif tag == "img":
                cap["parts"].append(attributes.get("alt") or "")  # type: ignore[union-attr]
        if tag == "li":
            line = int(str(attributes.get("data-sourcepos", "0:0")).split(":")[0])
            self._stack.append({"line": line, "task": False})
        elif tag == "input" and attributes.get("type") == "checkbox" and self._stack:
            li = self._stack[-1]
            if not li["task"] and self._capture is None:
                li["task"] = True
                depth = sum(1 for entry in self._stack if entry["task"])
                li["item"] = [li["line"], "checked" in attributes, depth, ""]
                self.items.append(li["item"])  # type: ignore[arg-type]
                self._capture = {"li": li, "parts": [], "started": False, "in_p": False}

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._capture is not None:
            if (tag == "p" and self._capture["in_p"]) or tag == "li":
                self._finish_capture()
        if tag == "li" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture["parts"].append(data)  # type: ignore[union-attr]

    def _finish_capture(self) -> None:
        cap = self._capture
        assert cap is not None
        item = cap["li"]["item"]  # type: ignore[index]
        item[3] = normalise_text("".join(cap["parts"]))  # type: ignore[arg-type,index]
        self._capture = None


def github_items(data: bytes) -> list[Item]:
    """GitHub's task items of one Markdown file's bytes."""
    text = blank_front_matter(data.decode("utf-8", errors="replace").replace("\r\n", "\n"))
    rendered = cmarkgfm.markdown_to_html_with_extensions(text, options=Options.CMARK_OPT_SOURCEPOS,
                                                         extensions=EXTENSIONS)
    collector = _TaskCollector()
    collector.feed(rendered)
    collector.close()
    return [(int(i[0]), bool(i[1]), int(i[2]), str(i[3])) for i in collector.items]  # type: ignore[call-overload]


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".md", ".markdown")
                  and p.name != "SOURCES.md")


def expected_text() -> str:
    """The full, deterministic text of expected.json."""
    files = {
        path.relative_to(CORPUS).as_posix(): [list(item) for item in github_items(path.read_bytes())]
        for path in corpus_files()
    }
    document = {
        "generator": "scripts/corpus_expected.py",
        "cmarkgfm": version("cmarkgfm"),
        "extensions": EXTENSIONS,
        "item": ["line", "checked", "depth", "text"],
        "files": dict(sorted(files.items())),
    }
    # One item a line: small diffs when a file or the renderer changes.
    head = json.dumps({k: v for k, v in document.items() if k != "files"}, ensure_ascii=False)[:-1]
    blocks = []
    for rel, items in document["files"].items():
        rows = ",\n".join(f"   {json.dumps(item, ensure_ascii=False)}" for item in items)
        blocks.append(f" {json.dumps(rel, ensure_ascii=False)}: [\n{rows}\n ]" if items else f" {json.dumps(rel)}: []")
    return head + ', "files": {\n' + ",\n".join(blocks) + "\n}}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if expected.json is out of date")
    args = parser.parse_args(argv)
    text = expected_text()
    if args.check:
        current = EXPECTED.read_text(encoding="utf-8") if EXPECTED.exists() else ""
        if current != text:
            print(f"{EXPECTED.relative_to(ROOT)} is out of date: run python3 scripts/corpus_expected.py",
                  file=sys.stderr)
            return 1
        return 0
    EXPECTED.write_text(text, encoding="utf-8")
    files = json.loads(text)["files"]
    print(f"{len(files)} files, {sum(len(v) for v in files.values())} task items -> {EXPECTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
