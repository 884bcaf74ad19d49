"""Markdown -> checklist model: task syntax, nesting, sections, optional, sign-offs."""

from __future__ import annotations

from typing import Any

import pytest

from generator.core.errors import SourceError
from generator.model import ItemState, Page
from tests.helpers import parse, parse_checklist


def test_all_task_markers_and_states() -> None:
    doc = parse_checklist(
        """
        - [ ] dash
        * [x] star done
        + [X] plus done
        1. [ ] ordered
        2. [~] not applicable
        - [] not a task
        - [y] not a task
        - plain bullet
        """
    )
    assert [(i.text, i.state) for i in doc.items] == [
        ("dash", ItemState.OPEN),
        ("star done", ItemState.DONE),
        ("plus done", ItemState.DONE),
        ("ordered", ItemState.OPEN),
        ("not applicable", ItemState.NA),
    ]


def test_nesting_to_any_depth_with_spaces_and_tabs() -> None:
    doc = parse_checklist("- [ ] one\n  - [ ] two\n    - [ ] three\n\t\t- [ ] four\n- [ ] back\n")
    assert [(i.text, i.depth) for i in doc.items] == [("one", 1), ("two", 2), ("three", 3), ("four", 4), ("back", 1)]
    assert doc.items[3].parent == doc.items[2].id
    assert doc.items[4].parent is None


def test_task_nested_under_plain_bullet_counts_task_ancestors_only() -> None:
    doc = parse_checklist("- Database\n  - [ ] backups\n")
    assert [(i.text, i.depth) for i in doc.items] == [("backups", 1)]


def test_lazy_continuation_lines_join_the_item() -> None:
    doc = parse_checklist("- [ ] Rotate the keys\nfor every tenant\n- [ ] next\n")
    assert [i.text for i in doc.items] == ["Rotate the keys for every tenant", "next"]
    assert [i.line for i in doc.items] == [1, 3]


def test_inline_markdown_is_stripped_from_text_but_rendered_in_html() -> None:
    doc = parse_checklist("- [ ] Run **`make deploy`** on [prod](https://example.com)\n")
    item = doc.items[0]
    assert item.text == "Run make deploy on prod"
    assert item.html == '<p>Run <strong><code>make deploy</code></strong> on <a href="https://example.com">prod</a></p>' or (
        "<strong><code>make deploy</code></strong>" in item.html
    )


def test_an_items_html_is_what_the_page_shows_links_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    """An item's HTML comes from the page's own render (made once): links to ``.md`` sources
    point at the pages they become, and a same-page link written in another case at the anchor."""
    from generator.sources.markdown import SafeRenderer

    rendered: list[int] = []
    inline = SafeRenderer.renderInline

    def counted(self: SafeRenderer, tokens: Any, options: Any, env: Any) -> str:
        rendered.append(id(tokens))
        return inline(self, tokens, options, env)

    monkeypatch.setattr(SafeRenderer, "renderInline", counted)
    doc = parse_checklist("# T\n\n## Steps\n\n- [ ] see [rb](rollback.md#Undo) and [up](#Steps)\n"
                          "  - [ ] nested <kbd>Ctrl</kbd> **now**\n- [ ] <!-- hidden --> plain\n")
    assert [item.html for item in doc.items] == [
        'see <a href="rollback.html#Undo">rb</a> and <a href="#steps">up</a>',
        "nested <kbd>Ctrl</kbd> <strong>now</strong>", " plain"]
    for item in doc.items:
        assert item.html in doc.body_html
    assert len(rendered) == len(set(rendered)) == 4  # "Steps" and three items, each once


def test_nothing_in_code_comments_or_html_blocks_counts() -> None:
    doc = parse(
        """
        - [ ] real

        ```
        - [ ] in a fence
        ```

            - [ ] indented code

        <!--
        - [ ] in a comment
        -->

        <div>
        - [ ] in an HTML block
        </div>
        """
    )
    assert [i.text for i in doc.items] == ["real"]  # type: ignore[attr-defined]


def test_untrusted_html_is_escaped() -> None:
    doc = parse_checklist("- [ ] Smoke <script>alert(1)</script> test\n\n<div onclick=x>hi</div>\n")
    assert "<script>" not in doc.body_html
    assert "&lt;script&gt;" in doc.body_html
    assert "<div onclick" not in doc.body_html
    assert "&lt;script&gt;" in doc.items[0].html


def test_sections_follow_headings_and_title_is_not_a_section() -> None:
    doc = parse_checklist(
        """
        # Deploy

        - [ ] top

        ## Security

        ### SSL/TLS

        - [ ] cert

        ## Database

        - [ ] backup
        """
    )
    assert doc.title == "Deploy"
    assert [i.section for i in doc.items] == [(), ("Security", "SSL/TLS"), ("Database",)]
    assert [h.text for h in doc.headings] == ["Security", "SSL/TLS", "Database"]
    assert "<h1" not in doc.body_html


def test_front_matter_title_and_fields() -> None:
    doc = parse_checklist(
        """
        ---
        title: Failover drill
        id: failover
        owner: SRE
        tags: [db, drill]
        description: Twice a year.
        ---
        - [ ] go
        """
    )
    assert (doc.title, doc.id, doc.owner, doc.tags, doc.description) == (
        "Failover drill", "failover", "SRE", ("db", "drill"), "Twice a year.")
    assert doc.items[0].line == 8


@pytest.mark.parametrize(
    ("text", "optional"),
    [
        ("Configure DNS AAAA records (optional)", True),
        ("Set up read replicas (optional, for scale)", True),
        ("VPN configured (if applicable)", True),
        ("Configure automatic failover (if using cluster)", True),
        ("Optional: warm the cache", True),
        ("Payment gateway configured", False),
        ("Decide whether failover is optional", False),
    ],
)
def test_optional_detection(text: str, optional: bool) -> None:
    assert parse_checklist(f"- [ ] {text}\n").items[0].optional is optional


def test_optional_from_attribute_heading_parent_and_front_matter() -> None:
    doc = parse_checklist(
        """
        ---
        optional: [pinned]
        ---
        - [ ] marked {.optional}
        - [ ] pinned by id {#pinned}
        - [ ] Redis (optional)
          - [ ] child of optional
        - [ ] forced required (optional) {.required}

        ## Kubernetes (if applicable)

        - [ ] under optional heading
        """
    )
    assert [(i.text, i.optional) for i in doc.items] == [
        ("marked", True),
        ("pinned by id", True),
        ("Redis (optional)", True),
        ("child of optional", True),
        ("forced required (optional)", False),
        ("under optional heading", True),
    ]


def test_signoff_lines_are_roles_not_items() -> None:
    doc = parse_checklist(
        """
        ## Sign-Off

        - [ ] **Technical Lead:** ********\\_******** Date: **\\_\\_\\_**
        - [ ] **CTO/VP Engineering:** __________ Date: ____
        - [ ] **Rollback:** tested on staging
        """
    )
    assert [s.role for s in doc.signoffs] == ["Technical Lead", "CTO/VP Engineering"]
    assert [s.source for s in doc.signoffs] == ["line", "line"]
    assert [i.text for i in doc.items] == ["Rollback: tested on staging"]


def test_signoff_table_roles() -> None:
    doc = parse_checklist(
        """
        - [ ] work

        | Role | Name | Signature | Date |
        |------|------|-----------|------|
        | Developer | | | |
        | Product Owner | | | |

        | Service | Port |
        |---------|------|
        | api | 443 |
        """
    )
    assert [(s.role, s.line, s.source) for s in doc.signoffs] == [("Developer", 5, "table"), ("Product Owner", 6, "table")]


def test_decision_boxes() -> None:
    doc = parse_checklist("- [ ] x\n\n**Ready for Production:** ⬜ YES ⬜ NO ⬜ NEEDS REVIEW\n")
    assert [(d.label, d.options, d.line) for d in doc.decisions] == [
        ("Ready for Production", ("YES", "NO", "NEEDS REVIEW"), 3)
    ]


def test_document_without_items_is_a_page() -> None:
    assert isinstance(parse("# Notes\n\nJust prose.\n- a bullet\n"), Page)


def test_duplicate_explicit_id_is_an_error_naming_the_line() -> None:
    with pytest.raises(SourceError) as caught:
        parse_checklist("- [ ] one {#same}\n- [ ] two\n- [ ] three {#same}\n", "ops.md")
    assert caught.value.message == "content/ops.md:3: duplicate item ID 'same' (first used on line 1)"


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("---\ntitle: [unclosed\n---\n- [ ] x\n", 2, "invalid YAML front matter"),
        ("---\ntitle: a\nnav_order: first\n---\n- [ ] x\n", 3, "nav_order"),
        ("---\ntitle: never closed\n- [ ] x\n", 1, "never ends"),
    ],
)
def test_bad_front_matter_names_file_and_line(source: str, line: int, fragment: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse(source, "bad.md")
    assert caught.value.path == "content/bad.md"
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_unknown_front_matter_key_is_a_warning() -> None:
    doc = parse_checklist("---\ntitle: T\nownr: typo\n---\n- [ ] x\n")
    assert [str(w) for w in doc.warnings] == ["content/doc.md:3: unknown front matter key 'ownr'"]
