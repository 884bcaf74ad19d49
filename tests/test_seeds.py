"""The five real checklists users gave us: counts, repairs, and no damage left."""

from __future__ import annotations

import re

import pytest

from generator.model import Checklist
from generator.sources.checklist import parse_document
from tests.helpers import CONTENT, DEMO_SEEDS, SEEDS

# (items, sign-off roles, items nested with &nbsp;) per demo file.
EXPECTED = {
    "launches/planner-app.md": (173, 0),
    "launches/dreamcatcher.md": (253, 0),
    "launches/momentverse.md": (151, 0),
    "platform/go-live-readiness.md": (258, 5),
    "platform/sv-sdk.md": (140, 4),
}
# Fragments that only damaged text contains: cp1252 and Mac Roman mojibake, escaped exports.
DAMAGE = re.compile(r"ðŸ|â€|Ã[\x80-\xbf]|‚Ä|‚Ü|‚ú|‚â|üö|üè|üî|üì|Ô∏|\uf8ff|\\[\[\]#*_-]|&nbsp;")


def load(rel: str) -> Checklist:
    document = parse_document((CONTENT / rel).read_bytes(), f"content/{rel}", rel)
    assert isinstance(document, Checklist)
    return document


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_item_and_signoff_counts(rel: str) -> None:
    items, roles = EXPECTED[rel]
    doc = load(rel)
    assert (len(doc.items), len(doc.signoffs)) == (items, roles)
    assert len({item.id for item in doc.items}) == items


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_no_damage_left_in_titles_sections_or_items(rel: str) -> None:
    doc = load(rel)
    texts = [doc.title, *(h.text for h in doc.headings), *(i.text for i in doc.items), *(s.role for s in doc.signoffs)]
    damaged = [text for text in texts if DAMAGE.search(text)]
    assert damaged == []


def test_escaped_export_with_nbsp_nesting() -> None:
    doc = load("launches/planner-app.md")
    nested = [item for item in doc.items if item.depth == 2]
    assert len(nested) == 9
    assert nested[0].text == "Google Cloud Console - Calendar API"
    assert nested[0].parent is not None
    assert {w.message.split(" (")[0].split(" on ")[0] for w in doc.warnings} == {
        "undid Markdown escaping from an export",
        "replaced &nbsp; indentation with spaces",
    }


def test_cp1252_seed_is_repaired() -> None:
    doc = load("launches/dreamcatcher.md")
    assert "keep your users happy! 🚀" in doc.plain_text
    assert any("Windows-1252" in w.message for w in doc.warnings)


def test_mac_roman_seeds_are_repaired_exactly() -> None:
    momentverse = load("launches/momentverse.md")
    assert [h.text for h in momentverse.headings][:2] == ["🚀 Pre-Deployment Setup", "Environment Configuration"]
    readiness = load("platform/go-live-readiness.md")
    assert readiness.title == "Go-live readiness with sign-off"
    assert "☸️ Kubernetes (if applicable)" in [h.text for h in readiness.headings]
    assert any(item.text == "HTTP → HTTPS redirect configured" for item in readiness.items)
    assert [d.options for d in readiness.decisions] == [("YES", "NO", "NEEDS REVIEW")]


def test_signoff_roles_from_lines_and_table() -> None:
    assert [s.role for s in load("platform/go-live-readiness.md").signoffs] == [
        "Technical Lead", "DevOps Lead", "Security Lead", "Product Owner", "CTO/VP Engineering"]
    assert [s.role for s in load("platform/sv-sdk.md").signoffs] == ["Developer", "DevOps", "Security", "Product Owner"]


def test_sections_optional_items_under_optional_headings() -> None:
    doc = load("platform/go-live-readiness.md")
    kubernetes = [i for i in doc.items if i.section and i.section[0].endswith("Kubernetes (if applicable)")]
    assert kubernetes and all(item.optional for item in kubernetes)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds not beside this checkout")
@pytest.mark.parametrize("rel", sorted(DEMO_SEEDS))
def test_demo_bodies_are_the_seeds_byte_for_byte(rel: str) -> None:
    demo = (CONTENT / rel).read_bytes()
    body = demo.split(b"\n---\n", 1)[1]
    assert body == (SEEDS / DEMO_SEEDS[rel]).read_bytes()
