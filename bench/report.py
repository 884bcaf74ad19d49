"""The benchmark's table: each figure beside its goal from issue #15, met or not; and the README.

Size-bound goals ("at 10,000 pages") are judged only on a corpus at least that big; on a
smaller one the row says ``n/a``. The README's speed section is the text between
``<!-- bench:start -->`` and ``<!-- bench:end -->``; ``--readme`` replaces it.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCALE = 10_000
"""Corpus size the size-bound goals are set at (pages, runs, sealed runs)."""
COLD_VS_MKDOCS = 6.0
"""Cold build at least this many times faster than MkDocs."""
COLD_VS_HUGO = 1.5
"""Cold build at most this many times Hugo's."""
NOOP_VS_HUGO = 0.1
"""No-op build at most this fraction of Hugo's full build."""
EDIT_SERVE = 1.0
"""One edit at SCALE pages under serve: under this many seconds."""
EDIT_CLI = 2.0
"""One edit at SCALE pages from the CLI: at most this many seconds."""
RUN_COMMAND = 1.0
"""run start / run close at SCALE pages: under this many seconds over the 1-page project."""
MEMORY_MB = 1024.0
"""Peak memory of SCALE pages + SCALE runs: under 1 GiB."""
VERIFY = 60.0
"""verify of SCALE sealed runs: under this many seconds."""
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table."""

    corpus: str
    """What it was measured on."""
    measure: str
    """What was measured (and with which tool)."""
    figure: str
    """The measurement."""
    ratio: str = ""
    """The comparison the goal is about, if any."""
    goal: str = ""
    """The goal from the issue, if any."""
    met: str = ""
    """yes / no / n/a (goal set at another size) / not measured."""


def median(values: list[float]) -> float:
    return statistics.median(values)


def judge(ok: bool, size: int, needed: int = SCALE) -> str:
    if size < needed:
        return f"n/a at {size:,}"
    return "yes" if ok else "**no**"


def pages_label(pages: int, runs: int = 0) -> str:
    return f"{pages:,} pages" + (f" + {runs:,} runs" if runs else "")


def _stamp(part: dict[str, Any], report: dict[str, Any]) -> str:
    """`` (date, commit)`` when a merged part comes from another run than the report's."""
    date, commit = part.get("date", ""), part.get("commit", "")
    if (date, commit) == (report.get("date", ""), report.get("commit", "")) or not date:
        return ""
    return f" [{date}{', ' + commit if commit else ''}]"


def _build(row: dict[str, float]) -> str:
    return (f"{row['wall']:.2f} s wall, {row['cpu']:.1f} s CPU, {row['pages_per_s']:.0f} pages/s, "
            f"{row['rss_mb']:.0f} MB")


def cold_rows(size: dict[str, Any], report: dict[str, Any]) -> list[Row]:
    corpus, pages = pages_label(size["pages"]), size["pages"]
    cold = size.get("cold")
    if not cold:
        return []
    tools, stamp = cold["tools"], _stamp(cold, report)
    lb = tools.get("launchbook")  # absent when only an anchor was run at this size (--tools hugo)
    rows = [Row(corpus, "cold build: launchbook", _build(lb) + stamp)] if lb else []
    mkdocs, hugo, floor = tools.get("mkdocs"), tools.get("hugo"), tools.get("floor")
    goal = f"launchbook ≥ {COLD_VS_MKDOCS:g}× faster"
    if mkdocs and lb:
        ratio = mkdocs["wall"] / lb["wall"]
        rows.append(Row(corpus, f"cold build: {mkdocs['label']}", _build(mkdocs), f"MkDocs / launchbook {ratio:.2f}×",
                        goal, judge(ratio >= COLD_VS_MKDOCS, pages, 0)))
    elif mkdocs:
        rows.append(Row(corpus, f"cold build: {mkdocs['label']}", _build(mkdocs) + stamp))
    elif lb:
        rows.append(Row(corpus, "cold build: MkDocs", "not run", "", goal, "not measured"))
    goal = f"launchbook ≤ {COLD_VS_HUGO:g}× Hugo"
    if hugo and lb:
        ratio = lb["wall"] / hugo["wall"]
        rows.append(Row(corpus, f"cold build: {hugo['label']}", _build(hugo), f"launchbook / Hugo {ratio:.2f}×",
                        goal, judge(ratio <= COLD_VS_HUGO, pages, 0)))
    elif hugo:
        rows.append(Row(corpus, f"cold build: {hugo['label']}", _build(hugo) + stamp))
    elif lb:
        rows.append(Row(corpus, "cold build: Hugo", "not run", "", goal, "not measured"))
    if floor and lb:
        rows.append(Row(corpus, f"cold build: {floor['label']}", _build(floor),
                        f"launchbook / floor {lb['wall'] / floor['wall']:.2f}×", "(no goal: the least possible)"))
    return rows


def everyday_rows(size: dict[str, Any], report: dict[str, Any]) -> list[Row]:
    corpus, pages, rows = pages_label(size["pages"]), size["pages"], []
    hugo = (size.get("cold") or {}).get("tools", {}).get("hugo")
    if noop := size.get("noop"):
        goal = f"≤ {NOOP_VS_HUGO:g}× Hugo's full build"
        ratio, met = "", "not measured"
        if hugo:
            value = noop["wall"] / hugo["wall"]
            ratio, met = f"no-op / Hugo cold {value:.3f}×", judge(value <= NOOP_VS_HUGO, pages, 0)
        rows.append(Row(corpus, "no-op build (nothing changed)",
                        f"{noop['wall']:.2f} s (median of {len(noop['samples'])})" + _stamp(noop, report),
                        ratio, goal, met))
    if edit := size.get("edit"):
        same = ("output identical to a clean build" if edit["identical_to_clean"]
                else "**output differs from a clean build**")
        rows.append(Row(corpus, "one edit, CLI `build`",
                        f"{edit['wall']:.2f} s (median of {len(edit['samples'])}; {same})" + _stamp(edit, report),
                        "", f"≤ {EDIT_CLI:g} s at {SCALE:,} pages",
                        judge(edit["wall"] <= EDIT_CLI and edit["identical_to_clean"], pages)))
    if serve := size.get("serve"):
        rebuilt = f"; server's rebuild {median(serve['server_rebuilds']):.2f} s" if serve["server_rebuilds"] else ""
        rows.append(Row(corpus, "one edit, `serve` (file write → page served)",
                        f"{serve['wall']:.2f} s (median of {len(serve['samples'])}{rebuilt})" + _stamp(serve, report),
                        "", f"< {EDIT_SERVE:g} s at {SCALE:,} pages", judge(serve["wall"] < EDIT_SERVE, pages)))
    if runcmd := size.get("runcmd"):
        for command in ("start", "close"):
            here, alone = runcmd[command], runcmd[f"{command}_1page"]
            extra = here - alone
            figure = f"{here:.2f} s; the same checklist in a 1-page project {alone:.2f} s" + _stamp(runcmd, report)
            rows.append(Row(corpus, f"`run {command}` ({runcmd['checklist']}, {runcmd['items']} items)", figure,
                            f"{extra:+.2f} s over 1 page", f"< {RUN_COMMAND:g} s + the 1-page time at {SCALE:,} pages",
                            judge(extra < RUN_COMMAND, pages)))
    return rows


def memory_row(memory: dict[str, Any], report: dict[str, Any]) -> Row:
    tree = memory.get("tree_pss_mb")
    peak = max(memory["rss_mb"], tree or 0.0)
    figure = (f"peak {memory['rss_mb']:.0f} MB RSS (largest process)"
              + (f", whole process tree {tree:.0f} MB PSS (sampled)" if tree is not None else "")
              + f"; cold build {memory['wall']:.1f} s" + _stamp(memory, report))
    size = min(memory["pages"], memory["runs"])
    return Row(pages_label(memory["pages"], memory["runs"]), "memory: cold build", figure, "",
               f"< 1 GiB at {SCALE:,} + {SCALE:,}", judge(peak < MEMORY_MB, size))


def verify_row(verify: dict[str, Any], report: dict[str, Any]) -> Row:
    made = "reused" if verify["archive_reused"] else "made now"
    version = "" if verify.get("archive_current", True) else ", by an older seal format"
    sealed, wall = verify["sealed"], verify["verify_wall"]
    figure = (f"{wall:.1f} s wall, {verify['verify_cpu']:.1f} s CPU, {verify['verify_rss_mb']:.0f} MB; "
              f"{wall / sealed * 1000:.1f} ms wall per run; sealing the archive took "
              f"{verify['seal_seconds'] / 60:.1f} min ({made}{version})" + _stamp(verify, report))
    if sealed >= SCALE:
        return Row(f"{sealed:,} sealed runs", "`verify` of the archive", figure, "", f"< {VERIFY:g} s at {SCALE:,}",
                   judge(wall < VERIFY, sealed))
    guess = wall / sealed * SCALE
    return Row(f"{sealed:,} sealed runs", "`verify` of the archive", figure,
               f"extrapolated to {SCALE:,}: ~{guess:.0f} s (linear; an estimate, not a measurement)",
               f"< {VERIFY:g} s at {SCALE:,}", f"measured at {sealed:,}; {SCALE // 1000}k not measured")


def close_rows(close: dict[str, Any], report: dict[str, Any]) -> list[Row]:
    """`run close` at each archive size; the last row compares its non-render, non-sign part with the first's."""
    sizes = sorted(close["sizes"].items(), key=lambda item: int(item[0]))
    smallest, first = int(sizes[0][0]), sizes[0][1]
    rows = []
    for size, row in sizes:
        ratio = f"other: {row['other'] - first['other']:+.2f} s over {smallest:,} run" if row is not first else ""
        rows.append(Row(f"{int(size):,} sealed run{'s' if int(size) != 1 else ''}", "`run close` (deploy.md, 15 items)",
                        f"{row['wall']:.2f} s (render {row['render']:.2f}, sign {row['sign']:.2f}, other "
                        f"{row['other']:.2f}; median of {len(row['samples'])})" + _stamp(close, report),
                        ratio, "(no goal: a close must not grow with the archive)", ""))
    return rows


def failed_row(corpus: str, part: str, result: dict[str, Any]) -> Row:
    return Row(corpus, part, f"failed: {result['error'].splitlines()[-1][:200] if result['error'] else '?'}",
               met="failed")


def rows(report: dict[str, Any]) -> list[Row]:
    """The table: per pages corpus, its cold and everyday rows; then memory and verify. A part
    that failed is one row saying so."""
    found: list[Row] = []
    for size in sorted(report.get("sizes", {}).values(), key=lambda s: s["pages"]):
        failed = {k: v for k, v in size.items() if isinstance(v, dict) and "error" in v}
        fine = {k: v for k, v in size.items() if k not in failed}
        found += cold_rows(fine, report) + everyday_rows(fine, report)
        found += [failed_row(pages_label(size["pages"]), part, result) for part, result in failed.items()]
    if memory := report.get("memory"):
        found.append(failed_row("pages + runs", "memory", memory) if "error" in memory else memory_row(memory, report))
    if close := report.get("close"):
        found += [failed_row("sealed runs", "run close", close)] if "error" in close else close_rows(close, report)
    if verify := report.get("verify"):
        found.append(failed_row("sealed runs", "verify", verify) if "error" in verify else verify_row(verify, report))
    return found


def markdown(table: list[Row]) -> str:
    lines = ["| corpus | measure | figure | ratio | goal | met? |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.corpus} | {r.measure} | {r.figure} | {r.ratio} | {r.goal} | {r.met} |" for r in table]
    return "\n".join(lines)


def as_data(table: list[Row]) -> list[dict[str, str]]:
    return [asdict(row) for row in table]


def readme_block(report: dict[str, Any]) -> str:
    machine = report["machine"]
    return (f"{START}\nLatest run: {report['date']}, commit {report.get('commit') or 'unknown'}, "
            f"{machine['cores']} cores, Python {machine['python']}, {machine['platform']}, "
            f"load average {machine.get('load_at_start', 0):.1f} at the start. Command:\n\n"
            f"```\n{report['command']}\n```\n\n{report['table']}\n{END}")


def rewrite_readme(readme: Path, report: dict[str, Any]) -> None:
    """Replace the README's speed figures (between the bench markers) with this report's table."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{readme}: no {START} … {END} section to rewrite")
    readme.write_text(text[:start] + readme_block(report) + text[end + len(END):], encoding="utf-8")
