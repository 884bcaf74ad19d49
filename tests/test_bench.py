"""The benchmark script runs (smoke size, no anchors), so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def test_benchmark_smoke_run(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "bench/run.py", "--smoke", "--no-anchors", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    (result,) = report["results"]
    assert (result["pages"], result["runs"]) == (30, 20)
    launchbook = result["tools"]["launchbook"]
    assert {"wall", "cpu", "rss_mb", "pages_per_s", "noop_wall", "one_edit_wall"} <= set(launchbook)
    assert launchbook["one_edit_identical_to_clean"] is True
    assert "| 30 pages + 20 runs | launchbook |" in done.stdout
