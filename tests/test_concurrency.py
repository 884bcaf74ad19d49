"""50 real processes marking one run at once: every update must survive."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from tests.helpers import ROOT

ITEMS = 50


def test_fifty_concurrent_marks_all_land(write_project: Callable[..., Path], run_cli: Callable[..., Result]) -> None:
    lines = "\n".join(f"- [ ] Step {n} {{#step-{n}}}" for n in range(ITEMS))
    project = write_project({"content/big.md": f"# Big\n\n{lines}\n"})
    run_id = run_cli("run", "start", "big", "--release", "r1", "-C", project).stdout.strip()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "generator", "run", "mark", run_id, f"step-{n}", "--status", "done",
             "--by", f"worker-{n}", "-C", str(project)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(ITEMS)
    ]
    failures = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        if process.returncode != 0:
            failures.append(err)
    assert failures == []
    shown = json.loads(run_cli("run", "show", run_id, "--json", "-C", project).stdout)
    results = shown["record"]["results"]
    assert len(results) == ITEMS
    assert {results[f"step-{n}"]["by"] for n in range(ITEMS)} == {f"worker-{n}" for n in range(ITEMS)}
    assert shown["summary"]["counts"]["done"] == ITEMS
    leftovers = [p.name for p in (project / "content/runs/big").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
