"""The local process pool vs a Dask cluster for the same cold build.

Usage (from the repository root, with the dask extra installed):
    python3 bench/executor.py              # 300 pages, 3 repetitions
    python3 bench/executor.py --pages 1000 --reps 5

Three ways, alternating, each a cold build (``--no-cache``) of the same generated corpus:
``local`` (the default fork pool), ``dask://local`` (the build starts a LocalCluster of one
worker per core, and that start-up counts), and ``dask://HOST:PORT`` of a LocalCluster of
two single-thread worker processes that is already running (start-up not counted; its
workers' CPU time is added to the ``cpu`` figure). Every output must be byte-identical to
the local one. Results: the median of each, printed and written to
bench/results/executor-PAGES.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.corpus import make_corpus  # noqa: E402
from bench.measure import measure  # noqa: E402
from bench.run import WORK, digest_tree  # noqa: E402
from bench.tools import launchbook_build  # noqa: E402


def _worker_cpu() -> float:
    """This worker process's CPU seconds so far (run on each worker)."""
    times = os.times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    corpus = make_corpus(WORK / f"corpus-{args.pages}-0", args.pages, 0)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as running, \
            Client(running) as client:
        ways = {"local": "local", "dask://local": "dask://local",
                "dask (running cluster)": "dask://" + running.scheduler_address.removeprefix("tcp://")}
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
        digests: dict[str, dict[str, str]] = {}
        names = list(ways)
        for rep in range(args.reps):
            for name in names[rep % len(names):] + names[: rep % len(names)]:  # alternate the order
                output = corpus / "output"
                shutil.rmtree(output, ignore_errors=True)
                command = launchbook_build(corpus, "--no-cache", "-q", "--executor", ways[name])
                before = sum(client.run(_worker_cpu).values())
                sample = measure(command).data()
                sample["cpu"] += sum(client.run(_worker_cpu).values()) - before  # 0 unless the running cluster ran
                samples[name].append({**sample, "load": os.getloadavg()[0]})
                digests[name] = digest_tree(output)
    identical = all(digest == digests["local"] for digest in digests.values())
    result = {
        "pages": args.pages, "reps": args.reps, "identical_output": identical,
        "ways": {name: {key: round(statistics.median(r[key] for r in rows), 2) for key in ("wall", "cpu", "load")}
                 for name, rows in samples.items()},
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    path = ROOT / "bench" / "results" / f"executor-{args.pages}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.pages} pages, cold, median of {args.reps} (output identical: {identical}):")
    for name, row in result["ways"].items():
        print(f"  {name:24} {row['wall']:7.2f} s wall  {row['cpu']:7.2f} s CPU  (load {row['load']:.1f})")


if __name__ == "__main__":
    main()
