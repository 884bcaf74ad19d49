"""The tools launchbook's cold build is compared with, each as one command on the same corpus.

MkDocs 1.6 (+ pymdown-extensions, pymdownx.tasklist) is installed into a throwaway venv
under bench/.work/; Hugo is Debian's package (installed with apt-get when run as root);
the markdown-it-py floor is bench/floor.py on this interpreter. MkDocs and Hugo get a copy
of content/ without the run records and site.yml (they have no use for them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.measure import ROOT, launchbook_command

WORK = ROOT / "bench" / ".work"


@dataclass(frozen=True, slots=True)
class Tool:
    """A cold build to time."""

    name: str
    """Key in the JSON (launchbook, mkdocs, hugo, floor)."""
    label: str
    """Name in the table."""
    command: list[str]
    """The command; run with cwd ``cwd``."""
    cwd: Path | None = None


def launchbook_build(project: Path, *extra: str, output: Path | None = None) -> list[str]:
    return launchbook_command("build", "-C", str(project), "-o", str(output or project / "output"), *extra)


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
    if found is None:
        print("Hugo unavailable (not installed, and not root to apt-get it)", file=sys.stderr)
    return found


def tool_version(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""


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


COLD_TOOLS = ("launchbook", "mkdocs", "hugo", "floor")


def cold_tools(corpus: Path, *, anchors: bool, floor: bool, only: frozenset[str] = frozenset(COLD_TOOLS),
               ) -> list[Tool]:
    """launchbook's cold build (``--no-cache``), then MkDocs, Hugo and the floor as asked and
    available (``only``: the names of those to run)."""
    tools = [Tool("launchbook", "launchbook", launchbook_build(corpus, "--no-cache"))]
    if anchors:
        mkdocs = ensure_mkdocs() if "mkdocs" in only else None
        if mkdocs is not None:
            site = mkdocs_project(corpus)
            version = tool_version([str(mkdocs), "--version"]).split(" from ")[0].replace("mkdocs, version", "").strip()
            tools.append(Tool("mkdocs", f"MkDocs {version}".strip(),
                              [str(mkdocs), "build", "-q", "-f", str(site / "mkdocs.yml"), "-d", str(site / "site")],
                              site))
        hugo = ensure_hugo() if "hugo" in only else None
        if hugo is not None:
            site = hugo_project(corpus)
            words = tool_version([hugo, "version"]).split()[1:2]
            tools.append(Tool("hugo", f"Hugo {words[0].split('+')[0].lstrip('v') if words else ''}".strip(),
                              [hugo, "--quiet", "-s", str(site), "-d", str(site / "public")], site))
    if floor:
        workers = os.cpu_count() or 1
        tools.append(Tool("floor", f"markdown-it-py floor ({workers} workers)",
                          [sys.executable, str(ROOT / "bench" / "floor.py"), str(corpus / "content"), str(workers)]))
    return [tool for tool in tools if tool.name in only]
