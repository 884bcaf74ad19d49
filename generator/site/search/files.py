"""The index's files: the meta file, the word shards and every document's fragment.

Shards split the sorted vocabulary by folded prefix: starting from every word in one
shard, a shard larger than :data:`SHARD_LIMIT` is split by the next character (a word
equal to the prefix keeps a shard of its own), again and again. A query word needs only
the shards whose prefix starts with it or is the start of it. Which shards exist depends on
the words alone, and a shard's bytes only on its words' postings, so an edit rewrites
the few shards of the words it touched; the writer keeps every file whose bytes the
previous output already holds (fragments without even reading them).
"""

from __future__ import annotations

import bisect
import itertools

from generator.core.errors import BuildError
from generator.model import DocumentSummary
from generator.site.runs import RunView
from generator.site.search.codec import numbers
from generator.site.search.document import DocWords, fragment_name, page_url, read_words, script
from generator.site.search.postings import Doc, Postings, doc_numbers, join, load_postings, save_postings
from generator.site.search.runs import run_entry, store_run_words
from generator.site.writer import OutputWriter
from generator.sources.cache import DocumentStore

FOLDER = "assets/search"
SHARD_LIMIT = 128 * 1024
"""A shard holding more than this many characters of entries is split by one more character."""
FORMAT = 1
"""The files' format, for the script (bumped when it changes)."""
_AFTER = "\U0010ffff"  # sorts after every letter and digit


def shard_file(prefix: str) -> str:
    """The name of the shard of words starting with ``prefix`` (``all`` for every word):
    the hex of its UTF-8, safe in any file system and URL."""
    return prefix.encode("utf-8").hex() if prefix else "all"


def partition(vocabulary: list[str], sizes: list[int], limit: int) -> list[tuple[str, int, int]]:
    """``(prefix, start, end)`` of each shard: ``vocabulary[start:end]`` (sorted words of
    ``sizes`` characters each) all start with ``prefix``, and hold at most ``limit``
    characters unless they are one word."""
    total = [0, *itertools.accumulate(sizes)]
    shards: list[tuple[str, int, int]] = []

    def split(prefix: str, start: int, end: int) -> None:
        if end - start <= 1 or total[end] - total[start] <= limit:
            shards.append((prefix, start, end))
            return
        depth = len(prefix)
        if vocabulary[start] == prefix:
            shards.append((prefix, start, start + 1))
            start += 1
        while start < end:
            child = vocabulary[start][: depth + 1]
            stop = bisect.bisect_left(vocabulary, child + _AFTER, start, end)
            split(child, start, stop)
            start = stop

    if vocabulary:
        split("", 0, len(vocabulary))
    return shards


def write_search_index(writer: OutputWriter, summaries: list[DocumentSummary], store: DocumentStore,
                       runs: list[RunView]) -> None:
    """Write the search index of ``summaries`` (every document of the site) and ``runs`` into ``writer``."""
    entries = [(page_url(summary.rel_path), summary.key) for summary in summaries]
    run_entries = {entry.key: entry for entry in map(run_entry, runs)}
    entries += [(entry.url, entry.key) for entry in run_entries.values()]
    urls = {url for url, _ in entries}
    if len(urls) != len(entries):  # the writer refuses two pages at one URL before this
        raise BuildError("two entries of the search index have the same URL")
    state = store.folder.parent / "search-postings"
    previous = load_postings(state)
    known = previous.numbers_for(urls) if previous is not None else None  # an edit: the same pages
    if previous is None or known is None:
        names = _fragment_names(urls)
        numbered, bits = doc_numbers({url: int(name, 16) for url, name in names.items()})
    else:
        (numbered, names), bits = known, previous.bits
    docs: list[Doc] = [(url, key, numbered[url]) for url, key in entries]

    def current(key: str) -> DocWords:
        run = run_entries.get(key)
        if run is None:
            return _current(store, key)
        store_run_words(store, run)  # a later build takes its words out of the index when it changes
        return run.found

    postings = join(previous, docs, bits, names, current, lambda key: _cached(store, key))
    store.use(key for key, _, _ in postings.docs.values())  # the next build takes changed ones' words out
    if postings is not previous:
        save_postings(state, postings)
    fragments = {f"{FOLDER}/doc/{names[url]}.js": (key, digest) for url, (key, _, digest) in postings.docs.items()}
    for rel in writer.reuse_unchanged(sorted((rel, digest) for rel, (_, digest) in fragments.items())):
        key = fragments[rel][0]
        run = run_entries.get(key)
        writer.write(rel, run.fragment if run is not None else store.derived(key, "frag"))
    shards = partition(postings.vocabulary, [len(postings.entries[word]) + 1 for word in postings.vocabulary],
                       SHARD_LIMIT)
    for prefix, start, end in shards:
        name = f"words/{shard_file(prefix)}"
        entries_text = ",".join(postings.entries[word] for word in postings.vocabulary[start:end])
        writer.write(f"{FOLDER}/{name}.js", f'window.LAUNCHBOOK_SEARCH_PART("{name}",{{{entries_text}}});\n')
    writer.write(f"{FOLDER}/index.js", _meta(postings, names, [prefix for prefix, _, _ in shards]))


def _fragment_names(urls: set[str]) -> dict[str, str]:
    names = {url: fragment_name(url) for url in urls}
    owners: dict[str, str] = {}
    for url in sorted(names):
        owner = owners.setdefault(names[url], url)
        if owner != url:  # 64 bits of sha256: only a page made to collide on purpose
            raise BuildError(f"the pages {owner} and {url} have the same search fragment name; rename one of them")
    return names


def _meta(postings: Postings, names: dict[str, str], prefixes: list[str]) -> str:
    by_number = sorted((number, url) for url, (_, number, _) in postings.docs.items())
    gaps = [number - previous - 1 for (number, _), previous in zip(by_number, [-1, *(n for n, _ in by_number)],
                                                                    strict=False)]
    return script("index", {
        "v": FORMAT, "bits": postings.bits, "count": len(by_number), "numbers": numbers(gaps),
        "names": "".join(names[url] for _, url in by_number), "shards": prefixes,
    })


def _current(store: DocumentStore, key: str) -> DocWords:
    found = read_words(store.derived(key, "words"))  # read once per new key: not worth keeping in memory
    if found is None:  # a damaged cache entry: made again from the document
        found = read_words(store.derived(key, "words", fresh=True))
    if found is None:
        raise BuildError(f"cannot index the document {key} for search")
    return found


def _cached(store: DocumentStore, key: str) -> DocWords | None:
    text = store.cached(key, "words")
    return read_words(text) if text is not None else None
