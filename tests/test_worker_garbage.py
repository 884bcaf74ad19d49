"""Loops that run with the cyclic collector off keep their garbage bounded by a pace, not by the site.

Rendering a page leaves its document in a reference cycle (Jinja's context and macros); a
render worker that kept the collector off for a whole chunk held every page of the chunk,
and chunks grow with the site. These tests count what is left in memory while a build
renders, never how much memory or time it takes (those figures live in the benchmark).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import make_corpus
from generator.core.quietgc import FREE_EVERY, freeing_cycles, quiet_gc
from generator.model import Checklist
from generator.runs.record import RunRecord
from generator.site import pages, runpages
from generator.site.build import build_site
from tests.test_build import tree_digest

PAGES = RUNS = 3 * FREE_EVERY + 5
"""Enough pages and runs for several paces; fewer than a parallel map needs (the chunk runs here)."""


class _Cycle:
    """An object in a reference cycle with itself, as a rendered page's context is."""

    def __init__(self) -> None:
        self.me = self


def _alive(kind: type) -> int:
    return sum(isinstance(o, kind) for o in gc.get_objects())


def test_freeing_cycles_yields_every_item_in_order_and_frees_cycles_with_the_collector_off() -> None:
    alive_at: list[int] = []
    with quiet_gc():
        assert not gc.isenabled()
        gc.collect()
        for _ in freeing_cycles(range(40), every=8):
            _Cycle()  # garbage only the collector can free
            alive_at.append(_alive(_Cycle))
        assert not gc.isenabled()  # pacing does not turn the collector on
    assert max(alive_at) == 8  # never more than one pace of cycles, however many items
    assert [*freeing_cycles(iter("abcde"), every=2)] == ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Benchmark pages and runs (200-item checklists, the records that grew workers)."""
    return make_corpus(tmp_path_factory.mktemp("garbage") / "project", PAGES, RUNS)


def _counting(render: Callable[..., Any], kind: type, counts: list[int]) -> Callable[..., Any]:
    def counted(self: Any, item: Any) -> Any:
        result = render(self, item)
        counts.append(_alive(kind))
        return result

    return counted


def test_render_chunks_hold_at_most_a_pace_of_pages(corpus: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    page_counts: list[int] = []
    run_counts: list[int] = []
    monkeypatch.setattr(pages, "PARALLEL_PAGES_FROM", PAGES + 10)  # every chunk in this process, to count in
    monkeypatch.setattr(runpages, "PARALLEL_RUNS_FROM", RUNS + 10)
    monkeypatch.setattr(pages._PageJob, "render", _counting(pages._PageJob.render, Checklist, page_counts))
    monkeypatch.setattr(runpages.RunPages, "render", _counting(runpages.RunPages.render, RunRecord, run_counts))
    gc.collect()
    result = build_site(corpus, tmp_path / "site", cache=False)
    assert result.runs == RUNS and len(page_counts) == PAGES and len(run_counts) == RUNS
    # Without pacing, every page rendered so far stays (PAGES documents, RUNS records at the end).
    assert max(page_counts) <= FREE_EVERY + 1, page_counts
    assert max(run_counts) <= FREE_EVERY + 1, run_counts


def test_pacing_does_not_change_a_byte(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_site(corpus, tmp_path / "paced", cache=False)
    monkeypatch.setattr(pages, "freeing_cycles", lambda items: items)
    monkeypatch.setattr(runpages, "freeing_cycles", lambda items: items)
    build_site(corpus, tmp_path / "unpaced", cache=False)
    assert tree_digest(tmp_path / "paced") == tree_digest(tmp_path / "unpaced")
