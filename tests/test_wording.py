"""Counted nouns in messages (no "1 checklists", "1 warnings", "1 entries")."""

from generator.core.wording import counted


def test_counted_nouns_agree_with_their_number() -> None:
    assert counted(1, "checklist") == "1 checklist" and counted(0, "checklist") == "0 checklists"
    assert counted(1, "ledger entry") == "1 ledger entry" and counted(2, "ledger entry") == "2 ledger entries"
    assert counted(3, "warning") == "3 warnings" and counted(2, "child", "children") == "2 children"
