"""Stable item IDs: other items may come, go and move; an item keeps its ID."""

from __future__ import annotations

import random

from tests.helpers import parse_checklist

BASE = [
    ("Security", "Rotate the API keys"),
    ("Security", "Enable HSTS"),
    ("Security", "Scan images for CVEs"),
    ("Database", "Take a backup"),
    ("Database", "Run migrations"),
    ("Database", "Verify replica lag"),
]


def render(items: list[tuple[str, str]]) -> str:
    lines: list[str] = []
    current = None
    for section, text in items:
        if section != current:
            lines += ["", f"## {section}", ""]
            current = section
        lines.append(f"- [ ] {text}")
    return "\n".join(lines) + "\n"


def ids(items: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    doc = parse_checklist(render(items))
    return {(i.section[-1], i.text): i.id for i in doc.items}


def test_ids_are_readable_and_unique() -> None:
    got = ids(BASE)
    assert len(set(got.values())) == len(BASE)
    assert got[("Security", "Enable HSTS")].startswith("enable-hsts-")


def test_inserting_removing_and_reordering_other_items_keeps_ids() -> None:
    before = ids(BASE)
    inserted = BASE[:2] + [("Security", "Pin TLS 1.3")] + BASE[2:] + [("Database", "Vacuum")]
    removed = [entry for entry in BASE if entry != ("Security", "Enable HSTS")]
    shuffled = BASE[:]
    random.Random(7).shuffle(shuffled)
    shuffled.sort(key=lambda e: e[0] != "Security")  # keep sections contiguous, items in new order
    for variant in (inserted, removed, shuffled):
        after = ids(variant)
        for key, value in after.items():
            if key in before:
                assert value == before[key], key


def test_same_text_in_different_sections_differs() -> None:
    doc = parse_checklist("## A\n\n- [ ] Configure monitoring\n\n## B\n\n- [ ] Configure monitoring\n")
    first, second = doc.items
    assert first.id != second.id


def test_exact_duplicates_in_one_section_get_occurrence_numbers() -> None:
    doc = parse_checklist("## A\n\n- [ ] Test it\n- [ ] Other\n- [ ] Test it\n")
    assert doc.items[2].id == doc.items[0].id + "-2"


def test_id_does_not_change_when_only_formatting_changes() -> None:
    plain = parse_checklist("## A\n\n- [ ] Run make deploy\n").items[0].id
    styled = parse_checklist("## A\n\n- [ ] Run   **make   deploy**\n").items[0].id
    assert plain == styled


def test_explicit_ids_win_and_survive_rewording() -> None:
    first = parse_checklist("- [ ] Take a backup {#backup}\n").items[0]
    reworded = parse_checklist("- [ ] Take a full, verified backup {#backup}\n").items[0]
    assert first.id == reworded.id == "backup"


def test_ids_of_repaired_text_match_clean_text() -> None:
    damaged = "✅ Checks".encode().decode("mac_roman")
    clean = parse_checklist("## ✅ Checks\n\n- [ ] Deploy\n").items[0].id
    repaired = parse_checklist(f"## {damaged}\n\n- [ ] Deploy\n").items[0].id
    assert clean == repaired
