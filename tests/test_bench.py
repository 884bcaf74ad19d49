"""The benchmark script runs (smoke size, no anchors), so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.report import END, START, rewrite_readme
from tests.helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run([sys.executable, "bench/run.py", "--smoke", "--no-anchors", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_every_part_is_measured(smoke: tuple[dict[str, Any], str]) -> None:
    report, _ = smoke
    size = report["sizes"]["30"]
    assert size["pages"] == 30
    assert {"launchbook", "floor"} <= set(size["cold"]["tools"])
    for tool in size["cold"]["tools"].values():
        assert {"wall", "cpu", "rss_mb", "pages_per_s"} <= set(tool)
    assert len(size["noop"]["samples"]) == 3
    assert len(size["edit"]["samples"]) == 3
    assert size["edit"]["identical_to_clean"] is True
    assert len(size["serve"]["samples"]) == 3 and size["serve"]["server_rebuilds"]
    assert {"start", "close", "start_1page", "close_1page"} <= set(size["runcmd"])
    assert size["runcmd"]["items"] > 0
    assert (report["memory"]["pages"], report["memory"]["runs"]) == (30, 20)
    assert report["memory"]["tree_pss_mb"] > 0
    assert report["verify"]["sealed"] == 3 and report["verify"]["verify_wall"] > 0
    assert set(report["close"]["sizes"]) == {"1", "3"}
    for row in report["close"]["sizes"].values():
        assert row["wall"] > 0 and row["render"] > 0 and row["sign"] > 0 and len(row["samples"]) == 1


def test_table_has_every_row_with_its_goal(smoke: tuple[dict[str, Any], str]) -> None:
    report, stdout = smoke
    measures = [row["measure"] for row in report["rows"]]
    for wanted in ("cold build: launchbook", "cold build: MkDocs", "cold build: Hugo", "markdown-it-py floor",
                   "no-op build", "one edit, CLI", "one edit, `serve`", "`run start`", "`run close`",
                   "memory: cold build", "`verify` of the archive"):
        assert any(wanted in measure for measure in measures), wanted
    by_measure = {row["measure"]: row for row in report["rows"]}
    assert by_measure["cold build: MkDocs"]["met"] == "not measured"  # --no-anchors
    assert by_measure["one edit, CLI `build`"]["met"] == "n/a at 30"  # the goal is set at 10,000 pages
    assert "| corpus | measure | figure | ratio | goal | met? |" in stdout
    assert "| 30 pages + 20 runs | memory: cold build |" in stdout
    verify = by_measure["`verify` of the archive"]
    assert verify["met"] == "measured at 3; 10k not measured"  # never judged, never presented as 10,000
    assert "extrapolated to 10,000" in verify["ratio"] and "not a measurement" in verify["ratio"]
    assert "| 3 sealed runs | `run close` (deploy.md, 15 items) |" in stdout


def test_readme_section_is_replaced_between_markers(smoke: tuple[dict[str, Any], str], tmp_path: Path) -> None:
    report, _ = smoke
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n## Speed\n\nIntro.\n\n{START}\nold figures\n{END}\n\nAfter.\n")
    rewrite_readme(readme, report)
    text = readme.read_text()
    assert "old figures" not in text and text.startswith("# Title\n\n## Speed\n\nIntro.\n\n")
    assert text.endswith(f"{END}\n\nAfter.\n")
    assert report["table"] in text and "python3 bench/run.py --smoke --no-anchors" in text


def test_the_readme_has_the_markers() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.count(START) == 1 and text.count(END) == 1 and text.index(START) < text.index(END)
