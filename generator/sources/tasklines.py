"""Nothing is silently lost: every line that looks like a task item is an item, or a warning.

A line scan, independent of the parser's rules: a line that starts (after indentation,
``>`` and list markers) with a checkbox and then whitespace or its end is task-looking.
Each one must have become an item (or a sign-off role, which is an item token too), or lie
inside a code block or an HTML block, where nothing counts. Any other is reported as
LB205 with its line, so a run of the checklist cannot reach GO without it unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from markdown_it.token import Token

from generator.core.diagnostics import Diagnostic

_TASK_LOOKING = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+(?:>[ \t]*)*)+\[([ xX~])\](?P<after>\s|$)"
)
_ANY_TASK_LOOKING = re.compile(_TASK_LOOKING.pattern, re.MULTILINE)
_LIST_OR_BLOCK = re.compile(r"^[ \t]*(?:$|[-+*][ \t]|\d{1,9}[.)][ \t]|#|>|```|~~~)")
_OPAQUE = {"fence", "code_block", "html_block"}
_GITHUB_SPACE = " \t\v\f"


def text_follows(next_line: str) -> bool:
    """Whether a line under a lone checkbox is the item's text (not blank, not a new block)."""
    return not _LIST_OR_BLOCK.match(next_line)


def has_task_line(text: str) -> bool:
    """Whether any line of ``text`` looks like a task item (code blocks included: a hint, not a parse)."""
    return _ANY_TASK_LOOKING.search(text) is not None


def opaque_lines(tokens: Sequence[Token]) -> set[int]:
    """0-based lines inside code blocks and HTML blocks (comments included)."""
    lines: set[int] = set()
    for token in tokens:
        if token.type in _OPAQUE and token.map:
            lines.update(range(token.map[0], token.map[1]))
    return lines


def lost_task_lines(text: str, tokens: Sequence[Token], item_lines: Collection[int], source: str,
                    line_offset: int) -> list[Diagnostic]:
    """LB205 for every task-looking line of ``text`` that is not an item (``item_lines``, 0-based)."""
    lines = text.split("\n")
    opaque = opaque_lines(tokens)
    problems: list[Diagnostic] = []
    for index, line in enumerate(lines):
        match = _TASK_LOOKING.match(line)
        if not match or index in item_lines or index in opaque:
            continue
        after = match.group("after")
        if not after:
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if not text_follows(following):
                continue  # a checkbox alone: an empty item (LB201), nothing below it is lost
            reason = "the checkbox is followed by a line break: put the item's text on the same line"
        elif after not in _GITHUB_SPACE:
            reason = f"the checkbox is followed by U+{ord(after):04X}, not a space"
        else:
            reason = "Markdown reads it as part of the text above it (indentation, a table or a paragraph)"
        problems.append(Diagnostic(source, index + 1 + line_offset,
                                   f"line looks like a task item but is not one, so it is not counted: {reason}",
                                   "LB205"))
    return problems
