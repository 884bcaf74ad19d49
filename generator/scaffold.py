"""``launchbook new DIR``: a working project to start from.

Content with one example checklist and one example run (made with the same library
calls as ``launchbook run``), a ``site.yml`` documented inline, and a theme override
folder. Existing files are never overwritten: they are listed as kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from generator.core.errors import ConfigError, LaunchbookError
from generator.runs.operations import mark_item
from generator.runs.start import start_run

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
nav:
  - checklists

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


@dataclass
class Scaffold:
    """What ``new`` did."""

    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def new_project(root: Path, title: str = "") -> Scaffold:
    """Create a project at ``root`` (which may exist); never overwrite a file."""
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} exists and is not a folder")
    title = title or root.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "Runbooks"
    done = Scaffold(root)
    files = {
        "content/site.yml": SITE_YML.format(title=_yaml_string(title)),
        "content/index.md": HOME.format(title=title),
        "content/checklists/release.md": CHECKLIST,
        "themes/custom/README.md": THEME_README,
        "themes/custom/templates/.keep": "",
        "themes/custom/assets/.keep": "",
        ".gitignore": GITIGNORE,
    }
    for rel, text in files.items():
        _create(done, rel, text)
    _example_run(done)
    return done


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

    runs = done.root / "content" / "runs" / "release"
    if runs.exists() and any(runs.glob("*.yml")):
        done.kept.append("content/runs/release/")
        return
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
