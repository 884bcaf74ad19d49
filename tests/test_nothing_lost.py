"""Nothing is silently lost, and one file cannot take the machine down.

GitHub's renderer (cmark-gfm, a test dependency only) says what each input is: every line
it renders as a task item must be an item, a sign-off role, or an LB205/LB206 warning
naming that line here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from generator.model import Checklist, ItemState
from generator.sources.checklist import parse_document
from generator.sources.frontmatter import split_front_matter
from generator.sources.repair import decode_source, repair_text
from tests.helpers import CONTENT, DEMO_SEEDS, ROOT, SEEDS

_LI = re.compile(r'<li data-sourcepos="(\d+):\d+-\d+:\d+"><input type="checkbox"( checked="")?')


def github_tasks(text: str) -> dict[int, bool]:
    """GitHub's task items: 1-based line -> checked."""
    html = cmarkgfm.markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_SOURCEPOS, extensions=["table", "tasklist", "strikethrough", "autolink"])
    assert html.count('<input type="checkbox"') == len(_LI.findall(html))
    return {int(line): bool(checked) for line, checked in _LI.findall(html)}


def github_depth(text: str) -> int:
    html = cmarkgfm.markdown_to_html_with_extensions(text, extensions=["tasklist"])
    depth = deepest = 0
    for tag in re.findall(r"</?ul>", html):
        depth += -1 if tag.startswith("</") else 1
        deepest = max(deepest, depth)
    return deepest


def ours(text: str) -> tuple[Checklist, dict[int, bool], dict[int, str]]:
    document = parse_document(text.encode("utf-8"), "content/doc.md", "doc.md")
    assert isinstance(document, Checklist)
    found = {item.line: item.state is ItemState.DONE for item in document.items}
    found.update({role.line: False for role in document.signoffs if role.source == "line"})
    warned = {w.line: w.code for w in document.warnings if w.code in ("LB205", "LB206")}
    return document, found, warned


def accounted(text: str, reference: str | None = None) -> tuple[dict[int, bool], dict[int, bool], dict[int, str]]:
    """GitHub's task lines (of ``reference``, default ``text``), ours, and our warnings; asserts
    every GitHub task line is ours or warned."""
    _, found, warned = ours(text)
    github = github_tasks(reference if reference is not None else text)
    missing = [line for line in github if line not in found and line not in warned]
    assert not missing, f"GitHub task lines neither items nor warnings: {missing}"
    return github, found, warned


def deep_list(levels: int) -> str:
    return ("# Deep\n\n## Work\n\n" + "".join("  " * i + f"- [ ] level {i}\n" for i in range(levels))
            + "- [x] after the deep list\n\n## Sign-off\n\n- [ ] **Release Manager:** ______ Date: ____\n")


def test_nesting_deeper_than_markdown_it_default_keeps_every_item_and_what_follows() -> None:
    text = deep_list(16)
    github, found, warned = accounted(text)
    assert found == github | {len(text.split("\n")) - 1: False}  # the sign-off line is a role for us
    document, _, _ = ours(text)
    assert max(item.depth for item in document.items) == github_depth(text) == 16
    assert [h.text for h in document.headings][-1] == "Sign-off" and document.signoffs
    assert not warned


@pytest.mark.parametrize("levels", [60, 400])
def test_beyond_a_sane_depth_items_are_flattened_with_a_warning_never_dropped(levels: int) -> None:
    text = deep_list(levels)
    github, found, warned = accounted(text)
    assert set(github) <= set(found)  # every item kept, none only warned
    document, _, _ = ours(text)
    assert document.signoffs and document.headings[-1].text == "Sign-off"
    assert list(warned.values()) == ["LB206"]
    assert 40 <= max(item.depth for item in document.items) < levels


@pytest.mark.parametrize("prefix", ["- " * 300, ">" * 300 + " - ", "> - " * 150])
def test_deep_nesting_on_one_line_is_kept(prefix: str) -> None:
    document, found, warned = ours(f"{prefix}[ ] deep\n\n- [ ] after\n")
    assert [item.text for item in document.items] == ["deep", "after"]
    assert list(warned.values()) == ["LB206"]


def test_nbsp_levels_with_spaces_between_entities_all_become_items() -> None:
    text = "- [ ] top\n&nbsp;&nbsp;- [ ] one\n&nbsp; &nbsp; - [ ] two\n&nbsp; &nbsp; &nbsp; &nbsp; - [ ] three\n"
    intended = re.sub("&nbsp;", " ", text)  # what the exporter's author wrote
    github, found, warned = accounted(text, intended)
    assert found == github and len(found) == 4
    document, _, _ = ours(text)
    assert [item.depth for item in document.items] == [1, 2, 3, 4] == [1, 2, 3, 4][: github_depth(intended)]


@pytest.mark.parametrize("space", ["\t", "\v", "\f"])
def test_checkbox_then_tab_vertical_tab_or_form_feed_is_an_item_as_on_github(space: str) -> None:
    text = f"- [ ]{space}first\n- [x]{space}second\n"
    github, found, _ = accounted(text)
    assert found == github == {1: False, 2: True}


@pytest.mark.parametrize("after", ["\n", "\u2028", "\u00a0"])
def test_checkbox_then_line_break_or_unicode_space_is_warned_by_line(after: str) -> None:
    text = f"# List\n\n- [ ] fine\n- [ ]{after}text of the item\n- [x]{after}another\n"
    github, found, warned = accounted(text)
    assert github == found == {3: False}  # GitHub makes no task of them either
    lines = [n for n, line in enumerate(text.split("\n"), 1) if line.startswith("- [") and n != 3]
    assert sorted(warned) == lines and set(warned.values()) == {"LB205"}


@pytest.mark.parametrize("underline", ["-", "- ", "===", "---"])
def test_checked_item_whose_text_became_a_setext_heading_is_still_an_item(underline: str) -> None:
    text = f"# T\n\n## Section\n\n- [x] Done thing\n  {underline}\n- [ ] next\n"
    github, found, _ = accounted(text)
    assert found == github == {5: True, 7: False}
    document, _, _ = ours(text)
    assert [h.text for h in document.headings] == ["Section"]
    assert all(item.section == ("Section",) for item in document.items)


def test_unescaping_an_export_never_opens_a_fence_that_swallows_items() -> None:
    # Enough escaped block markers (4 lines, headings and bullets) for the export repair to act.
    text = ("\\# Title\n\n\\- \\[ \\] one\n\n\\`\\`\\`\n\n- [ ] two\n- [ ] three\n\n\\~\\~\\~\n\n- [ ] four\n"
            "\\## More\n\n\\- \\[ \\] five\n")
    github, found, _ = accounted(text)
    assert set(github) == {7, 8, 12} and set(found) == {3, 7, 8, 12, 15}


def test_unescaping_never_opens_an_html_block_that_swallows_items() -> None:
    text = "\\# Title\n\n\\- \\[ \\] one\n\\<div\\>\n- [ ] two\n\n\\## More\n\n\\- \\[ \\] five\n"
    accounted(text)
    assert set(ours(text)[1]) == {3, 5, 9}


@pytest.mark.parametrize("text", [
    "Some text\n    - [ ] indented under a paragraph\n",
    "- [ ] x\n  continued\n      - [ ] lazy continuation of the item's paragraph\n",
])
def test_task_looking_lines_swallowed_by_other_blocks_are_warned(text: str) -> None:
    document = parse_document(text.encode(), "content/doc.md", "doc.md")
    items = {item.line for item in getattr(document, "items", ())}
    lines = {n for n, line in enumerate(text.split("\n"), 1) if "[ ]" in line} - items
    assert lines and {w.line for w in document.warnings if w.code == "LB205"} == lines


def test_code_html_and_comments_are_not_warned() -> None:
    text = "```\n- [ ] in a fence\n```\n\n    - [ ] indented code\n\n<!--\n- [ ] in a comment\n-->\n\n<div>\n- [ ] html\n</div>\n"
    document = parse_document(text.encode(), "content/doc.md", "doc.md")
    assert not [w for w in document.warnings if w.code == "LB205"]


def _seed_bodies() -> list[tuple[str, str]]:
    files = [(f"seed {p.name}", p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))]
    files += [(f"demo {rel}", (CONTENT / rel).read_bytes()) for rel in sorted(DEMO_SEEDS)]
    files += [(f"demo {p.relative_to(CONTENT)}", p.read_bytes()) for p in sorted((CONTENT / "guides").glob("*.md"))]
    return [(name, data.decode("utf-8")) for name, data in files]


@pytest.mark.parametrize(("name", "text"), _seed_bodies(), ids=[n for n, _ in _seed_bodies()])
def test_seeds_and_demo_give_githubs_items(name: str, text: str) -> None:
    """The text we parse (after repairs) has exactly GitHub's task items, except `[~]` (ours only),
    and no LB205 warning; sign-off lines are roles."""
    decoded, _ = decode_source(text.encode("utf-8"), name)
    repaired = repair_text(decoded, name).text
    _, body, offset = split_front_matter(repaired, name)
    github = {line + offset: checked for line, checked in github_tasks(body).items()}
    document = parse_document(text.encode("utf-8"), "content/doc.md", "doc.md")
    if not isinstance(document, Checklist):
        assert not github
        return
    found = {item.line: item.state is ItemState.DONE for item in document.items if item.state is not ItemState.NA}
    roles = {role.line for role in document.signoffs if role.source == "line"}
    assert {line: c for line, c in github.items() if line not in roles} == found
    assert roles <= set(github)
    assert not [w for w in document.warnings if w.code in ("LB205", "LB206")]


# -- Bounded on pathological input ----------------------------------------------------------

def _peak_rss_mb(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the CLI under /usr/bin/time; its result and peak RSS in MB."""
    report = cwd / "rss.txt"
    result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report), sys.executable, "-m", "generator", *args],
                            cwd=cwd, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return result, int(report.read_text().split()[-1]) / 1024


def test_a_table_of_20000_columns_is_refused_in_little_memory(tmp_path: Path) -> None:
    row = "|" + "|".join("a" for _ in range(20_000)) + "|\n"
    path = tmp_path / "wide.md"
    path.write_text("# T\n\n- [ ] a\n\n" + row + row.replace("a", "-") + row * 45)
    result, peak = _peak_rss_mb(["inspect", str(path)], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{path}:5: table has 20,000 columns, more than 1,000" in result.stderr
    assert peak < 300  # was 1.4 GB for such a 2 MB table


def test_too_many_table_cells_in_one_document_is_an_error() -> None:
    row = "|" + "|".join("a" for _ in range(100)) + "|\n"
    text = "- [ ] a\n\n" + row + row.replace("a", "-") + row * 600
    with pytest.raises(Exception, match="more than 50,000 cells") as caught:
        parse_document(text.encode(), "content/doc.md", "doc.md")
    assert getattr(caught.value, "line", None) == 3 + 2 + 499 - 1 + 1


def test_max_document_size_is_a_clear_configurable_error(write_project: Callable[..., Path]) -> None:
    big = "# Big\n\n" + "".join(f"- [ ] item {i}\n" for i in range(100_000))  # ~1.6 MB
    project = write_project({"content/big.md": big, "content/site.yml": "title: T\nmax_document_size: 1000000\n"})
    result = subprocess.run([sys.executable, "-m", "generator", "build", "-C", str(project), "-o",
                             str(project / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(r"content/big\.md: is 1,\d{3},\d{3} bytes, more than the 1,000,000 a document may have; "
                     r"split it, or raise max_document_size in content/site.yml", result.stderr)
    lint = subprocess.run([sys.executable, "-m", "generator", "lint", "-C", str(project)], capture_output=True,
                          text=True, timeout=300)
    assert "content/big.md: LB001" in lint.stdout + lint.stderr
    (project / "content" / "site.yml").write_text("title: T\nmax_document_size: 3000000\n")
    result = subprocess.run([sys.executable, "-m", "generator", "build", "-C", str(project), "-o",
                             str(project / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_default_size_limit_refuses_a_50_mb_file_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result, peak = _peak_rss_mb(["inspect", str(path)], tmp_path)
    assert result.returncode == 1 and "more than the 4,194,304 a document may have" in result.stderr
    assert peak < 150  # was 3.6 GB


def test_lint_names_a_lost_line_with_its_code(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "content").mkdir(parents=True)
    (project / "content" / "a.md").write_text(textwrap.dedent("""\
        # A

        - [ ] kept
        - [ ]\u2028lost
        """))
    result = subprocess.run([sys.executable, "-m", "generator", "lint", "-C", str(project)], capture_output=True,
                            text=True, timeout=300)
    assert "content/a.md:4: LB205 lost-item: line looks like a task item but is not one" in result.stdout
