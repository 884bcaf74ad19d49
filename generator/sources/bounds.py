"""Bounds that keep one pathological Markdown file from taking the machine down.

Parsing costs memory in proportion to the tokens it makes: about 75 bytes per source byte
for a long list, but some 700 for a dense table (every cell is three tokens and a text
node). So a document is refused past a size (``max_document_size`` in ``site.yml``), and a
table past a number of columns or cells (a 2 MB table of 20,000 columns took 1.4 GB).

markdown-it drops everything after a block nested deeper than its ``maxNesting``, with no
sign. :data:`MAX_NESTING` is raised far above any real checklist, and a document that
still reaches it is parsed again with its deepest lines flattened (:func:`flatten_deep`),
each named in a warning: nothing is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

from generator.config import DEFAULT_MAX_DOCUMENT_SIZE
from generator.core.diagnostics import Diagnostic
from generator.core.errors import SourceError

MAX_TABLE_COLUMNS = 1000
MAX_TABLE_CELLS = 50_000
"""Cells of all tables of one document together (about 140 MB of tokens)."""
MAX_NESTING = 120
"""markdown-it block nesting levels (a list level takes two, a block quote one)."""
FLATTEN_COLUMNS = 100
"""When a document reaches :data:`MAX_NESTING`, lines whose container prefix (indentation,
``>`` and list markers) is wider than this are cut to it. Every level of nesting takes at
least one column of prefix, so the parse then stays below the limit."""

_PREFIX = re.compile(r"(?:[ \t>]|(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$))*")

TableRule = Callable[[StateBlock, int, int, bool], bool]


class TooLarge(Exception):
    """Raised inside the parser: ``line`` is 0-based in the parsed text."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def check_document_size(size: int, shown: str, limit: int = DEFAULT_MAX_DOCUMENT_SIZE) -> None:
    """Refuse a source larger than ``limit`` bytes, before it is read or parsed."""
    if size > limit:
        raise SourceError(f"is {size:,} bytes, more than the {limit:,} a document may have; split it, or raise "
                          "max_document_size in content/site.yml", shown, code="LB001")


def read_document(path: Path, shown: str, limit: int = DEFAULT_MAX_DOCUMENT_SIZE) -> bytes:
    """A source's bytes, refused when larger than ``limit`` (checked before reading, and after)."""
    check_document_size(path.stat().st_size, shown, limit)
    data = path.read_bytes()
    check_document_size(len(data), shown, limit)
    return data


def bounded_table(table: TableRule) -> TableRule:
    """markdown-it's table rule, refusing a table wider than :data:`MAX_TABLE_COLUMNS` or past
    :data:`MAX_TABLE_CELLS` cells in the document (counted in ``state.env``)."""

    def rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if silent or not table(state, start, end, True):
            return silent and table(state, start, end, True)
        delimiter = state.src[state.bMarks[start + 1] + state.tShift[start + 1] : state.eMarks[start + 1]]
        columns = max(1, delimiter.strip().strip("|").count("|") + 1)
        if columns > MAX_TABLE_COLUMNS:
            raise TooLarge(f"table has {columns:,} columns, more than {MAX_TABLE_COLUMNS:,}", start)
        used = int(state.env.get("launchbook_cells", 0))
        rows = max(0, (MAX_TABLE_CELLS - used) // columns - 1)  # the header row counts too
        capped = min(end, start + 2 + rows)
        if not table(state, start, capped, False):
            return False
        if state.line >= capped and capped < end and not state.isEmpty(capped):
            raise TooLarge(f"tables have more than {MAX_TABLE_CELLS:,} cells in this document", capped)
        state.env["launchbook_cells"] = used + columns * (state.line - start - 1)
        return True

    return rule


def truncated_at(tokens: Sequence[Token]) -> int | None:
    """The 0-based line where markdown-it stopped at :data:`MAX_NESTING` (dropping the rest), or ``None``."""
    for token in tokens:
        if token.nesting == 1 and token.level >= MAX_NESTING - 1:
            return (token.map or [0])[0]
    return None


def flatten_deep(text: str, source: str, line_offset: int) -> tuple[str, list[Diagnostic]]:
    """Cut every container prefix wider than :data:`FLATTEN_COLUMNS` to its last that many
    columns (so a deep item stays an item, at the deepest level kept)."""
    lines = text.split("\n")
    flattened: list[int] = []
    for index, line in enumerate(lines):
        prefix = _PREFIX.match(line)
        assert prefix is not None
        expanded = prefix.group(0).expandtabs(4)  # Markdown's tab stops; the prefix starts the line
        if len(expanded) <= FLATTEN_COLUMNS:
            continue
        lines[index] = expanded[-FLATTEN_COLUMNS:] + line[prefix.end():]
        flattened.append(index)
    if not flattened:
        return text, []
    count = len(flattened)
    message = (f"nested too deeply to parse: flattened {count} line{'s' if count != 1 else ''} to "
               f"{FLATTEN_COLUMNS} columns of indentation and markers (their items are kept, less deep)")
    return "\n".join(lines), [Diagnostic(source, flattened[0] + 1 + line_offset, message, "LB206")]


def parse_bounded(md: MarkdownIt, body: str, source: str, line_offset: int, seed: dict[str, object] | None = None
                  ) -> tuple[list[Token], dict[str, object], str, list[Diagnostic]]:
    """Parse ``body`` within the bounds: tokens, env, the text parsed (flattened when it was
    nested too deeply) and the warnings. A table past the bounds is an error naming its line."""
    warnings: list[Diagnostic] = []
    for attempt in range(2):
        env: dict[str, object] = dict(seed or {})
        try:
            tokens = md.parse(body, env)
        except TooLarge as exc:
            raise SourceError(exc.message, source, exc.line + 1 + line_offset, code="LB001") from None
        cut = truncated_at(tokens)
        if cut is None:
            return tokens, env, body, warnings
        if attempt:
            raise SourceError(f"nested more than {MAX_NESTING} levels deep", source, cut + 1 + line_offset,
                              code="LB001")
        body, warnings = flatten_deep(body, source, line_offset)
    raise AssertionError("unreachable")
