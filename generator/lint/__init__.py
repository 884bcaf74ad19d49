"""``launchbook lint``: rule-coded problems in checklist sources, and ``--fix``."""
