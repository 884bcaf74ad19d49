"""Document numbers, and the join of every document's words into posting lists.

**Numbers.** A page's number is its URL's hash, taken modulo a power of two at least twice
the page count; pages whose slots clash take the next free one (in the order of their slot,
then URL: ordered linear probing). So a number depends on the page's URL and the size class
of the site, not on other pages' positions: an edit never renumbers anything, a new page
at most the one or two pages after it in its slot's cluster, and only a site doubling in
size renumbers every page.

**The join.** Every word's postings (:mod:`.codec` blocks) are kept in the build's cache
(``search-postings``) with the documents (URL -> key, number, fragment digest) they were
joined from. The next build patches that join with what changed: the words a changed page
gained, lost or moved between levels, in the blocks of its old and new number. Nothing is
patched when the cache is missing, was made by other code or misses an old page's words:
then every page's cached words are joined afresh. Either way the result is the same
function of the pages, so a patched index is byte-identical to a fresh one.
"""

from __future__ import annotations

import bisect
import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import code_digest
from generator.core.files import load_pickle, recall, remember, store_cache_later
from generator.site.search.codec import LEVELS, decode_block, encode_block, encode_codes, read_word_code, word_code
from generator.site.search.document import DocWords

BLOCKS = 16
"""Blocks per word in a large site (blocks hold at least 1024 numbers)."""


def doc_numbers(hashes: dict[str, int]) -> tuple[dict[str, int], int]:
    """URL -> number, from URL -> hash of the URL; and the block size (as bits)."""
    space = max(64, 1 << (2 * len(hashes) - 1).bit_length())
    mask = space - 1
    numbers: dict[str, int] = {}
    free = 0
    for slot, url in sorted((value & mask, url) for url, value in hashes.items()):
        numbers[url] = free = max(slot, free)
        free += 1
    return numbers, max(10, space.bit_length() - BLOCKS.bit_length())


@dataclass(frozen=True)
class Postings:
    """The join of every document's words (never changed once made: a patch makes a new one)."""

    version: str
    bits: int
    docs: dict[str, tuple[str, int, str]]
    """URL -> (document key, number, sha256 of its fragment file)."""
    names: dict[str, str]
    """URL -> fragment name (a function of the URL: kept to save hashing them again)."""
    entries: dict[str, str]
    """Word -> its entry in a shard file (``"word":"postings"``; a patch reads its blocks back)."""
    vocabulary: list[str]
    """Every word, sorted."""

    def numbers_for(self, urls: set[str]) -> tuple[dict[str, int], dict[str, str]] | None:
        """URL -> number and URL -> fragment name of exactly these URLs, when this join was
        made for the same ones by this code (numbers depend on the set of URLs alone)."""
        if self.version != _version() or self.docs.keys() != urls:
            return None
        return {url: doc[1] for url, doc in self.docs.items()}, self.names


Doc = tuple[str, str, int]
"""(URL, document key, number)."""


def _key(word: str) -> str:
    return f"{json.dumps(word, ensure_ascii=False)}:\""


def _entry(word: str, blocks: dict[int, str]) -> str:
    return f"{_key(word)}{word_code(blocks)}\""


def _blocks(word: str, entry: str) -> dict[int, str]:
    return read_word_code(entry[len(_key(word)):-1])


def _version() -> str:
    return f"2:{code_digest()}"


def join_all(docs: list[Doc], bits: int, names: dict[str, str], current: Callable[[str], DocWords]) -> Postings:
    """Every document's words (``current``: by document key), joined afresh."""
    codes: dict[str, list[int]] = {}
    table: dict[str, tuple[str, int, str]] = {}
    for url, key, number in sorted(docs, key=lambda doc: doc[2]):
        found = current(key)
        table[url] = (key, number, found.digest)
        base = number * LEVELS
        for word, level in found.levels.items():
            listed = codes.get(word)
            if listed is None:
                codes[word] = [base + level]
            else:
                listed.append(base + level)
    entries = {word: _entry(word, encode_codes(listed, bits)) for word, listed in codes.items()}
    return Postings(_version(), bits, table, names, entries, sorted(entries))


def join(previous: Postings | None, docs: list[Doc], bits: int, names: dict[str, str],
         current: Callable[[str], DocWords], cached: Callable[[str], DocWords | None]) -> Postings:
    """The join of ``docs`` (``names``: their fragment names by URL): ``previous`` patched
    with what changed, else :func:`join_all`. ``cached`` gives the words of a document key
    from the cache only (``None`` if gone)."""
    if previous is None or previous.version != _version() or previous.bits != bits:
        return join_all(docs, bits, names, current)
    changes = _changes(previous, docs, current, cached)
    if changes is None:
        return join_all(docs, bits, names, current)
    table, touched = changes
    if not touched:
        return previous if table == previous.docs else Postings(
            previous.version, bits, table, names, previous.entries, previous.vocabulary)
    return _patched(previous, table, names, touched)


def _changes(previous: Postings, docs: list[Doc], current: Callable[[str], DocWords],
             cached: Callable[[str], DocWords | None],
             ) -> tuple[dict[str, tuple[str, int, str]], dict[str, dict[int, int | None]]] | None:
    """The new document table, and word -> number -> new level (``None``: no longer there)."""
    table: dict[str, tuple[str, int, str]] = {}
    removed: list[tuple[int, DocWords]] = []
    edited: list[tuple[int, DocWords, DocWords]] = []
    added: list[tuple[int, DocWords]] = []
    for url, key, number in docs:
        old = previous.docs.get(url)
        if old is not None and old[0] == key and old[1] == number:
            table[url] = old
            continue
        found = current(key)
        table[url] = (key, number, found.digest)
        if old is None:
            added.append((number, found))
            continue
        before = cached(old[0])
        if before is None:
            return None
        if old[1] == number:
            edited.append((number, before, found))
        else:
            removed.append((old[1], before))
            added.append((number, found))
    for url in previous.docs.keys() - table.keys():
        before = cached(previous.docs[url][0])
        if before is None:
            return None
        removed.append((previous.docs[url][1], before))
    touched: dict[str, dict[int, int | None]] = {}
    for number, before in removed:  # first: a number a page gave up may now be another's
        for word in before.levels:
            touched.setdefault(word, {})[number] = None
    for number, before, found in edited:
        for word in before.levels.keys() - found.levels.keys():
            touched.setdefault(word, {})[number] = None
        for word, level in found.levels.items():
            if before.levels.get(word) != level:
                touched.setdefault(word, {})[number] = level
    for number, found in added:
        for word, level in found.levels.items():
            touched.setdefault(word, {})[number] = level
    return table, touched


def _patched(previous: Postings, table: dict[str, tuple[str, int, str]], names: dict[str, str],
             touched: dict[str, dict[int, int | None]]) -> Postings:
    bits = previous.bits
    entries = dict(previous.entries)
    new: list[str] = []
    gone: list[str] = []
    for word, changes in touched.items():
        old = entries.get(word)
        word_blocks = _blocks(word, old) if old is not None else {}
        by_block: dict[int, list[tuple[int, int | None]]] = {}
        for number, level in changes.items():
            by_block.setdefault(number >> bits, []).append((number, level))
        for block, block_changes in by_block.items():
            start = block << bits
            postings = decode_block(word_blocks[block], start) if block in word_blocks else {}
            for number, level in block_changes:
                if level is None:
                    postings.pop(number, None)
                else:
                    postings[number] = level
            if postings:
                word_blocks[block] = encode_block(sorted(postings.items()), start)
            else:
                word_blocks.pop(block, None)
        if word_blocks:
            if old is None:
                new.append(word)
            entries[word] = _entry(word, word_blocks)
        elif old is not None:
            del entries[word]
            gone.append(word)
    vocabulary = previous.vocabulary
    if len(new) + len(gone) > 1000:
        vocabulary = sorted(entries)
    elif new or gone:
        vocabulary = list(vocabulary)
        for word in gone:
            del vocabulary[bisect.bisect_left(vocabulary, word)]
        for word in new:
            bisect.insort(vocabulary, word)
    return Postings(previous.version, bits, table, names, entries, vocabulary)


def load_postings(path: Path) -> Postings | None:
    """The join a build left in ``path`` (or in this process's memory, under ``serve``)."""
    value = recall(str(path))
    if not isinstance(value, Postings):
        value = load_pickle(path)
    return value if isinstance(value, Postings) else None


def save_postings(path: Path, postings: Postings) -> None:
    store_cache_later(path, lambda: pickle.dumps(postings, protocol=pickle.HIGHEST_PROTOCOL))
    remember(str(path), postings)
