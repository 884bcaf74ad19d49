"""Hostile strings in every field a user controls: the built site shows them as text.

One project puts the same attack strings into the site title and description, front matter
(title, description, owner, tags), headings, item text, sign-off roles, file and folder
names, and — through the CLI — every run field (release, change, change URL, environment,
operator, summary, who, note, evidence URL, sign-off role, name, meaning, comment). Every
output file is then read back with a real HTML parser (for .html) or as data (.js, .json,
.xml), and must hold no element, attribute or URL the theme did not put there, and nothing
that was evaluated as a template.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from click.testing import Result

# Every attack, each tagged with a marker so a hit can be traced back to its field.
ATTACKS = (
    '<img src=x onerror=alert(1)>',
    '"\'><svg onload=alert(2)>',
    'Z{{ 7*7 }}Z',
    'Q{{ 777*777 }}Q',
    '{% raw %}',
    '{# c #}',
    'javascript:alert(3)',
    '</script><script>alert(4)</script>',
    '\u202eexe.txt',
    '[x](javascript:alert(5))',
)
HOSTILE = " ".join(ATTACKS)
# A version without characters a file name or a YAML plain scalar cannot hold.
FILE_HOSTILE = "<img src=x onerror=alert(1)> {{ 7*7 }} \u202eexe"
JS_FILE = "javascript:alert(9)"
HOSTILE_URL = "https://tickets.example.com/?q=\"'><svg onload=alert(12)><img src=x onerror=alert(13)>"
ROLE = "<svg onload=alert(6)>Lead"
# Raw HTML whose element GitHub renders, with what must not survive on it (handlers, script
# URLs, style, images from the reader's disk), and elements that must stay text.
ALLOWED_HTML = (
    '<img src=javascript:alert(16)> <img src="/etc/passwd"> <img src="../../../../x.png"> '
    '<img src="file:///etc/passwd"> <img src="//evil.example/x.png"> <img src="..\\..\\x.png"> '
    '<img src="%2e%2e/%2e%2e/x.png"> <img src="data:image/svg+xml,<svg onload=alert(17)>"> '
    '<a href=javascript:alert(18)>a</a> <a href=" JaVaScRiPt:alert(19)">b</a> '
    '<a href="data:text/html,<script>alert(20)</script>">c</a> <a href="vbscript:x">d</a> '
    '<details open ontoggle=alert(21)><summary onclick=alert(22) style="background:url(https://evil.example/)">s'
    '</summary>x</details> <kbd style="position:fixed" class="lb-item" id="hostile">k</kbd> '
    '<sup onmouseover=alert(23)>1</sup> <br onload=alert(24)> <form action=javascript:alert(25)><input '
    'type=checkbox onclick=alert(26)></form> <math><mi xlink:href=javascript:alert(27)>m</mi></math> '
    '<object data=x.swf></object> <iframe srcdoc="<script>alert(28)</script>"></iframe> <style>*{}</style>'
)
NUL = "nul\x00byte bell\x07 esc\x1b[31m"

EVALUATED = ("Z49Z", "Q603729Q")
THEME_INLINE_SCRIPT = 'try{var t=localStorage.getItem("launchbook-theme")'
SITE_ROOT = r"((\.\./)*|https://runbooks\.example\.com/)"
"""Where the theme's links start: relative, or (the 404 page, answered at any depth) the base URL."""
THEME_LINK_HREF = re.compile(
    rf"^{SITE_ROOT}(assets/[\w.-]+\.(css|svg|png|ico)|assets/fonts/noto-emoji/noto-emoji\.css|[\w.-]+\.(xml|json))$")
THEME_SCRIPT_SRC = re.compile(rf"^{SITE_ROOT}assets/(launchbook|runs-index)\.js$")


def yaml(value: str) -> str:
    """A YAML double-quoted scalar (JSON is YAML; \\u0000 becomes a NUL character)."""
    return json.dumps(value)


def project_files() -> dict[str, str]:
    front = f"""---
title: {yaml(HOSTILE)}
id: deploy
description: {yaml(HOSTILE + " " + NUL)}
owner: {yaml(HOSTILE)}
tags: [{yaml(HOSTILE)}, {yaml(ATTACKS[1])}]
---
"""
    body = f"""# {HOSTILE}

<img src=x onerror=alert(14)>

<div onclick="alert(15)">
{HOSTILE}
</div>

Intro {HOSTILE} and a [link](javascript:alert(7)) and <a href="javascript:alert(8)">raw</a>.

<details ontoggle=alert(29) open>
<summary>{ALLOWED_HTML}</summary>

- [ ] Inside details {ALLOWED_HTML} {{#in-details}}

{ALLOWED_HTML}
</details>

<details><summary>never closed

## Before {HOSTILE}

- [ ] {HOSTILE} {{#hostile}}
  - [ ] Nested {HOSTILE}
- [ ] Plain item {{#plain}}

### {ATTACKS[7]}

- [ ] {ATTACKS[0]} {{#img}}

```{ATTACKS[0]}
{HOSTILE}
```

| Role | Name | Signature | Date |
|------|------|-----------|------|
| {ROLE} | | | |
"""
    return {
        "content/site.yml": f"title: {yaml(HOSTILE)}\ndescription: {yaml(HOSTILE + ' ' + NUL)}\n"
                            f"base_url: https://runbooks.example.com/\n",
        "content/index.md": f"---\ntitle: {yaml(HOSTILE)}\n---\nWelcome {HOSTILE}, see [deploy](ops/deploy.md).\n",
        "content/ops/deploy.md": front + body,
        f"content/{FILE_HOSTILE}/{FILE_HOSTILE}.md": f"# Page {HOSTILE}\n\n- [ ] Item in a hostile file\n",
        "content/guides/plain.md": f"---\ntitle: {yaml('Guide ' + HOSTILE)}\n---\n## {HOSTILE}\n\nText {HOSTILE}.\n",
    }


class _Scan(HTMLParser):
    """Everything a browser would make of a page: start tags, attributes, script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _harmless_meta(attrs: list[tuple[str, str | None]]) -> bool:
    names = {name for name, _ in attrs}
    return "http-equiv" not in names or dict(attrs).get("http-equiv", "").lower() not in ("refresh", "set-cookie")


IMAGE_ATTRIBUTES = {"src", "alt", "width", "height", "title", "lang", "dir", "align"}


def _theme_controls() -> set[tuple[str, list[tuple[str, str | None]]]]:
    """The form controls the theme's templates write (search box, run archive filters)."""
    templates = Path(__file__).parents[1] / "themes" / "default" / "templates"
    scan = _Scan()
    for template in sorted(templates.glob("*.html")):
        for tag in re.findall(r"<(?:form|input|select)\b[^>{]*>", template.read_text(encoding="utf-8")):
            scan.feed(tag)
    return {(tag, tuple(attrs)) for tag, attrs in scan.tags}  # type: ignore[misc]


def _harmless_img(rel: str, attrs: list[tuple[str, str | None]]) -> bool:
    """An image from sources: only GitHub's attributes, src http(s) or a path inside the site."""
    values = dict(attrs)
    if not set(values) <= IMAGE_ATTRIBUTES:
        return False
    src = "".join((values.get("src") or "").split())
    if not src:
        return True
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", src)
    if scheme:
        return scheme.group(1).lower() in ("http", "https")
    path = unquote(src.split("#")[0].split("?")[0])
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
    return not path.startswith("/") and "\\" not in path and not resolved.startswith("..")


THEME_CONTROLS = _theme_controls()


def problems_in_html(rel: str, text: str) -> list[str]:
    found: list[str] = []
    scan = _Scan()
    scan.feed(text)
    scan.close()
    for tag, attrs in scan.tags:
        if tag == "img" and not _harmless_img(rel, attrs):
            found.append(f"{rel}: <img> element {attrs}")
        if tag in ("iframe", "object", "embed", "base", "meta", "math", "frame", "frameset",
                   "textarea") and not (tag == "meta" and _harmless_meta(attrs)):
            found.append(f"{rel}: <{tag}> element {attrs}")
        if tag == "link" and not THEME_LINK_HREF.match(dict(attrs).get("href") or ""):
            found.append(f"{rel}: <link> not made by the theme {attrs}")
        if tag in ("form", "input", "select") and (tag, tuple(attrs)) not in THEME_CONTROLS:
            found.append(f"{rel}: <{tag}> not made by the theme {attrs}")
        if tag == "svg" and ("class", "trend") not in attrs:
            found.append(f"{rel}: <svg> not made by the trend chart {attrs}")
        if tag == "script":
            src = dict(attrs).get("src")
            if src is not None and not THEME_SCRIPT_SRC.match(src):
                found.append(f"{rel}: <script src={src!r}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"{rel}: <{tag} {name}={value!r}> event handler")
            if name == "style" and not re.fullmatch(r"flex-grow: \d+", value or ""):  # the theme's count bars
                found.append(f"{rel}: <{tag} style={value!r}>")
            if name in ("srcdoc", "formaction", "background", "poster"):
                found.append(f"{rel}: <{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text")):
                    found.append(f"{rel}: <{tag} {name}={value!r}>")
    for body in scan.scripts:
        if body and not body.startswith(THEME_INLINE_SCRIPT):
            found.append(f"{rel}: inline <script> not from the theme: {body[:80]!r}")
    return found


def problems_in_text(rel: str, text: str) -> list[str]:
    found = [f"{rel}: evaluated as a template ({hit})" for hit in EVALUATED if hit in text]
    if rel.endswith(".js") and re.search(r"</script", text, re.IGNORECASE):
        found.append(f"{rel}: '</script' in a script file (breaks out if the file is ever inlined)")
    if rel.endswith(".html"):
        found += problems_in_html(rel, text)
    if rel.endswith(".xml") and re.search(r"<(img|svg|script)", text, re.IGNORECASE):
        found.append(f"{rel}: markup in XML")
    if rel.endswith(".json"):
        json.loads(text)
    return found


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from generator.cli import cli

    project = tmp_path_factory.mktemp("hostile") / "project"
    for rel, body in project_files().items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")

    def run(*args: str) -> Result:
        result = CliRunner().invoke(cli, [*args, "-C", str(project)], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        return result

    run_id = run("run", "start", "deploy", "--release", HOSTILE, "--change", HOSTILE,
                 "--change-url", HOSTILE_URL, "--env", HOSTILE, "--operator", HOSTILE,
                 "--summary", HOSTILE, "--at", "2026-03-01T10:00:00Z").stdout.strip()
    run("run", "mark", run_id, "hostile", "--status", "failed", "--note", HOSTILE, "--by", HOSTILE,
        "--evidence", HOSTILE_URL, "--at", "2026-03-01T10:05:00Z")
    run("run", "mark", run_id, "img", "--status", "done", "--by", HOSTILE, "--note", HOSTILE,
        "--evidence", "https://ci.example.com/" + ATTACKS[1], "--at", "2026-03-01T10:06:00Z")
    run("run", "mark", run_id, "plain", "--status", "na", "--note", HOSTILE, "--at", "2026-03-01T10:07:00Z")
    run("run", "signoff", run_id, "--role", ROLE, "--name", HOSTILE, "--decision", "reject",
        "--meaning", HOSTILE, "--comment", HOSTILE, "--at", "2026-03-01T10:10:00Z")
    result = CliRunner().invoke(cli, ["build", "-C", str(project)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project / "output"


def output_files(output: Path) -> dict[str, str]:
    return {p.relative_to(output).as_posix(): p.read_text(encoding="utf-8") for p in sorted(output.rglob("*"))
            if p.is_file() and p.suffix in (".html", ".js", ".json", ".xml")}


def test_every_output_file_shows_hostile_strings_as_text(hostile_site: Path) -> None:
    files = output_files(hostile_site)
    pages = [rel for rel in files if rel.endswith(".html")]
    assert len(pages) >= 6 and any(rel.startswith("runs/") for rel in pages)
    problems = [problem for rel, text in files.items() for problem in problems_in_text(rel, text)]
    assert problems == []


def test_the_hostile_strings_are_really_there(hostile_site: Path) -> None:
    """The scan above only means something if the payloads reached the pages, escaped."""
    files = output_files(hostile_site)
    checklist = files["ops/deploy.html"]
    run_pages = [text for rel, text in files.items() if rel.startswith("runs/deploy/") and rel.endswith(".html")]
    assert run_pages
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert checklist.count(escaped) >= 6          # title, h1, description, owner, tags, heading, items, TOC
    assert "Z{{ 7*7 }}Z" in checklist and "{% raw %}" in checklist
    assert "&lt;/script&gt;&lt;script&gt;" in checklist
    assert "\u202e" in checklist
    assert any(text.count(escaped) >= 8 for text in run_pages)  # release, change, env, operator, note, by, …
    assert "&lt;svg onload=alert(6)&gt;Lead" in run_pages[0]     # sign-off role
    assert escaped in files["index.html"]


def evaluate(script: Path, name: str) -> object:
    """Run a generated script in node and return the global it assigns."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/test installs it)")
    program = f"global.window={{}};require(process.argv[1]);process.stdout.write(JSON.stringify(window.{name}))"
    node = subprocess.run(["node", "-e", program, str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert node.returncode == 0, node.stderr
    return json.loads(node.stdout)


def evaluate_parts(folder: Path) -> dict[str, object]:
    """Run every script of the search index under ``folder`` in node; what each handed to
    ``LAUNCHBOOK_SEARCH_PART``, by name."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/test installs it)")
    scripts = [str(path) for path in sorted(folder.rglob("*.js"))]
    program = ("const parts={};global.window={LAUNCHBOOK_SEARCH_PART:(n,d)=>{parts[n]=d;}};"
               "for(const f of process.argv.slice(1))require(f);process.stdout.write(JSON.stringify(parts))")
    node = subprocess.run(["node", "-e", program, *scripts], capture_output=True, text=True, timeout=60, check=False)
    assert node.returncode == 0, node.stderr
    parts = json.loads(node.stdout)
    assert isinstance(parts, dict) and len(parts) == len(scripts)
    return parts


def test_search_index_is_data_not_markup(hostile_site: Path) -> None:
    """Every file of the search index parses as JavaScript and gives back the hostile strings unchanged."""
    folder = hostile_site / "assets" / "search"
    for path in folder.rglob("*.js"):
        assert "</script" not in path.read_text(encoding="utf-8").lower(), path
    parts = evaluate_parts(folder)
    fragments = [data for name, data in parts.items() if name.startswith("doc/")]
    assert all(isinstance(data, list) for data in fragments)
    titles = [fragment[1] for fragment in fragments]  # type: ignore[index]
    assert HOSTILE in titles
    items = [sub[1] for fragment in fragments for sub in fragment[4] if sub[0] == "i"]  # type: ignore[index]
    assert ATTACKS[0] in items                                                   # {#img}
    assert any(ATTACKS[7] in item and "\u202e" in item for item in items)        # Markdown ate only the *s
    words = {word for name, data in parts.items() if name.startswith("words/") for word in data}  # type: ignore[union-attr]
    assert {"img", "onerror", "alert", "script"} <= words
    runs = [fragment for fragment in fragments if fragment[0] == "run"]  # type: ignore[index]
    assert len(runs) == 1 and runs[0][1].startswith(HOSTILE)  # type: ignore[index]
    assert f"{HOSTILE} · {HOSTILE} · {HOSTILE}" in runs[0][5]  # type: ignore[index]  # ticket, operator, environment


def test_run_archive_index_is_data_not_markup(hostile_site: Path) -> None:
    script = hostile_site / "assets" / "runs-index.js"
    assert "</script" not in script.read_text(encoding="utf-8").lower()
    rows = evaluate(script, "LAUNCHBOOK_RUNS")
    assert isinstance(rows, list) and len(rows) == 1
    assert rows[0]["r"] == HOSTILE and rows[0]["e"] == HOSTILE and rows[0]["t"] == HOSTILE


def test_file_names_cannot_inject_markup(hostile_site: Path) -> None:
    """A folder and a file named with markup: their pages exist, links to them and their titles are escaped."""
    files = output_files(hostile_site)
    hostile_pages = [rel for rel in files if rel.startswith(FILE_HOSTILE + "/")]
    assert sorted(hostile_pages) == sorted([f"{FILE_HOSTILE}/index.html", f"{FILE_HOSTILE}/{FILE_HOSTILE}.html"])
    encoded = quote(FILE_HOSTILE, safe="-._~")
    assert f'href="{encoded}/{encoded}.html"' in files["index.html"]  # percent-encoded: a path, never markup
    for rel in (*hostile_pages, "index.html"):
        assert problems_in_text(rel, files[rel]) == []


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def test_no_control_characters_reach_the_pages(hostile_site: Path) -> None:
    """NUL and other C0 controls are parse errors in HTML (Markdown turns NUL into U+FFFD itself)."""
    hits = {rel: CONTROL.findall(text) for rel, text in output_files(hostile_site).items()}
    assert {rel: found for rel, found in hits.items() if found} == {}


def test_javascript_file_names_never_become_javascript_links(write_project: Callable[..., Path],
                                                             run_cli: Callable[..., Result]) -> None:
    project = write_project({
        f"content/{JS_FILE}.md": "# Named like a URL\n\n- [ ] An item\n",
        f"content/{JS_FILE}/inside.md": "# Inside a folder named like a URL\n\n- [ ] An item\n",
        "content/index.md": "# Home\n",
    })
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    files = output_files(project / "output")
    problems = [p for rel, text in files.items() if rel.endswith(".html") for p in problems_in_html(rel, text)]
    assert problems == []


@pytest.mark.parametrize("option", ["--change-url", "--evidence"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "vbscript:msgbox(1)"])
def test_script_urls_in_run_fields_are_refused(started: tuple[Path, str], run_cli: Callable[..., Result],
                                               option: str, url: str) -> None:
    project, run_id = started
    if option == "--change-url":
        args = ["run", "start", "deploy", "--release", "v2", "--change-url", url]
    else:
        args = ["run", "mark", run_id, "announce", "--status", "done", "--evidence", url]
    result = run_cli(*args, "-C", project)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
