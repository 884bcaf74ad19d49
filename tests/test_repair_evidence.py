"""Repairs fire only on evidence, never on clean text, never in code; ``lint --fix`` is idempotent.

``tests/probes/`` holds realistic clean Markdown that looks damaged to a naive repair:
escaped dunder names, ``2019\\.`` lines, a literal escaped task, prose indented with
``&nbsp;``/U+00A0, ``&nbsp;`` in fenced Go and Python, accents, maths symbols, CJK, emoji,
Mac Roman-looking symbol pairs and a troubleshooting note that quotes mojibake.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.model import Checklist, Document
from generator.sources import checklist
from generator.sources.checklist import parse_document
from generator.sources.repair import Repaired, export_evidence, repair_text
from tests.helpers import CONTENT, DEMO_SEEDS

RunCli = Callable[..., Result]
PROBES = Path(__file__).parent / "probes"
PROBE_NAMES = sorted(p.name for p in PROBES.glob("*.md"))
REPAIR_CODES = {"LB101", "LB102", "LB103", "LB104", "LB105"}


def mac_roman(text: str) -> str:
    return text.encode("utf-8").decode("mac_roman")


def cp1252(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def parse_text(text: str, name: str = "doc.md") -> Document:
    return parse_document(text.encode("utf-8"), f"content/{name}", name)


def shape(document: Document) -> tuple[object, ...]:
    items = [(i.id, i.text, i.html, i.depth, i.parent, i.state) for i in getattr(document, "items", ())]
    return document.title, document.body_html, tuple(items), tuple(document.headings)


def test_probes_exist() -> None:
    assert len(PROBE_NAMES) >= 8


@pytest.mark.parametrize("name", PROBE_NAMES)
def test_no_repair_fires_on_a_clean_probe(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROBES / name).read_text(encoding="utf-8")
    repaired = repair_text(text, name)
    assert repaired.warnings == ()
    assert repaired.text == text
    document = parse_text(text, name)
    assert not [w for w in document.warnings if w.code in REPAIR_CODES]

    monkeypatch.setattr(checklist, "repair_text", lambda text, path: Repaired(text, ()))
    assert shape(parse_text(text, name)) == shape(document)


def test_probe_meanings_are_kept() -> None:
    readme = parse_text((PROBES / "python-readme.md").read_text(), "readme.md")
    assert "__main__.py" in readme.body_html and "<strong>main" not in readme.body_html
    assert "*not bold*" in readme.body_html and "<em>not bold</em>" not in readme.body_html
    assert "# \\_ stays as written in code" in readme.body_html
    syntax = parse_text((PROBES / "task-syntax.md").read_text(), "syntax.md")
    assert isinstance(syntax, Checklist) and "Item text" not in [i.text for i in syntax.items]
    assert len(syntax.items) == 5
    prose = parse_text((PROBES / "nbsp-prose.md").read_text(), "prose.md")
    assert "<pre>" not in prose.body_html and "<p>\u00a0\u00a0\u00a0\u00a0This paragraph" in prose.body_html
    go = parse_text((PROBES / "nbsp-code.md").read_text(), "go.md")
    source = (PROBES / "nbsp-code.md").read_text()
    assert go.plain_text.count("&nbsp;") == source.count("&nbsp;") == 40 * 5 + 3  # fenced code, as written
    assert go.body_html.count("\u00a0") == source.count("\u00a0") == 38 * 4 + 4
    symbols = parse_text((PROBES / "symbols.md").read_text(), "symbols.md")
    assert "√• (root of a bullet), ¬∂ (not a pilcrow), ≈° (about a degree)" in symbols.plain_text
    note = parse_text((PROBES / "troubleshooting.md").read_text(), "note.md")
    assert "shows â€™ where" in note.plain_text and "or Ã© instead of é" in note.plain_text
    assert "looks like ‚Äô or √© (Mac Roman)" in note.plain_text


# --- the escaped-export rule: >= 3 escaped block markers, two kinds, half of all block lines


def test_export_evidence_thresholds() -> None:
    two = "\\# Title\n\n\\- \\[ \\] a\n"
    assert not export_evidence(two).convincing
    three = two + "\\- \\[ \\] b\n"
    assert export_evidence(three).convincing
    assert repair_text(three, "a.md").text == "# Title\n\n- [ ] a\n- [ ] b\n"
    one_kind = "\\- \\[ \\] a\n\\- \\[ \\] b\n\\- \\[ \\] c\n\\- \\[ \\] d\n"
    assert not export_evidence(one_kind).convincing
    minority = three + "".join(f"- [ ] real {n}\n" for n in range(4)) + "## Real\n"
    found = export_evidence(minority)
    assert (found.escaped, found.markers) == (3, 8) and not found.convincing
    assert repair_text(minority, "a.md").warnings == ()


def test_escaped_markers_in_code_are_no_evidence() -> None:
    text = "# Doc\n\n```md\n\\# a\n\\- b\n\\- c\n1\\. d\n```\n"
    assert export_evidence(text).markers == 1
    assert repair_text(text, "a.md").warnings == ()


def test_export_keeps_code_spans_and_unescaped_code_blocks() -> None:
    export = "\\# Deploy\n\n\\- \\[ \\] Run `make\\_all` now\n\\- \\[ \\] Check\n\\- \\[ \\] Ship\n\n"
    code = "```python\nif __name__ == \"__main__\":\n    print(\"\\_\")\n```\n"
    escaped_block = "```env\nAPI\\_URL=https://x\n```\n"
    repaired = repair_text(export + code + escaped_block, "a.md")
    assert repaired.text == (
        "# Deploy\n\n- [ ] Run `make\\_all` now\n- [ ] Check\n- [ ] Ship\n\n" + code + "```env\nAPI_URL=https://x\n```\n"
    )
    [warning] = repaired.warnings
    assert warning.code == "LB103" and "4 of 4 heading, list and quote lines were escaped" in warning.message


# --- &nbsp; only indents list items under list items, never in code


def test_nbsp_repair_only_nests_list_items() -> None:
    nested = "- [ ] Parent\n\n&nbsp; - [ ] Child\n\u00a0\u00a0- [ ] Second child\n&#160; 1. Numbered child\n"
    repaired = repair_text(nested, "a.md")
    assert repaired.text == "- [ ] Parent\n\n  - [ ] Child\n  - [ ] Second child\n  1. Numbered child\n"
    assert [w.code for w in repaired.warnings] == ["LB104"] and "under a list item" in repaired.warnings[0].message
    for clean in (
        "Intro\n\n&nbsp;&nbsp;&nbsp;&nbsp;- not a list, a quote of one\n",  # would become a code block
        "&nbsp;&nbsp;&nbsp;&nbsp;Indented prose.\n",
        "- [ ] a\n\n\u00a0\u00a0\u00a0\u00a0continued prose\n",
        "- [ ] a\n\n```\n&nbsp; - [ ] in code\n```\n",
        "```markdown\n- [ ] a Markdown example\n&nbsp; - [ ] nested with &nbsp;\n\u00a0\u00a0- [ ] and U+00A0\n```\n",
    ):
        assert repair_text(clean, "a.md") == Repaired(clean, ())


# --- mojibake: emoji or words must outnumber correctly written words; code never counts


@pytest.mark.parametrize(
    "clean",
    [
        "Symbols √• ¬∂ ≈° and ∂x stay.",
        "If you see â€™ or Ã© the file was read as Windows-1252; é is right.",
        "Quoted on its own: \"â€™\", \"Ã©\", \"‚Äô\".",
        "Le café, l’été, „Anführung“ and donâ€™t (quoted) with naïve.",
    ],
)
def test_mojibake_needs_more_damage_than_clean_words(clean: str) -> None:
    assert repair_text(f"# Note\n\n{clean}\n", "a.md").warnings == ()


def test_mojibake_in_code_is_no_evidence() -> None:
    text = f"# Note\n\nLooks like `{cp1252('🚀')}` or `{mac_roman('✅')}`.\n\n```\n{cp1252('naïve')}\n```\n"
    assert repair_text(text, "a.md").warnings == ()


def test_mojibake_warning_names_its_evidence() -> None:
    text = f"# {mac_roman('🚀')} Launch\n\n- [ ] {mac_roman('✅')} Checked\n"
    [warning] = repair_text(text, "a.md").warnings
    assert warning.code == "LB105" and "2 runs decoded into emoji or words, 0 accented letters written correctly" in warning.message
    words = f"- [ ] {cp1252('Café')} and {cp1252('naïve')} and {cp1252('don’t')}\n- [ ] résumé\n"
    repaired = repair_text(words, "b.md")
    assert repaired.text == "- [ ] Café and naïve and don’t\n- [ ] résumé\n"
    assert "3 runs decoded into emoji or words, 2 accented letters written correctly" in repaired.warnings[0].message


# --- seeds keep their repairs, with the evidence named


def test_seed_warnings_carry_their_evidence() -> None:
    planner = parse_document((CONTENT / "launches/planner-app.md").read_bytes(), "p", "launches/planner-app.md")
    messages = [w.message for w in planner.warnings]
    assert any("287 lines: 261 of 289 heading, list and quote lines were escaped" in m for m in messages)
    assert any("on 28 lines: each indents a list item under a list item" in m for m in messages)
    assert "VITE_API_ENDPOINT=" in planner.body_html  # the exporter escaped the fenced block too


# --- fixed point: the parser reads exactly what --fix writes


# An export of a page that already had escapes: one round of unescaping leaves an export
# behind (4 of 8 block lines escaped). Before the fixed point, the parser read one round,
# --fix wrote it, and the next parse and --fix unescaped again: new items, new sections, new IDs.
NESTED = (
    "\\# Title\n\n\\## Part\n\n\\- \\[ \\] a\n\\- \\[ \\] b\n\n\\\\\\## Deeper\n\n"
    + "".join(f"\\\\\\- \\\\\\[ \\\\\\] deep {n}\n" for n in range(3))
)


def test_nested_escaping_is_repaired_to_a_fixed_point() -> None:
    once = repair_text(NESTED, "a.md")
    assert once.text == "# Title\n\n## Part\n\n- [ ] a\n- [ ] b\n\n## Deeper\n\n- [ ] deep 0\n- [ ] deep 1\n- [ ] deep 2\n"
    assert [w.code for w in once.warnings] == ["LB103", "LB103"]
    assert repair_text(once.text, "a.md") == Repaired(once.text, ())
    assert [i.id for i in parse_text(NESTED).items] == [i.id for i in parse_text(once.text).items]


FRAGMENTS = st.sampled_from([
    "\\# Title", "\\## Section", "\\- \\[ \\] task", "\\\\\\- \\\\\\[ \\\\\\] deep", "1\\. step", "\\> quote",
    "- [ ] plain", "## Heading", "&nbsp; - [ ] nested", "\u00a0\u00a0- child", "&nbsp;&nbsp;&nbsp;&nbsp;prose",
    "```", "`code \\_x`", "2019\\. A year", "\\*not bold\\*", "\\_\\_main\\_\\_.py", "",
    mac_roman("🚀 Launch"), mac_roman(mac_roman("✅ Done")), cp1252("It’s 🚀"), cp1252(cp1252("café")),
    "café – naïve", "√• ¬∂ ≈°", "中文 🎉", "If you see â€™", "Ã©",
])


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=14))
def test_repair_is_a_fixed_point(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    repaired = repair_text(text, "a.md")
    assert repair_text(repaired.text, "a.md") == Repaired(repaired.text, ())


def _ids(path: Path, rel: str) -> list[str]:
    return [i.id for i in getattr(parse_document(path.read_bytes(), f"content/{rel}", rel), "items", ())]


def test_lint_fix_twice_changes_nothing_and_keeps_every_id(tmp_path: Path, run_cli: RunCli) -> None:
    project = tmp_path / "p"
    content = project / "content"
    for rel in DEMO_SEEDS:
        (content / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CONTENT / rel, content / rel)
    for name in PROBE_NAMES:
        (content / "probes").mkdir(parents=True, exist_ok=True)
        shutil.copy(PROBES / name, content / "probes" / name)
    (content / "nested.md").write_text(NESTED)
    files = sorted(p.relative_to(content).as_posix() for p in content.rglob("*.md"))
    before = {rel: _ids(content / rel, rel) for rel in files}
    originals = {rel: (content / rel).read_bytes() for rel in files}

    first = run_cli("lint", "-C", project, "--fix", "--no-backup")
    fixed = sorted(line.split()[1] for line in first.stdout.splitlines() if line.startswith("fixed "))
    assert fixed == ["content/launches/dreamcatcher.md", "content/launches/momentverse.md",
                     "content/launches/planner-app.md", "content/nested.md", "content/platform/go-live-readiness.md"]
    for name in PROBE_NAMES:
        assert (content / "probes" / name).read_bytes() == originals[f"probes/{name}"]
    snapshot = {rel: (content / rel).read_bytes() for rel in files}
    assert {rel: _ids(content / rel, rel) for rel in files} == before

    second = run_cli("lint", "-C", project, "--fix", "--no-backup")
    assert not [line for line in second.stdout.splitlines() if line.startswith("fixed ")]
    assert {rel: (content / rel).read_bytes() for rel in files} == snapshot
    for rel in files:
        document = parse_document(snapshot[rel], f"content/{rel}", rel)
        assert not [w for w in document.warnings if w.code in REPAIR_CODES], rel
