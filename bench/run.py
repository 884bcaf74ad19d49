"""launchbook vs MkDocs vs Hugo on the same Markdown, in one invocation.

Usage (from the repository root):
    python3 bench/run.py                 # 1k pages, all three tools, 3 repetitions
    python3 bench/run.py --pages 10000 --runs 10000 --reps 1
    python3 bench/run.py --smoke --no-anchors   # seconds; what the test suite runs

MkDocs 1.6 (+ pymdown-extensions, pymdownx.tasklist) is installed into a throwaway venv
under bench/.work/; Hugo is Debian's package (installed with apt-get when run as root).
Runs alternate between tools; each figure is the median of the repetitions. Results are
printed as a table and written as JSON (bench/results/latest.json unless --json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.corpus import make_corpus, page_path  # noqa: E402

WORK = ROOT / "bench" / ".work"
TIME = shutil.which("time") or "/usr/bin/time"


def measure(command: list[str], cwd: Path | None = None) -> dict[str, float]:
    """Wall, CPU (user+sys of the process tree) and peak RSS of one command."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        wrapped = [TIME, "-o", report.name, "-f", "%U %S %M", *command] if Path(TIME).exists() else command
        done = subprocess.run(wrapped, cwd=cwd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
        fields = report.read().split() if Path(TIME).exists() else []
    user, system, rss = (float(fields[-3]), float(fields[-2]), float(fields[-1])) if len(fields) >= 3 else (0, 0, 0)
    return {"wall": wall, "cpu": user + system, "rss_mb": rss / 1024}


def launchbook(project: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "-C", str(project), "-o", str(project / "output"), *extra]


def ensure_mkdocs() -> Path | None:
    venv = WORK / "mkdocs-venv"
    mkdocs = venv / "bin" / "mkdocs"
    if mkdocs.exists():
        return mkdocs
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "mkdocs==1.6.*", "pymdown-extensions"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        print(f"MkDocs unavailable: {exc.stderr[-500:] if exc.stderr else exc}", file=sys.stderr)
        return None
    return mkdocs


def ensure_hugo() -> str | None:
    found = shutil.which("hugo")
    if found is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], capture_output=True, check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("hugo")
    return found


def mkdocs_project(corpus: Path) -> Path:
    site = corpus.parent / f"{corpus.name}-mkdocs"
    shutil.rmtree(site, ignore_errors=True)
    docs = site / "docs"
    shutil.copytree(corpus / "content", docs, ignore=shutil.ignore_patterns("runs", "site.yml"))
    (site / "mkdocs.yml").write_text(
        "site_name: Benchmark runbooks\nuse_directory_urls: false\n"
        "markdown_extensions:\n  - pymdownx.tasklist:\n      custom_checkbox: true\n  - tables\n")
    return site


def hugo_project(corpus: Path) -> Path:
    site = corpus.parent / f"{corpus.name}-hugo"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(corpus / "content", site / "content", ignore=shutil.ignore_patterns("runs", "site.yml"))
    (site / "config.toml").write_text('title = "Benchmark runbooks"\nbaseURL = "http://example.org/"\n'
                                      'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n'
                                      '[markup.goldmark.renderer]\nunsafe = false\n')
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    page = ('<!doctype html><html><head><title>{{ .Title }}</title></head><body>'
            '<nav>{{ range .Site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}</nav>'
            '<main><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>')
    (layouts / "single.html").write_text(page)
    (layouts / "list.html").write_text('<!doctype html><html><body><h1>{{ .Title }}</h1>'
                                       '{{ range .Pages }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}'
                                       '</body></html>')
    return site


def digest_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def bench_size(pages: int, runs: int, reps: int, anchors: bool) -> dict[str, Any]:
    corpus = make_corpus(WORK / f"corpus-{pages}-{runs}", pages, runs)
    tools: dict[str, list[str]] = {}
    cwd: dict[str, Path | None] = {}
    tools["launchbook"] = launchbook(corpus, "--no-cache")
    cwd["launchbook"] = None
    if anchors:
        mkdocs = ensure_mkdocs()
        if mkdocs is not None:
            site = mkdocs_project(corpus)
            tools["mkdocs"] = [str(mkdocs), "build", "-q", "-f", str(site / "mkdocs.yml"), "-d", str(site / "site")]
            cwd["mkdocs"] = site
        hugo = ensure_hugo()
        if hugo is not None:
            site = hugo_project(corpus)
            tools["hugo"] = [hugo, "--quiet", "-s", str(site), "-d", str(site / "public")]
            cwd["hugo"] = site
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in tools}
    names = list(tools)
    for rep in range(reps):
        for name in names[rep % len(names):] + names[: rep % len(names)]:  # alternate the order
            samples[name].append(measure(tools[name], cwd[name]))
    result: dict[str, Any] = {"pages": pages, "runs": runs, "reps": reps, "tools": {}}
    for name, rows in samples.items():
        result["tools"][name] = {key: statistics.median(r[key] for r in rows) for key in ("wall", "cpu", "rss_mb")}
        result["tools"][name]["pages_per_s"] = pages / result["tools"][name]["wall"]
    # launchbook's everyday builds: warm cache, then nothing changed, then one file edited.
    measure(launchbook(corpus))
    noop = [measure(launchbook(corpus)) for _ in range(max(reps, 3))]
    result["tools"]["launchbook"]["noop_wall"] = statistics.median(r["wall"] for r in noop)
    edited = corpus / "content" / page_path(pages // 2)
    edits = []
    for n in range(max(reps, 3)):
        edited.write_text(edited.read_text() + f"\n- [ ] Benchmark edit {n}\n")
        edits.append(measure(launchbook(corpus)))
    result["tools"]["launchbook"]["one_edit_wall"] = statistics.median(r["wall"] for r in edits)
    clean = corpus / "clean-output"
    subprocess.run([*launchbook(corpus, "--no-cache")[:-3], "-o", str(clean), "--no-cache"], check=True,
                   capture_output=True)
    result["tools"]["launchbook"]["one_edit_identical_to_clean"] = digest_tree(corpus / "output") == digest_tree(clean)
    lb = result["tools"]["launchbook"]["wall"]
    if "mkdocs" in result["tools"]:
        result["mkdocs_over_launchbook"] = result["tools"]["mkdocs"]["wall"] / lb
    if "hugo" in result["tools"]:
        hugo_wall = result["tools"]["hugo"]["wall"]
        result["launchbook_over_hugo"] = lb / hugo_wall
        result["noop_over_hugo"] = result["tools"]["launchbook"]["noop_wall"] / hugo_wall
    return result


def bench_verify(sealed: int) -> dict[str, Any]:
    """Seal ``sealed`` runs of a small checklist, then time ``launchbook verify`` of the archive."""
    from generator.archive.seal import close_run
    from generator.report.keys import create_key
    from generator.runs.operations import apply_entry
    from generator.runs.start import start_run
    from generator.runs.record import Entry, Status
    from generator.runs.store import update_record

    project = WORK / f"sealed-{sealed}"
    shutil.rmtree(project, ignore_errors=True)
    (project / "content").mkdir(parents=True)
    (project / "content/deploy.md").write_text(
        "# Deploy\n\n## Before\n\n- [ ] Announce {#announce}\n- [ ] Freeze {#freeze}\n\n## Sign-off\n\n"
        "| Role | Name | Signature | Date |\n|---|---|---|---|\n| Release Manager | | | |\n")
    key = create_key(project / "keys", "Benchmark sealer")
    (project / "content/site.yml").write_text(f"trust:\n  - ../keys/{key.certificate.name}\n")
    started = time.perf_counter()
    for n in range(sealed):
        run, record = start_run(project, "deploy", release=f"r{n}", at=f"2026-01-01T{n // 60 % 24:02d}:{n % 60:02d}:00Z")

        def finish(current: Any) -> Any:
            for item in current.snapshot.items:
                current = apply_entry(current, item.id, Entry(Status.DONE, "bench", current.started_at))
            return current

        update_record(run, finish)
        close_run(project, record.id, key=str(key.pkcs12), force=True, at=record.started_at)
    seal_seconds = time.perf_counter() - started
    timing = measure([sys.executable, "-m", "generator", "verify", str(project), "--trust", str(key.certificate)])
    return {"sealed": sealed, "seal_seconds": seal_seconds, "verify_wall": timing["wall"], "verify_cpu": timing["cpu"],
            "verify_rss_mb": timing["rss_mb"]}


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| corpus | tool | wall s | CPU s | pages/s | peak RSS MB | notes |", "|---|---|---|---|---|---|---|"]
    for result in results:
        corpus = f"{result['pages']} pages" + (f" + {result['runs']} runs" if result["runs"] else "")
        for name, row in result["tools"].items():
            notes = ""
            if name == "launchbook":
                notes = (f"no-op {row['noop_wall']:.2f} s; one edit {row['one_edit_wall']:.2f} s "
                         f"(identical to clean: {row['one_edit_identical_to_clean']})")
            lines.append(f"| {corpus} | {name} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['pages_per_s']:.0f} | "
                         f"{row['rss_mb']:.0f} | {notes} |")
        ratios = []
        if "mkdocs_over_launchbook" in result:
            ratios.append(f"MkDocs/launchbook {result['mkdocs_over_launchbook']:.2f}×")
        if "launchbook_over_hugo" in result:
            ratios.append(f"launchbook/Hugo {result['launchbook_over_hugo']:.2f}×, no-op/Hugo {result['noop_over_hugo']:.2f}×")
        if ratios:
            lines.append(f"| {corpus} | ratios | {'; '.join(ratios)} | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, action="append", help="corpus size (repeatable); default 1000")
    parser.add_argument("--runs", type=int, default=0, help="run records in each corpus")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-anchors", action="store_true", help="skip MkDocs and Hugo")
    parser.add_argument("--smoke", action="store_true", help="tiny corpus, one repetition")
    parser.add_argument("--sealed", type=int, default=0, help="also time `verify` of this many sealed runs")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    sizes = [30] if args.smoke else (args.pages or [1000])
    reps = 1 if args.smoke else args.reps
    runs = 20 if args.smoke and not args.runs else args.runs
    results = [bench_size(pages, runs, reps, not args.no_anchors) for pages in sizes] if not (
        args.sealed and not args.pages) else []
    verify = bench_verify(args.sealed) if args.sealed else None
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "processor": platform.processor() or platform.machine()}
    report = {"machine": machine, "results": results, "verify": verify,
              "date": time.strftime("%Y-%m-%d", time.gmtime())}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Machine: {machine['cores']} cores, Python {machine['python']}, {machine['platform']}")
    if results:
        print(table(results))
    if verify:
        print(f"verify of {verify['sealed']} sealed runs: {verify['verify_wall']:.2f} s wall, "
              f"{verify['verify_cpu']:.2f} s CPU, {verify['verify_rss_mb']:.0f} MB peak "
              f"(sealing them took {verify['seal_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
