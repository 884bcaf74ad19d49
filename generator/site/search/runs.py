"""Runs in the search index (issue #16): one entry per run, from the digest the build holds.

A run's fragment is ``["run", title, url, [], [], detail]``: the title is its release and
the checklist's title (as the run page shows them), the detail line its outcome, run ID,
change ticket, operator and environment. Release and checklist title are indexed as title
words, the detail as heading-level words. The entry's key is a hash of its texts, so a run
that changes is patched like an edited page; its words are cached under that key beside the
documents' (a later build needs an old run's words to take them out of the index).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from generator.core.files import recall, remember, store_cache_bytes
from generator.site.runs import RunView
from generator.site.search.document import BODY, STRONG, TITLE, DocWords, fragment_name, script
from generator.site.search.text import words
from generator.site.urls import url_path
from generator.sources.cache import DocumentStore


@dataclass(frozen=True, slots=True)
class RunEntry:
    """A run as the index holds it."""

    url: str
    key: str
    fragment: str
    """The text of its fragment file."""
    words: str
    """Its ``words`` cache entry (see :mod:`.document`)."""
    found: DocWords
    """The same, read."""


def run_entry(view: RunView) -> RunEntry:
    """The index entry of a run (kept in this process's memory under ``serve``)."""
    memo = f"search-run:{view.digest.key}" if view.digest.key and view.digest.settled else ""
    known = recall(memo) if memo else None
    if isinstance(known, RunEntry):
        return known
    record = view.record
    url = url_path(view.url)
    title = " · ".join(part for part in (record.release, record.snapshot.title) if part)
    detail = " · ".join(part for part in (view.summary.outcome.value.upper(), f"run {record.id}", record.change,
                                          record.operator, record.environment) if part)
    fragment = script(f"doc/{fragment_name(url)}", ["run", title, url, [], [], detail])
    levels = dict.fromkeys(words(detail), STRONG)
    levels.update(dict.fromkeys(words(title), TITLE))
    lines = [" ".join(sorted(word for word, level in levels.items() if level == wanted))
             for wanted in (TITLE, STRONG, BODY)]
    digest = hashlib.sha256(fragment.encode("utf-8")).hexdigest()
    text = "\n".join([digest, *lines])
    entry = RunEntry(url, hashlib.sha256(f"run\0{fragment}\0{text}".encode()).hexdigest(), fragment, text,
                     DocWords(digest, levels))
    if memo:
        remember(memo, entry)
    return entry


def store_run_words(store: DocumentStore, entry: RunEntry) -> None:
    """Cache the run's words under its key, where the document store keeps documents' words."""
    store_cache_bytes(store.folder / entry.key[:2] / f"{entry.key}.words", entry.words.encode("utf-8"))
