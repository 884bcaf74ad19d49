"""The sharded search index (issue #15): its codec, page numbers, the patched join of
every page's words, the shards, and what one edit changes in a built site."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from generator.site.search import files as search_files
from generator.site.search.codec import decode_block, encode_codes, numbers, read_numbers, read_word_code, word_code
from generator.site.search.document import TITLE, DocWords, fragment_name, read_words, search_derived
from generator.site.search.files import partition, shard_file
from generator.site.search.postings import Postings, doc_numbers, join, join_all
from generator.site.search.text import MAX_WORD, fold, words
from tests.helpers import ROOT, parse, search_parts

RunCli = Callable[..., Result]


def test_numbers_read_back_and_use_only_safe_characters() -> None:
    values = [0, 1, 31, 32, 1023, 1024, 2**20 + 7, 2**40]
    text = numbers(values)
    assert read_numbers(text) == values
    assert set(text) <= set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
    with pytest.raises(ValueError):
        read_numbers("w")  # a number cut short
    with pytest.raises(ValueError):
        read_numbers("a~")


def test_postings_decode_to_what_was_encoded() -> None:
    rng = random.Random(1)
    bits = 10
    postings = sorted({rng.randrange(5000): rng.randrange(3) for _ in range(400)}.items())
    blocks = encode_codes([doc * 3 + level for doc, level in postings], bits)
    decoded: dict[int, int] = {}
    for block, text in blocks.items():
        decoded.update(decode_block(text, block << bits))
    assert sorted(decoded.items()) == postings
    assert word_code(blocks).startswith("~") and read_word_code(word_code(blocks)) == blocks


def test_page_numbers_survive_other_pages_coming_and_going() -> None:
    urls = [f"team-{n % 7}/page-{n}.html" for n in range(900)]
    hashes = {url: int(fragment_name(url), 16) for url in urls}
    before, bits = doc_numbers(hashes)
    assert len(set(before.values())) == len(urls) and bits == 10
    moved = []
    for n in range(100):  # still under 1,024 pages: the same size class
        url = f"new/page-{n}.html"
        after, _ = doc_numbers({**hashes, url: int(fragment_name(url), 16)})
        moved.append(sum(after[u] != before[u] for u in urls))
    # A new page moves the pages after it in its slot's cluster: under one on average here.
    assert sum(moved) <= 150 and max(moved) <= 16, moved
    fewer, _ = doc_numbers({u: h for u, h in hashes.items() if u != urls[5]})
    assert sum(fewer[u] != before[u] for u in urls[6:]) <= 16


def _random_words(rng: random.Random, vocabulary: list[str]) -> DocWords:
    chosen = rng.sample(vocabulary, rng.randrange(1, 25))
    return DocWords(hashlib.sha256(" ".join(chosen).encode()).hexdigest(),
                    {word: rng.randrange(3) for word in chosen})


def test_a_patched_join_is_the_join_made_afresh() -> None:
    """Edits, new pages, removed pages and renumbered pages (a small size class, so slots
    clash often): after every step the patched join equals a fresh one."""
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(120)] + ["éa", "日本", "x" * MAX_WORD]
    store: dict[str, DocWords] = {}
    pages: dict[str, str] = {}  # url -> key

    def put(url: str) -> None:
        key = f"k{len(store)}"
        store[key] = _random_words(rng, vocabulary)
        pages[url] = key

    for n in range(30):
        put(f"p{n}.html")
    previous: Postings | None = None
    renumbered = 0
    for step in range(120):
        action = rng.randrange(4)
        if action == 0 or len(pages) < 5:
            put(f"p{100 + step}.html")
        elif action == 1:
            del pages[rng.choice(sorted(pages))]
        else:
            put(rng.choice(sorted(pages)))  # an edit: same URL, new key
        numbered, bits = doc_numbers({url: int(fragment_name(url), 16) for url in pages})
        docs = [(url, key, numbered[url]) for url, key in pages.items()]
        if previous is not None:
            renumbered += sum(previous.docs[url][1] != numbered[url] for url in pages if url in previous.docs)
        names = {url: fragment_name(url) for url in pages}
        patched = join(previous, docs, bits, names, store.__getitem__, store.get)
        fresh = join_all(docs, bits, names, store.__getitem__)
        assert (patched.docs, patched.entries, patched.vocabulary) == (fresh.docs, fresh.entries, fresh.vocabulary), step
        previous = patched
    assert renumbered > 0  # the displaced-page path was taken


def test_a_join_without_an_old_page_s_words_starts_afresh() -> None:
    store = {"a": DocWords("0" * 64, {"alpha": TITLE}), "b": DocWords("1" * 64, {"beta": 0})}
    numbered, bits = doc_numbers({"a.html": 1, "b.html": 2})
    names = {"a.html": "1", "b.html": "2"}
    first = join(None, [("a.html", "a", numbered["a.html"]), ("b.html", "b", numbered["b.html"])], bits, names,
                 store.__getitem__, store.get)
    store["a2"] = DocWords("2" * 64, {"gamma": 0})
    gone = {k: v for k, v in store.items() if k != "a"}  # the cache lost the old page's words
    again = join(first, [("a.html", "a2", numbered["a.html"]), ("b.html", "b", numbered["b.html"])], bits, names,
                 store.__getitem__, gone.get)
    assert again.vocabulary == ["beta", "gamma"]


def test_shards_split_by_prefix_and_hold_every_word_a_query_can_reach() -> None:
    rng = random.Random(3)
    letters = "abcdeé日"
    vocabulary = sorted({"".join(rng.choice(letters) for _ in range(rng.randrange(1, 7))) for _ in range(900)})
    sizes = [rng.randrange(5, 400) for _ in vocabulary]
    shards = partition(vocabulary, sizes, 2000)
    assert [word for _, start, end in shards for word in vocabulary[start:end]] == vocabulary
    assert len({prefix for prefix, _, _ in shards}) == len(shards) > 10
    for prefix, start, end in shards:
        assert all(word.startswith(prefix) for word in vocabulary[start:end])
        assert end - start == 1 or sum(sizes[start:end]) <= 2000
    for query in ["a", "ab", "abc", "é", "日日", "eé", "zz", "abcdeab"]:
        # what the script loads: shards whose prefix starts the query word or starts with it
        reached = [w for p, s, e in shards if p.startswith(query) or query.startswith(p) for w in vocabulary[s:e]]
        assert sorted(w for w in reached if w.startswith(query)) == [w for w in vocabulary if w.startswith(query)]
    assert partition(vocabulary, sizes, 10**9) == [("", 0, len(vocabulary))]
    assert shard_file("") == "all" and shard_file("日") == "e697a5"


def test_document_words_keep_their_highest_level() -> None:
    document = parse("""
        ---
        description: Rotate the Kubernetes secrets.
        ---
        # Déploiement canary

        ## Before

        - [ ] Drain the node (kubectl drain)
        - [ ] Check déploiement logs
        """)
    derived = search_derived(document)
    found = read_words(derived["words"])
    assert found is not None
    assert found.digest == hashlib.sha256(derived["frag"].encode()).hexdigest()
    assert found.levels["deploiement"] == 2 and found.levels["canary"] == 2
    assert found.levels["before"] == 1 and found.levels["kubectl"] == 1
    assert found.levels["kubernetes"] == 0 and found.levels["rotate"] == 0
    assert read_words("not\nan entry") is None


def _extract(script: str, name: str) -> str:
    start = script.index(f"  function {name}(")
    return script[start:script.index("\n  }\n", start) + 4]


def test_python_and_the_script_fold_and_split_words_alike() -> None:
    """What a page is indexed under is what a query looks up: fold() and the word split of
    launchbook.js, run in node, against generator/site/search/text.py."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/test installs it)")
    samples = ["Déploiement CANARY", "İstanbul ΟΔΟΣ straße", "JWT_SECRET=abc-123", "日本語のテキスト",
               "naïve café 😀 v1.2.3", "Ǆemal ﬁle ½ ⅷ ①", "a" * 40 + " " + "𠀀" * 40, "नमस्ते दुनिया"]
    script = (ROOT / "themes/default/assets/launchbook.js").read_text(encoding="utf-8")
    program = (f"var MAX_WORD = {MAX_WORD};" + _extract(script, "fold") + _extract(script, "queryWords")
               + "process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map("
               + "s => queryWords(fold(s).split(/\\s+/).filter(Boolean)).sort())))")
    node = subprocess.run(["node", "-e", program, json.dumps(samples)], capture_output=True, text=True, check=False)
    assert node.returncode == 0, node.stderr
    in_js = json.loads(node.stdout)
    in_python = [sorted(words(sample)) for sample in samples]
    assert [sorted(a, key=lambda w: w.encode("utf-16-be")) for a in in_js] == [
        sorted(b, key=lambda w: w.encode("utf-16-be")) for b in in_python]
    assert fold("Déploiement") == "deploiement"


def _site(write_project: Callable[..., Path], pages: int, body: int = 40) -> Path:
    """``pages`` generated checklists: 18 items of 5 words, ``body`` words of text per section."""
    rng = random.Random(11)
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "pe", "du", "zi", "ba"]
    vocabulary = ["".join(rng.choice(syllables) for _ in range(rng.randrange(2, 5))) for _ in range(3000)]
    files = {}
    for n in range(pages):
        lines = [f"# Runbook {n} {' '.join(rng.sample(vocabulary, 2))}", ""]
        for section in range(3):
            lines += [f"## Step {section} {rng.choice(vocabulary)}", ""]
            lines += [f"- [ ] {' '.join(rng.sample(vocabulary, 5))}" for _ in range(6)]
            lines += ["", " ".join(rng.choices(vocabulary, k=body)), ""]
        files[f"content/team-{n % 5}/runbook-{n:04d}.md"] = "\n".join(lines) + "\n"
    return write_project(files)


def _search_files(out: Path) -> dict[str, str]:
    root = out / "assets" / "search"
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_one_page_edit_changes_its_fragment_and_a_few_shards(write_project: Callable[..., Path], run_cli: RunCli,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_files, "SHARD_LIMIT", 4096)  # many shards, as a large site has
    project = _site(write_project, 60)
    assert run_cli("build", "-C", project).exit_code == 0
    out = project / "output"
    before = _search_files(out)
    assert sum(name.startswith("words/") for name in before) > 20
    source = project / "content/team-2/runbook-0007.md"
    text = source.read_text()
    first_item = next(line for line in text.splitlines() if line.startswith("- [ ] "))
    source.write_text(text.replace(first_item, first_item + " quokka", 1))  # one new word in an item
    assert run_cli("build", "-C", project).exit_code == 0
    after = _search_files(out)
    fragment = f"doc/{fragment_name('team-2/runbook-0007.html')}.js"
    changed = _changed(before, after)
    assert fragment in changed
    shards = {name for name in changed if name.startswith("words/")}
    assert changed <= {fragment, "index.js"} | shards and 1 <= len(shards) <= 3, changed
    assert any("quokka" in search_parts(out)[name.removesuffix(".js")] for name in shards)
    fresh = run_cli("build", "-C", project, "-o", project / "fresh", "--no-cache")
    assert fresh.exit_code == 0
    assert _search_files(project / "fresh") == after  # patched in place = made afresh, byte for byte


def test_new_and_removed_pages_patch_to_what_a_fresh_build_writes(write_project: Callable[..., Path],
                                                                   run_cli: RunCli,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_files, "SHARD_LIMIT", 4096)
    project = _site(write_project, 40)
    out = project / "output"
    assert run_cli("build", "-C", project).exit_code == 0
    before = _search_files(out)
    (project / "content/team-0/extra.md").write_text("# Extra page\n\n- [ ] Feed the quokka\n")
    assert run_cli("build", "-C", project).exit_code == 0
    added = _changed(before, _search_files(out))
    assert f"doc/{fragment_name('team-0/extra.html')}.js" in added and "index.js" in added
    assert len(added) <= 12, added  # its own words' shards (a page or two renumbered at most)
    (project / "content/team-1/runbook-0001.md").unlink()
    (project / "content/team-3/runbook-0003.md").rename(project / "content/team-3/renamed.md")
    assert run_cli("build", "-C", project).exit_code == 0
    for n in range(40, 70):  # past 64 pages: every page renumbered, joined afresh
        (project / f"content/team-4/more-{n}.md").write_text(f"# More {n}\n\n- [ ] Step {n} of many\n")
    assert run_cli("build", "-C", project).exit_code == 0
    fresh = run_cli("build", "-C", project, "-o", project / "fresh", "--no-cache")
    assert fresh.exit_code == 0
    assert _search_files(project / "fresh") == _search_files(out)
    assert not any(name.startswith("doc/") and fragment_name("team-1/runbook-0001.html") in name
                   for name in _search_files(out))


def test_the_index_of_a_1000_page_site_loads_in_small_pieces(write_project: Callable[..., Path],
                                                             run_cli: RunCli) -> None:
    """A size bound, not a timing: 1,000 generated pages of about 400 distinct words each (as
    many as the bench corpus's checklists), whose word index in one file would be 570 KB."""
    project = _site(write_project, 1000, body=150)
    result = run_cli("build", "-C", project)
    assert result.exit_code == 0, result.output
    root = project / "output/assets/search"
    shards = [p.stat().st_size for p in (root / "words").iterdir()]
    fragments = [p.stat().st_size for p in (root / "doc").iterdir()]
    meta = (root / "index.js").stat().st_size
    assert len(fragments) == 1000
    assert max(shards) < 512 * 1024 and sum(shards) < 3 * 1024 * 1024, (max(shards), sum(shards))
    assert meta < 64 * 1024 and max(fragments) < 16 * 1024, (meta, max(fragments))
    parts = search_parts(project / "output")
    assert parts["index"]["count"] == 1000 and len(parts["index"]["shards"]) == len(shards)


def test_runs_are_in_the_index_with_release_ticket_operator_and_outcome(started: tuple[Path, str],
                                                                         run_cli: RunCli) -> None:
    """Issue #16: each run is an entry of kind "run", linking to its run page."""
    project, run_id = started
    assert run_cli("build", "-C", project).exit_code == 0
    out = project / "output"
    parts = search_parts(out)
    url = f"runs/deploy/{run_id}.html"
    fragment = parts[f"doc/{fragment_name(url)}"]
    assert fragment[:5] == ["run", "v1.0 · Deploy the API", url, [], []]
    assert fragment[5] == f"INCOMPLETE · run {run_id} · CHG-1 · Olga · prod"
    assert (out / url).is_file()
    shards = {word: code for name, data in parts.items() if name.startswith("words/") for word, code in data.items()}
    assert {"chg", "olga", "prod", "incomplete", "v1", "deploy"} <= shards.keys()
    assert parts["index"]["count"] == 2  # the checklist and its run
    before = _search_files(out)
    result = run_cli("run", "mark", run_id, "announce", "--status", "done", "--by", "Ada", "-C", project)
    assert result.exit_code == 0, result.output
    assert run_cli("build", "-C", project).exit_code == 0
    assert _changed(before, _search_files(out)) == set()  # still incomplete: the same entry
    result = run_cli("run", "mark", run_id, "migrate", "--status", "failed", "--by", "Ada", "--note", "x",
                     "-C", project)
    assert result.exit_code == 0, result.output
    assert run_cli("build", "-C", project).exit_code == 0
    changed = _changed(before, _search_files(out))
    assert search_parts(out)[f"doc/{fragment_name(url)}"][5].startswith("NO-GO · ")
    assert f"doc/{fragment_name(url)}.js" in changed and "doc/" + fragment_name("deploy.html") + ".js" not in changed
    fresh = run_cli("build", "-C", project, "-o", project / "fresh", "--no-cache")
    assert fresh.exit_code == 0 and _search_files(project / "fresh") == _search_files(out)
