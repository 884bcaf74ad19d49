"""Where launchbook's speed figures come from: one command, one table, each figure beside its goal.

Usage (from the repository root):
    python3 bench/run.py                  # the whole benchmark at 10,000 (see the README's Speed section)
    python3 bench/run.py --pages 1000 --only cold,noop,edit --reps 3
    python3 bench/run.py --only verify --sealed 10000     # makes (once) and verifies the sealed archive
    python3 bench/run.py --smoke --no-anchors             # under a minute; what the test suite runs

Parts (``--only``, comma-separated; default all):
  cold    cold build of the pages corpus: launchbook (--no-cache), MkDocs, Hugo, markdown-it-py floor
  noop    launchbook build with nothing changed (warm cache)
  edit    one page edited, launchbook build from the CLI; output compared with a clean build
  serve   one page edited under `launchbook serve`: file write -> the served page shows it
  runcmd  `run start` and `run close` on the corpus and on a 1-page project with the same checklist
  memory  cold build of PAGES pages + RUNS run records: peak memory
  close   `run close` in archives of 1, 100 and 1,000 sealed runs (cut from the verify archive)
  verify  `launchbook verify` of SEALED sealed runs (archive cached in bench/.work/sealed-N)

Each command is a subprocess timed by bench/measure.py; cold builds alternate between tools
over --reps repetitions, the others are the median of --samples. Results are printed as a
table and written as JSON: bench/results/latest.json plus a file named after the sizes
(--smoke: bench/.work/smoke.json). --merge keeps parts of the previous latest.json that
this run did not measure; --readme rewrites the README's figures with the table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import report as tables  # noqa: E402
from bench.closing import SIZES, bench_close_growth  # noqa: E402
from bench.corpus import SEEDS, make_corpus, page_path  # noqa: E402
from bench.live import serve_edits  # noqa: E402
from bench.measure import compile_launchbook, launchbook_command, measure  # noqa: E402
from bench.sealed import bench_verify, git_commit  # noqa: E402
from bench.tools import COLD_TOOLS, cold_tools, launchbook_build  # noqa: E402

WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
PARTS = ("cold", "noop", "edit", "serve", "runcmd", "memory", "close", "verify")
RUN_CHECKLIST = 4
"""Corpus page used by runcmd: seed 4 (sv-sdk, 140 items), the smallest report to render."""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def digest_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def bench_cold(corpus: Path, pages: int, reps: int, anchors: bool, only: frozenset[str]) -> dict[str, Any]:
    tools = cold_tools(corpus, anchors=anchors, floor=True, only=only)
    samples: dict[str, list[dict[str, float]]] = {tool.name: [] for tool in tools}
    for rep in range(reps):
        for tool in tools[rep % len(tools):] + tools[: rep % len(tools)]:  # alternate the order
            say(f"cold build {rep + 1}/{reps}: {tool.label}")
            samples[tool.name].append(measure(tool.command, tool.cwd).data())
    result: dict[str, Any] = {"reps": reps, "tools": {}}
    for tool in tools:
        row = {key: statistics.median(r[key] for r in samples[tool.name]) for key in ("wall", "cpu", "rss_mb")}
        result["tools"][tool.name] = {"label": tool.label, **row, "pages_per_s": pages / row["wall"]}
    return result


def warm(corpus: Path) -> None:
    """One cached build, not timed, so the cache and the previous output are there."""
    measure(launchbook_build(corpus))


def bench_noop(corpus: Path, samples: int) -> dict[str, Any]:
    warm(corpus)
    walls = [measure(launchbook_build(corpus)).wall for _ in range(samples)]
    return {"wall": statistics.median(walls), "samples": walls}


def bench_edit(corpus: Path, pages: int, samples: int) -> dict[str, Any]:
    warm(corpus)
    edited = corpus / "content" / page_path(pages // 2)
    walls = []
    for n in range(samples):
        edited.write_text(edited.read_text() + f"\n- [ ] Benchmark edit {n}\n")
        walls.append(measure(launchbook_build(corpus)).wall)
    clean = corpus / "clean-output"
    say("one edit: a clean build to compare with")
    measure(launchbook_build(corpus, "--no-cache", output=clean))
    same = digest_tree(corpus / "output") == digest_tree(clean)
    shutil.rmtree(clean, ignore_errors=True)
    return {"wall": statistics.median(walls), "samples": walls, "identical_to_clean": same}


def bench_serve(corpus: Path, pages: int, samples: int) -> dict[str, Any]:
    warm(corpus)
    rel = page_path(pages // 2)
    url = "/" + rel.removesuffix(".md") + ".html"
    if not (corpus / "output" / url.lstrip("/")).is_file():
        raise RuntimeError(f"expected {url} in the output; the page layout changed, update bench/run.py")
    result = serve_edits(corpus, corpus / "content" / rel, url, edits=samples)
    edits = result.pop("edits")
    return {"wall": statistics.median(edits), "samples": edits, **result}


def signing_key(project: Path) -> Path:
    key = WORK / "keys" / "launchbook-signing.p12"
    if not key.exists():
        shutil.rmtree(key.parent, ignore_errors=True)
        measure(launchbook_command("keys", "new", "--no-passphrase", "--out", str(key.parent),
                                   "--name", "Benchmark signer", "-C", str(project), "--json"))
    return key


def bench_runcmd(corpus: Path, pages: int, samples: int) -> dict[str, Any]:
    """run start + run close of one checklist, in the corpus and in a 1-page project holding only it."""
    n = min(RUN_CHECKLIST, pages - 1)
    checklist, rel = f"checklist-{n:05d}", page_path(n)
    alone = WORK / "one-page"
    shutil.rmtree(alone, ignore_errors=True)
    (alone / "content" / rel).parent.mkdir(parents=True)
    shutil.copy2(corpus / "content" / "site.yml", alone / "content" / "site.yml")
    shutil.copy2(corpus / "content" / rel, alone / "content" / rel)
    key = signing_key(alone)
    walls: dict[str, list[float]] = {"start": [], "close": [], "start_1page": [], "close_1page": []}
    items = 0
    order = ((alone, "_1page"), (corpus, ""))
    for sample in range(samples):
        for project, suffix in order if sample % 2 == 0 else order[::-1]:  # alternate which goes first
            say(f"run start/close {sample + 1}/{samples} in {'the 1-page project' if suffix else 'the corpus'}")
            started = measure(launchbook_command("run", "start", checklist, "--release", f"bench-{sample}",
                                                 "-C", str(project), "--json"))
            answer = json.loads(started.stdout)
            items = answer["items"]
            closed = measure(launchbook_command("run", "close", answer["id"], "--key", str(key), "--force",
                                                "-C", str(project), "--json"))
            walls["start" + suffix].append(started.wall)
            walls["close" + suffix].append(closed.wall)
    return {"checklist": checklist, "items": items, "samples": walls,
            **{name: statistics.median(values) for name, values in walls.items()}}


def corpus_version() -> str:
    """What the generated records depend on: the corpus recipe, the seeds, the record format."""
    digest = hashlib.sha256()
    for path in [ROOT / "bench" / "corpus.py", ROOT / "generator" / "runs" / "codec.py",
                 ROOT / "generator" / "runs" / "record.py", *(ROOT / "content" / rel for rel in SEEDS)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def runs_corpus(pages: int, runs: int) -> Path:
    """The pages + runs corpus, kept between benchmarks (10,000 records take minutes to write);
    everything but its content/ is removed, so the build starts cold."""
    corpus, version = WORK / f"corpus-{pages}-{runs}", corpus_version()
    marker = corpus / "bench-corpus.json"
    if marker.is_file() and json.loads(marker.read_text()).get("version") == version:
        for child in corpus.iterdir():
            if child.name not in ("content", marker.name):
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        return corpus
    say(f"making {pages} pages + {runs} runs")
    make_corpus(corpus, pages, runs)
    marker.write_text(json.dumps({"version": version}) + "\n")
    return corpus


def bench_memory(pages: int, runs: int) -> dict[str, Any]:
    corpus = runs_corpus(pages, runs)
    say("memory: cold build")
    timing = measure(launchbook_build(corpus, "--no-cache"), tree=True)
    return {"pages": pages, "runs": runs, **timing.data()}


def bench_size(pages: int, parts: set[str], args: argparse.Namespace) -> dict[str, Any]:
    say(f"corpus of {pages} pages")
    corpus = make_corpus(WORK / f"corpus-{pages}-0", pages)
    result: dict[str, Any] = {"pages": pages}
    steps: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
        ("cold", lambda: bench_cold(corpus, pages, args.reps, not args.no_anchors, args.tools)),
        ("noop", lambda: bench_noop(corpus, args.samples)),
        ("edit", lambda: bench_edit(corpus, pages, args.samples)),
        ("serve", lambda: bench_serve(corpus, pages, args.samples)),
        ("runcmd", lambda: bench_runcmd(corpus, pages, args.run_samples)),  # last: it adds runs to the corpus
    )
    for name, step in steps:
        if name in parts:
            say(f"{name} at {pages} pages")
            result[name] = attempt(name, step)
    return result


def attempt(name: str, step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The part's figures, or its error (the other parts still run; the exit status is then 1)."""
    try:
        return {**step(), **stamp()}
    except Exception as exc:  # noqa: BLE001 - a harness: report the part as failed, run the others
        say(f"{name} FAILED: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}", **stamp()}


def stamp() -> dict[str, str]:
    return {"date": time.strftime("%Y-%m-%d", time.gmtime()), "commit": git_commit()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, action="append", help="pages corpus size (repeatable); default 10000")
    parser.add_argument("--runs", type=int, default=None, help="run records in the memory corpus; default 10000")
    parser.add_argument("--sealed", type=int, default=None, help="sealed runs to verify; default 10000")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    parser.add_argument("--reps", type=int, default=1, help="cold builds per tool (median); default 1")
    parser.add_argument("--samples", type=int, default=3, help="no-op, edit and serve repetitions (median)")
    parser.add_argument("--run-samples", type=int, default=3, help="run start/close repetitions (median)")
    parser.add_argument("--no-anchors", action="store_true", help="skip MkDocs and Hugo")
    parser.add_argument("--tools", default=",".join(COLD_TOOLS),
                        help=f"cold builds to run, of {','.join(COLD_TOOLS)} (e.g. hugo: Hugo's full build at 10k, "
                             "for the no-op goal, without the slow ones)")
    parser.add_argument("--close-sizes", default=",".join(map(str, SIZES)),
                        help="archive sizes (sealed runs) that run close is timed in; default 1,100,1000")
    parser.add_argument("--close-samples", type=int, default=3, help="timed closes per archive size (median)")
    parser.add_argument("--seal-workers", type=int, default=os.cpu_count() or 1,
                        help="processes sealing the verify archive (see bench/sealed.py)")
    parser.add_argument("--reseal", action="store_true", help="seal the verify archive again, even if cached")
    parser.add_argument("--keep-sealed", action="store_true",
                        help="reuse a complete cached archive even if an older generator/ sealed it")
    parser.add_argument("--smoke", action="store_true", help="30 pages + 20 runs, 3 sealed runs: under a minute")
    parser.add_argument("--json", type=Path, help="write the JSON here (instead of bench/results/)")
    parser.add_argument("--merge", action="store_true", help="keep the previous latest.json's parts not run now")
    parser.add_argument("--readme", action="store_true", help="rewrite the README's speed figures with this table")
    args = parser.parse_args(argv)
    args.parts = {p.strip() for p in args.only.split(",") if p.strip()}
    args.tools = frozenset(t.strip() for t in args.tools.split(",") if t.strip())
    if unknown := args.tools - set(COLD_TOOLS):
        parser.error(f"unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(COLD_TOOLS)}")
    if unknown := args.parts - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    args.sizes = args.pages or ([30] if args.smoke else [10_000])
    args.runs = args.runs if args.runs is not None else (20 if args.smoke else 10_000)
    args.sealed = args.sealed if args.sealed is not None else (3 if args.smoke else 10_000)
    args.close_sizes = (1, 3) if args.smoke else tuple(int(n) for n in args.close_sizes.split(",") if n.strip())
    if args.smoke:
        args.close_samples = 1
    if args.smoke:
        args.run_samples = 1
    return args


def result_name(args: argparse.Namespace) -> str:
    def short(n: int) -> str:
        return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

    names = []
    if args.parts & {"cold", "noop", "edit", "serve", "runcmd"}:
        names.append("-".join(short(p) for p in args.sizes) + "-pages")
    if "memory" in args.parts:
        names.append(f"memory-{short(max(args.sizes))}-pages-{short(args.runs)}-runs")
    if "close" in args.parts:
        names.append(f"close-{short(max(args.close_sizes))}")
    if "verify" in args.parts:
        names.append(f"verify-{short(args.sealed)}")
    return "_".join(names) + ".json"


def merged(report: dict[str, Any], previous: Path) -> dict[str, Any]:
    """``report`` plus the parts of ``previous`` it does not have."""
    try:
        old = json.loads(previous.read_text())
    except (OSError, ValueError):
        return report
    sizes = {key: {**value} for key, value in old.get("sizes", {}).items()}
    for key, value in report["sizes"].items():
        sizes[key] = {**sizes.get(key, {}), **value}
    return {**report, "sizes": sizes, "memory": report["memory"] or old.get("memory"),
            "close": report["close"] or old.get("close"), "verify": report["verify"] or old.get("verify")}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    compile_launchbook()  # as pip install does: no command below is charged for compiling launchbook
    report: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "load_at_start": os.getloadavg()[0]},
        **stamp(), "command": "python3 bench/run.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "sizes": {}, "memory": None, "close": None, "verify": None,
    }
    report["command"] = report["command"].strip()
    for pages in args.sizes:
        if args.parts & {"cold", "noop", "edit", "serve", "runcmd"}:
            report["sizes"][str(pages)] = bench_size(pages, args.parts, args)
    if "memory" in args.parts:
        report["memory"] = attempt("memory", lambda: bench_memory(max(args.sizes), args.runs))
    if "close" in args.parts:
        say(f"run close in archives of {', '.join(map(str, args.close_sizes))} sealed runs")
        report["close"] = attempt("close", lambda: bench_close_growth(
            args.close_sizes, args.close_samples, workers=args.seal_workers, any_version=args.keep_sealed))
    if "verify" in args.parts:
        say(f"verify of {args.sealed} sealed runs")
        report["verify"] = attempt("verify", lambda: bench_verify(
            args.sealed, workers=args.seal_workers, reseal=args.reseal, any_version=args.keep_sealed))
    if args.merge:
        report = merged(report, RESULTS / "latest.json")
    table = tables.rows(report)
    report["rows"], report["table"] = tables.as_data(table), tables.markdown(table)
    report["seconds"] = time.perf_counter() - started
    outputs = [args.json] if args.json else ([WORK / "smoke.json"] if args.smoke else
                                             [RESULTS / "latest.json", RESULTS / result_name(args)])
    for path in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
    machine = report["machine"]
    print(f"Machine: {machine['cores']} cores, Python {machine['python']}, {machine['platform']}; "
          f"load {machine['load_at_start']:.1f} at start; {report['seconds']:.0f} s in all")
    print(report["table"])
    failed = [row.measure for row in table if row.met == "failed"]
    if args.readme and not failed:
        tables.rewrite_readme(ROOT / "README.md", report)
        print("README.md: speed figures rewritten")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}" + (" (README not rewritten)" if args.readme else ""))


if __name__ == "__main__":
    main()
