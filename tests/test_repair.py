"""Text repair: each kind on small inputs, exactness, and never touching good text."""

from __future__ import annotations

import pytest

from generator.core.errors import SourceError
from generator.sources.mojibake import fix_cp1252, fix_mac_roman
from generator.sources.repair import decode_source, repair_text
from tests.helpers import parse_checklist


def mac_roman_damage(text: str) -> str:
    """What happens to UTF-8 text opened as Mac Roman."""
    return text.encode("utf-8").decode("mac_roman")


def cp1252_damage(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def test_bom_is_removed_and_reported() -> None:
    text, warnings = decode_source("\ufeff# Title\n".encode("utf-8"), "a.md")
    assert text == "# Title\n"
    assert [str(w) for w in warnings] == ["a.md:1: removed a UTF-8 byte order mark"]


def test_crlf_becomes_lf_with_line_numbers_kept() -> None:
    repaired = repair_text("# T\r\n\r\n- [ ] a\r\n- [ ] b\r\n", "a.md")
    assert repaired.text == "# T\n\n- [ ] a\n- [ ] b\n"
    assert any("CRLF" in str(w) for w in repaired.warnings)
    doc = parse_checklist("# T\r\n\r\n- [ ] a\r\n- [ ] b\r\n")
    assert [item.line for item in doc.items] == [3, 4]


def test_undecodable_bytes_name_line_and_column() -> None:
    with pytest.raises(SourceError) as caught:
        decode_source(b"# Title\n\n- [ ] caf\xe9\n", "content/x.md")
    assert str(caught.value.message) == "content/x.md:3: not valid UTF-8: byte 0xE9 at column 10; save the file as UTF-8"


def test_escaped_export_is_unescaped() -> None:
    source = "\\# Deploy\n\n\\## Steps\n\n\\- \\[ ] Run \\*\\*migrate\\*\\* on db\\_main\n\n1\\. first\n"
    repaired = repair_text(source, "a.md")
    assert repaired.text == "# Deploy\n\n## Steps\n\n- [ ] Run **migrate** on db_main\n\n1. first\n"
    assert [w.line for w in repaired.warnings] == [1]
    assert "escaping" in repaired.warnings[0].message


def test_legitimate_escapes_are_kept() -> None:
    source = "# Sign\n\n- [ ] **Lead:** ****\\_**** Date: **\\_\\_\\_**\n- [ ] Use \\* literally\n"
    assert repair_text(source, "a.md").text == source


def test_nbsp_indentation_nests_items() -> None:
    doc = parse_checklist("- [ ] Parent\n\n&nbsp; - [ ] Child one\n\n&nbsp; - [ ] Child two\n")
    assert [(i.text, i.depth) for i in doc.items] == [("Parent", 1), ("Child one", 2), ("Child two", 2)]
    assert doc.items[1].parent == doc.items[0].id
    assert any("&nbsp;" in w.message and w.line == 3 for w in doc.warnings)


def test_nbsp_inside_text_is_not_indentation() -> None:
    source = "- [ ] keep a&nbsp;b\n"
    assert repair_text(source, "a.md").text == source


@pytest.mark.parametrize(
    "original",
    ["🚀 Launch", "✅ Done", "HTTP → HTTPS", "🏗️ Infrastructure", "☸️ Kubernetes", "Café “quoted” – naïve", "⬜ YES", "👩‍💻 dev"],
)
def test_mac_roman_repair_is_exact(original: str) -> None:
    damaged = mac_roman_damage(original)
    assert damaged != original
    repaired, fixes = fix_mac_roman(f"# {damaged}\n\nsome text\n")
    assert repaired == f"# {original}\n\nsome text\n"
    assert [fix.line for fix in fixes] == [1]


@pytest.mark.parametrize(
    "legit",
    [
        "“Über” ist ein Wort",
        "Temperature ≥ 3 °C • ±0.5 µs",
        "naïve café résumé – “quoted” ‘single’ …",
        "√2 ≈ 1.41 and ∑ π ∞",
        "Straße ™ ® © § ¶ † ‡",
        "Éire, Ñandú, Ørsted, Ålesund",
        "«Guillemets» and ‹single›",
    ],
)
def test_legitimate_text_is_never_repaired(legit: str) -> None:
    assert fix_mac_roman(legit) == (legit, [])
    assert fix_cp1252(legit) == (legit, [])
    assert repair_text(f"# {legit}\n", "a.md").warnings == ()


def test_cp1252_mojibake_repaired_and_quotes_kept() -> None:
    damaged = "Keep users happy! " + cp1252_damage("🚀") + " It’s “done”"
    repaired, fixes = fix_cp1252(damaged)
    assert repaired == "Keep users happy! 🚀 It’s “done”"
    assert len(fixes) == 1


def test_cp1252_apostrophe_mojibake() -> None:
    repaired, _ = fix_cp1252("Don" + cp1252_damage("’") + "t stop")
    assert repaired == "Don’t stop"


def test_code_is_left_as_written() -> None:
    damaged = mac_roman_damage("🚀")
    source = f"# {damaged} Title\n\nExample: `{damaged}`\n\n```\n{damaged}\n```\n"
    repaired, _ = fix_mac_roman(source)
    assert repaired == f"# 🚀 Title\n\nExample: `{damaged}`\n\n```\n{damaged}\n```\n"


def test_every_repair_is_a_warning_with_a_line() -> None:
    damaged = mac_roman_damage("✅")
    doc = parse_checklist(f"# Title\n\n## {damaged} Checks\n\n- [ ] a\n")
    assert doc.items[0].section == ("✅ Checks",)
    assert [(w.line, "Mac Roman" in w.message) for w in doc.warnings] == [(3, True)]
