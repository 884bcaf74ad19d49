"""``launchbook new DIR``: a working project to start from.

Content with one example checklist and one example run (made with the same library
calls as ``launchbook run``), a ``site.yml`` documented inline, and a theme override
folder. Existing files are never overwritten: they are listed as kept. In a folder that is
already a project (``content/`` holds a checklist, or ``content/runs/`` holds records) only
the missing skeleton files are added: never an example page, checklist or run record, so a
real archive never gains a sample run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.core.errors import ConfigError, LaunchbookError
from generator.runs.operations import mark_item
from generator.runs.start import start_run
from generator.sources.tasklines import has_task_line

SITE_YML = """\
# launchbook site settings. Every key is optional; unknown keys are reported as warnings.

# Shown in the header, page titles and on the home page.
title: {title}
description: Operational checklists and the record of every launch.

# Absolute URL the site will be published at (enables sitemap.xml). Leave empty for
# a site opened from disk or served from anywhere.
base_url: ""

# Theme: themes/<name>/ in this project, falling back to the built-in default for any
# template or asset it does not have. "custom" is the override folder `new` created.
theme: custom

# lang attribute of every page.
language: en

# Navigation order: content-relative files or folders listed first, in this order;
# everything else follows alphabetically.
{nav}

# Certificates (PEM) whose signatures on sealed reports you trust, relative to this
# folder. `launchbook keys new` prints the one it makes.
trust: []

# RFC 3161 timestamp authority for sealed reports (PAdES B-LT, or B-T when its chain cannot be
# validated: list its root under trust:); `launchbook timestamp` renews reports with it (B-LTA).
# Empty: reports are B-B, valid only while the signing certificate is.
timestamp_url: ""

# Map JUnit test cases (classname.name, globs allowed) to checklist item IDs for
# `launchbook run import-junit`.
junit: {{}}

# Names starting with "." or "_" are left out unless a glob here names them; these are the
# defaults (pull-request and issue templates are checklists). Setting it replaces them.
include:
  - ".github/**"
  - ".gitlab/**"

# Left out on top of the defaults **/node_modules/** and **/vendor/**; wins over include.
exclude: []

# Largest Markdown file read, in bytes; a larger one is an error naming it.
max_document_size: 4194304
"""

HOME = """\
# {title}

Welcome. Checklists live in `content/`, one Markdown file each; runs of them are recorded
under `content/runs/` with `launchbook run …`.

Start with the [example release checklist](checklists/release.md).
"""

CHECKLIST = """\
---
id: release
title: Example release
owner: platform-team
tags: [example, release]
description: What to check before, during and after a production release.
---
# Example release

## Before the window

- [ ] Change ticket approved {#change-approved}
- [ ] Release notes published
- [ ] Database backup taken and restore tested
- [ ] Feature flags reviewed (optional)

## During the window

- [ ] Deploy to production {#deploy}
- [ ] Smoke tests pass
  - [ ] Log-in works
  - [ ] Checkout works
- [ ] Error rate below 1 % for 15 minutes

## After

- [ ] Announce completion in #releases
- [ ] Close the change ticket

## Sign-off

| Role | Name | Signature | Date |
|---|---|---|---|
| Release Manager | | | |
| Service Owner | | | |
"""

THEME_README = """\
# Theme overrides

Put a file here with the same path as one in launchbook's default theme and it is used
instead, e.g. `templates/base.html` or `assets/launchbook.css`; everything you leave out
falls back to the default theme. Templates are Jinja with autoescaping on.
"""

GITIGNORE = """\
output/
output.kept/
.launchbook-cache/
.launchbook/
*.bak
content/runs/**/.*.lock
"""


EXAMPLE_NAV = "nav:\n  - checklists"
OWN_NAV = "nav: []"

SKELETON = ("content/site.yml", "themes/custom/README.md", "themes/custom/templates/.keep",
            "themes/custom/assets/.keep", ".gitignore")
"""What every project gets when it is missing."""
EXAMPLES = ("content/index.md", "content/checklists/release.md", "content/runs/release/")
"""What only a new project gets: the example home page, checklist and run."""

@dataclass
class Scaffold:
    """What ``new`` did."""

    root: Path
    created: list[str] = field(default_factory=list)
    """Project-relative files written."""
    kept: list[str] = field(default_factory=list)
    """Project-relative files that were already there, not touched."""
    existing: list[str] = field(default_factory=list)
    """Why the folder is already a project (a checklist, run records); empty for a new one."""
    withheld: list[str] = field(default_factory=list)
    """Examples not added because the folder is already a project."""


def new_project(root: Path, title: str = "") -> Scaffold:
    """Create a project at ``root`` (which may exist); never overwrite a file. A folder that is
    already a project gets the missing skeleton files only, never the examples."""
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder")
    title = title or root.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "Runbooks"
    done = Scaffold(root, existing=existing_project(root))
    skeleton = {
        "content/site.yml": SITE_YML.format(title=_yaml_string(title), nav=OWN_NAV if done.existing else EXAMPLE_NAV),
        "themes/custom/README.md": THEME_README,
        "themes/custom/templates/.keep": "",
        "themes/custom/assets/.keep": "",
        ".gitignore": GITIGNORE,
    }
    for rel, text in skeleton.items():
        _create(done, rel, text)
    if done.existing:
        for rel in EXAMPLES:
            (done.kept if (root / rel).exists() else done.withheld).append(rel)
        return done
    _create(done, "content/index.md", HOME.format(title=title))
    _create(done, "content/checklists/release.md", CHECKLIST)
    _example_run(done)
    return done


def existing_project(root: Path) -> list[str]:
    """What makes ``root`` a real project already: the first checklist found under ``content/``
    (a Markdown file with a task item line, hidden folders included) and whether ``content/runs/``
    holds any file (run records, reports, the ledger). Empty for a new or empty folder."""
    content = root / "content"
    found: list[str] = []
    checklist = _first_checklist(content)
    if checklist is not None:
        found.append(f"{checklist.relative_to(root).as_posix()} is a checklist")
    if _holds_files(content / "runs"):
        found.append("content/runs/ holds run records")
    return found


def _first_checklist(content: Path) -> Path | None:
    for folder, dirs, files in os.walk(content):
        dirs.sort()
        if Path(folder) == content and "runs" in dirs:
            dirs.remove("runs")
        for name in sorted(files):
            path = Path(folder, name)
            if not name.lower().endswith(".md") or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return path  # unreadable here, but someone's file: never mix examples into it
            if has_task_line(text):
                return path
    return None


def _holds_files(folder: Path) -> bool:
    return any(not name.startswith(".") for _, _, files in os.walk(folder) for name in files)


def _yaml_string(text: str) -> str:

    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def _create(done: Scaffold, rel: str, text: str) -> None:
    path = done.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # never replaces a file
    except FileExistsError:
        done.kept.append(rel)
        return
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    done.created.append(rel)


def _example_run(done: Scaffold) -> None:
    """One run of the example checklist, part done, so the run pages have something to show."""

    try:
        run, record = start_run(done.root, "release", release="v1.0.0", change="CHG-1001", environment="production",
                                operator="Alex Example", at="2026-01-15T09:00:00Z")
    except LaunchbookError:
        return  # the user's own content/checklists/release.md was kept and is not this one
    marks = [
        ("change-approved", "done", ""),
        ("deploy", "done", ""),
        (record.snapshot.items[1].id, "skipped", "Release notes go out with the monthly digest"),
    ]
    for item_id, status, note in marks:
        mark_item(done.root, record.id, item_id, status=status, note=note, at="2026-01-15T09:30:00Z")
    done.created.append(run.path.relative_to(done.root).as_posix())
