"""The typed model every stage after parsing works on.

Value objects are frozen: a parsed checklist never changes; later stages derive new
values from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from generator.core.diagnostics import Diagnostic
from generator.core.files import pickled_by_fields


class ItemState(Enum):
    """The state a checklist item has in its Markdown source."""

    OPEN = "open"
    DONE = "done"
    NA = "na"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of a document, with the anchor it renders with."""

    level: int
    """1 to 6."""
    text: str
    """Plain, repaired heading text."""
    anchor: str
    """HTML id of the heading, unique within its page."""
    line: int
    """1-based source line."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item (a GitHub/GitLab-style task list entry)."""

    id: str
    """Stable ID: from section path + own text (+ occurrence), or an explicit ``{#id}``."""
    text: str
    """Plain text, inline Markdown stripped, repaired."""
    html: str
    """The item's own text rendered as inline HTML (escaped, safe to embed)."""
    section: tuple[str, ...]
    """Heading texts from the outermost section down (the title heading excluded)."""
    depth: int
    """1 for a top-level item, 2 for an item nested in another item, and so on."""
    optional: bool
    """True when the text or an attribute marks the item as optional."""
    state: ItemState
    """State in the source: ``[ ]`` open, ``[x]`` done, ``[~]`` not applicable."""
    line: int
    """1-based source line of the item."""
    parent: str | None = None
    """ID of the enclosing item, if nested."""
    command: str = ""
    """The item's runnable step: its first fenced block marked ``{.run}`` (``sh`` or ``bash``)."""
    shell: str = ""
    """The shell that runs ``command`` (``sh`` or ``bash``); empty when there is none."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SignoffRole:
    """A role that must sign the checklist off (from a sign-off table or line)."""

    role: str
    """Role name as written, e.g. ``Technical Lead``."""
    line: int
    """1-based source line."""
    source: str
    """``table`` or ``line``: where it was recognised."""
    anchor: str | None = None
    """HTML id of the sign-off line on the checklist page (``None`` for table rows)."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Decision:
    """A decision box line such as ``Ready for Production: ⬜ YES ⬜ NO``."""

    label: str
    """Question being decided (may be empty)."""
    options: tuple[str, ...]
    """The choices offered, in source order."""
    line: int
    """1-based source line."""


@dataclass(frozen=True, slots=True)
class Document:
    """What every Markdown source has in common: checklist or plain page."""

    id: str
    """Stable identifier (front matter ``id`` or derived from the file name)."""
    title: str
    """Front matter title, else the first H1, else the file name."""
    source: str
    """Source path as shown to the user."""
    rel_path: str
    """Path relative to ``content/`` with ``/`` separators (``ops/deploy.md``)."""
    description: str
    """Front matter description, or empty."""
    tags: tuple[str, ...]
    """Front matter tags, sorted as written."""
    owner: str
    """Front matter owner, or empty."""
    body_html: str
    """Rendered body (safe HTML)."""
    plain_text: str
    """Body as plain text, for search."""
    headings: tuple[Heading, ...]
    """Headings in source order, for the table of contents."""
    warnings: tuple[Diagnostic, ...]
    """Repairs and problems found while reading."""
    sha256: str
    """Hex digest of the source file's bytes."""
    links: tuple[tuple[str, int], ...] = ()
    """Internal link targets (``href``, line) found in the body, for checking."""
    nav_order: int | None = None
    """Front matter ``nav_order``: explicit position in navigation."""

    @property
    def kind(self) -> str:
        """``checklist`` or ``page``."""
        return "checklist" if isinstance(self, Checklist) else "page"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Checklist(Document):
    """A Markdown document with task items."""

    items: tuple[Item, ...] = ()
    """Every item, in source order."""
    signoffs: tuple[SignoffRole, ...] = ()
    """Sign-off roles, in source order."""
    decisions: tuple[Decision, ...] = ()
    """Decision boxes, in source order."""
    section_counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Heading anchor -> (done, total) items under it (nested sections included)."""

    def item(self, item_id: str) -> Item | None:
        """Return the item with this ID, or ``None``."""
        for item in self.items:
            if item.id == item_id:
                return item
        return None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Page(Document):
    """A Markdown document without task items."""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What the whole-site stages (navigation, home page, links, search) need of a document.

    No body and no items: a 10,000-page site keeps 10,000 of these in memory, and each
    page's full :class:`Document` is loaded only while that page renders.
    """

    key: str
    """Cache key of the full document (source bytes + path + parser code)."""
    kind: str
    """``checklist`` or ``page``."""
    id: str
    title: str
    source: str
    rel_path: str
    description: str
    tags: tuple[str, ...]
    owner: str
    sha256: str
    nav_order: int | None
    warnings: tuple[Diagnostic, ...]
    links: tuple[tuple[str, int], ...]
    counts: dict[str, int]
    """Item, done, N/A, optional, section and sign-off counts (checklists; empty for pages)."""
