"""``run close`` reads the ledger through a cached, checked state (generator/archive/ledgerstate.py):
the tree head it pins must equal the one a full parse gives, whatever happened to the ledger since
the cache was written (lines appended by other commands, a kill before the cache was saved, a
hand edit in the covered prefix, a forged or stale cache); and ``find_run`` still finds one record
and refuses an id two checklists share."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.archive import merkle
from generator.archive.audit import audit_project
from generator.archive.ledger import ApprovalEntry, LedgerEntry, append_entry, ledger_path, read_ledger, tree_head
from generator.archive.ledgerstate import CACHE_NAME, frontier_root, push_leaf, read_state
from generator.archive.seal import close_run
from generator.core.errors import SourceError
from generator.core.files import read_cache_bytes, store_cache_bytes
from generator.runs.start import start_run
from generator.runs.store import find_run, read_record
from generator.sources.cachedir import cache_dir
from tests.helpers import RUN_SITE, copy_keeping_cache

DAY = "2026-07-01T08:{:02d}:00Z"


def test_frontier_root_is_the_rfc6962_root_at_every_size() -> None:
    rng = random.Random(6962)
    leaves = [merkle.leaf_hash(rng.randbytes(rng.randrange(40))) for _ in range(300)]
    frontier: tuple[tuple[int, bytes], ...] = ()
    assert frontier_root(frontier) == merkle.root([])
    for size, leaf in enumerate(leaves, start=1):
        frontier = push_leaf(frontier, leaf)
        assert frontier_root(frontier) == merkle.root(leaves[:size]), size
        assert [n for n, _ in frontier] == [1 << b for b in range(size.bit_length()) if size >> b & 1][::-1]


@pytest.fixture(scope="module")
def sealed_two(tmp_path_factory: pytest.TempPathFactory, signing_key: Any) -> tuple[Path, list[str]]:
    """Two runs sealed, a third started (open): the cache then covers the two ledger lines."""
    project = tmp_path_factory.mktemp("state") / "project"
    for rel, body in RUN_SITE.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("\n".join(line.strip() for line in body.strip().splitlines()) + "\n")
    (project / "content/site.yml").write_text(f"trust:\n  - {signing_key.certificate}\n")
    runs = []
    for n in range(3):
        _, record = start_run(project, "deploy", release=f"v{n}", at=DAY.format(n))
        if n < 2:
            close_run(project, record.id, key=str(signing_key.pkcs12), force=True, at=DAY.format(n))
        runs.append(record.id)
    return project, runs


@pytest.fixture
def project(sealed_two: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    source, runs = sealed_two
    return copy_keeping_cache(source, tmp_path / "project"), runs


def _close(project: Path, run_id: str, key: Any, minute: int = 30) -> dict[str, Any]:
    close_run(project, run_id, key=str(key.pkcs12), force=True, at=DAY.format(minute))
    sealed = read_record(find_run(project, run_id)).sealed
    assert sealed is not None
    return sealed


def _full_head(project: Path, size: int) -> dict[str, Any]:
    _, leaves = read_ledger(project)
    return tree_head(leaves, size).data()


def _clean(project: Path, key: Any) -> bool:
    return audit_project(project, [Path(key.certificate)]).ok


def test_the_cache_covers_the_ledger_as_written(project: tuple[Path, list[str]]) -> None:
    root, _ = project
    cache = json.loads(read_cache_bytes(cache_dir(root) / CACHE_NAME) or b"")
    raw = ledger_path(root).read_bytes()
    assert cache["length"] == len(raw) and cache["size"] == 2
    assert read_state(root).head() == tree_head(read_ledger(root)[1])


def test_lines_appended_by_another_command_are_parsed(project: tuple[Path, list[str]], signing_key: Any) -> None:
    """An approval line written without updating the cache (as `run approve` does): the next close
    parses it, so the sealed head counts it, and the run it names stays 'not sealed' for has_sealed."""
    root, runs = project
    append_entry(root, ApprovalEntry(seq=2, run=runs[0], approved_at=DAY.format(20), role="QA", signer="CN=x",
                                     fingerprint="a" * 64, report_sha256="b" * 64, report_size=1))
    state = read_state(root)
    assert state.size == 3 and state.has_sealed(runs[0]) and not state.has_sealed(runs[2])
    assert state.last_written_at == DAY.format(20)
    sealed = _close(root, runs[2], signing_key)
    assert sealed["ledger_seq"] == 3 and sealed["ledger_head"] == _full_head(root, 3)


def test_a_kill_before_the_cache_is_saved(project: tuple[Path, list[str]], signing_key: Any) -> None:
    """The ledger got its line but the cache did not (killed in between): the cache covers a
    prefix, the rest is parsed, and the archive verifies clean after the next close."""
    root, runs = project
    stale = (cache_dir(root) / CACHE_NAME).read_bytes()
    _close(root, runs[2], signing_key)
    (cache_dir(root) / CACHE_NAME).write_bytes(stale)
    _, record = start_run(root, "deploy", release="v9", at=DAY.format(40))
    sealed = _close(root, record.id, signing_key, 45)
    assert sealed["ledger_seq"] == 3 and sealed["ledger_head"] == _full_head(root, 3)
    assert _clean(root, signing_key)


def test_a_hand_edit_inside_the_cached_prefix_is_still_refused(project: tuple[Path, list[str]],
                                                               signing_key: Any) -> None:
    root, runs = project
    path = ledger_path(root)
    lines = path.read_bytes().split(b"\n")
    lines[0] = json.dumps(json.loads(lines[0]), indent=1).replace("\n", "").encode()  # same data, not canonical
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SourceError, match="not in canonical form"):
        read_state(root)
    with pytest.raises(SourceError, match="damaged ledger"):
        close_run(root, runs[2], key=str(signing_key.pkcs12), force=True, at=DAY.format(30))


def test_a_cache_of_other_bytes_or_a_forged_frontier_is_not_used(project: tuple[Path, list[str]],
                                                                 signing_key: Any) -> None:
    """A cache whose digest is not that of the ledger's prefix is ignored (the ledger is parsed
    whole), and so is one whose frontier is not the shape a tree of its size has."""
    root, runs = project
    cache = cache_dir(root) / CACHE_NAME
    data = json.loads(read_cache_bytes(cache) or b"")
    for forged in ({**data, "sha256": "0" * 64, "frontier": [[2, "11" * 32]]},
                   {**data, "frontier": [[1, "11" * 32], [1, "22" * 32]]},
                   {**data, "code": "older"}):
        store_cache_bytes(cache, json.dumps(forged).encode())  # with a good tag: only its contents are wrong
        assert read_state(root).head() == tree_head(read_ledger(root)[1])
        cache.write_text(json.dumps(data))  # the right contents without the tag: not used either
        assert read_state(root).head() == tree_head(read_ledger(root)[1])
    store_cache_bytes(cache, json.dumps({**data, "sha256": "0" * 64, "frontier": [[2, "11" * 32]]}).encode())
    sealed = _close(root, runs[2], signing_key)
    assert sealed["ledger_head"] == _full_head(root, 2)
    assert _clean(root, signing_key)


def test_has_sealed_reads_only_sealing_lines(project: tuple[Path, list[str]]) -> None:
    root, runs = project
    state = read_state(root)
    assert state.has_sealed(runs[0]) and state.has_sealed(runs[1])
    assert not state.has_sealed(runs[2]) and not state.has_sealed(runs[0][:-1])
    append_entry(root, ApprovalEntry(seq=2, run=runs[2], approved_at=DAY.format(50), role="QA", signer="CN=x",
                                     fingerprint="a" * 64, report_sha256="b" * 64, report_size=1))
    assert not read_state(root).has_sealed(runs[2])  # an approval line names it, no line seals it
    entry = LedgerEntry(seq=3, run="other", checklist="deploy", sealed_at=DAY.format(50), record_sha256="c" * 64,
                        report_sha256="d" * 64, evidence={f'evidence/"run":"{runs[2]}"': "e" * 64})
    append_entry(root, entry)
    assert not read_state(root).has_sealed(runs[2])


def test_find_run_refuses_an_id_two_checklists_share(project: tuple[Path, list[str]]) -> None:
    root, runs = project
    found = find_run(root, runs[2])
    assert found.checklist == "deploy"
    twin = root / "content/runs/payments/go-live" / found.path.name
    twin.parent.mkdir(parents=True)
    shutil.copy2(found.path, twin)
    with pytest.raises(SourceError, match="exists under several checklists"):
        find_run(root, runs[2])
    twin.unlink()
    assert find_run(root, runs[2]) == found
    with pytest.raises(SourceError, match="unknown run"):
        find_run(root, "20990101-0000-none")
    twin.symlink_to(found.path)
    with pytest.raises(SourceError, match="symbolic link"):
        find_run(root, runs[2])


def test_a_cache_folder_broken_after_the_ledger_line_does_not_fail_the_close(project: tuple[Path, list[str]],
                                                                             signing_key: Any, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger line is the point of no return: once written, remembering the ledger's state (a
    cache) must not fail the close. Here .launchbook-cache turns into a link just then: the close
    failed after its line was in the ledger, the run stayed open, and closing it again put it in
    the ledger twice, for good."""
    from generator.archive import ledgerstate

    root, runs = project
    write = ledgerstate.atomic_write

    def then_break_the_cache(path: Path, data: bytes, **kwargs: Any) -> None:
        write(path, data, **kwargs)
        top = root / ".launchbook-cache"
        if path == ledger_path(root) and not top.is_symlink():
            top.rename(tmp_path / "moved-cache")
            top.symlink_to(tmp_path / "moved-cache", target_is_directory=True)

    monkeypatch.setattr(ledgerstate, "atomic_write", then_break_the_cache)
    sealed = _close(root, runs[2], signing_key)
    assert sealed["ledger_seq"] == 2
    (root / ".launchbook-cache").unlink()
    assert _clean(root, signing_key)
