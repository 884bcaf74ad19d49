"""Skip a build when nothing it reads has changed.

The fingerprint covers every input a build reads: every file under ``content/`` (run
records and evidence included), the themes, trusted certificates, launchbook's own code,
the build options and ``SOURCE_DATE_EPOCH``. It is stored in the output's manifest; when
the next build computes the same fingerprint and every file the manifest lists is still
there, the output is already what a full build would write, byte for byte.
Fingerprinting itself lives in :mod:`generator.site.incremental`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import BuildError
from generator.core.files import check_output_folder
from generator.core.quietgc import quiet_gc
from generator.parallel import Progress
from generator.site.build import Audit, build_site
from generator.site.incremental import FileHashes, input_fingerprint
from generator.site.manifest import read_manifest
from generator.site.result import BuildResult
from generator.site.swap import recover
from generator.sources.cachedir import cache_dir


def previous_build(output: Path, expected: str) -> dict[str, Any] | None:
    """The manifest of an output folder that is already up to date, else ``None``."""
    manifest = read_manifest(output)
    if manifest is None or not manifest.safe or manifest.data.get("fingerprint") != expected:
        return None
    if manifest.data.get("clock_dependent"):  # a time that was in the future may not be any more
        return None
    if not manifest.files <= _files_under(output):
        return None
    return manifest.data


def _files_under(root: Path) -> set[str]:
    """Relative ``/`` paths of the files under ``root`` (links followed, as ``Path.is_file`` would):
    one directory listing per folder instead of a ``stat`` per file (20,000 files at 10,000 pages)."""
    found: set[str] = set()
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_file():
                    found.add(prefix + entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{prefix}{entry.name}/"))
            except OSError:
                continue
    return found


def build(project: Path, output: Path | None, *, strict: bool, clean: bool, cache: bool,
          audit: Audit | None, progress: Progress | None = None, skip_current: bool = True) -> BuildResult:
    """Build unless the output is already up to date (``clean`` or no cache forces a build;
    ``skip_current=False`` runs the stages even then: they rewrite nothing, and a long-lived
    process keeps what they read in memory for its next build).

    The cyclic garbage collector is off meanwhile: a build holds a large, long-lived heap (every
    page's summary, the manifest, the search postings) that each full collection walks again,
    for a tenth of a one-edit build at 10,000 pages, and makes few cycles outside the loops that
    free their own (:func:`generator.core.quietgc.freeing_cycles`)."""
    with quiet_gc():
        return _build(project, output, strict=strict, clean=clean, cache=cache, audit=audit, progress=progress,
                      skip_current=skip_current)


def _build(project: Path, output: Path | None, *, strict: bool, clean: bool, cache: bool,
           audit: Audit | None, progress: Progress | None, skip_current: bool) -> BuildResult:
    started = time.perf_counter()
    project = project.resolve()
    target = (output or project / "output").resolve()
    check_output_folder(target, project)  # before anything is written (the hash cache included)
    options = {"audit": audit is not None}
    hashes = FileHashes(cache_dir(project) / "file-hashes.json" if cache else None)
    key = input_fingerprint(project, options, hashes=hashes) if (project / "content").is_dir() else ""
    if key and cache and not clean and skip_current:

        recover(target)  # a build killed mid-swap is completed before the output is judged
        manifest = previous_build(target, key)
        if manifest is not None:
            summary = manifest.get("summary", {})
            warnings = tuple(Diagnostic(w["path"], w["line"], w["message"]) for w in manifest.get("warnings", []))
            if strict and warnings:
                listing = "\n".join(f"  {w}" for w in warnings)
                raise BuildError(f"--strict: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}:\n{listing}")
            return BuildResult(output=target, pages=summary.get("pages", 0), checklists=summary.get("checklists", 0),
                               runs=summary.get("runs", 0), items=summary.get("items", 0),
                               files=len(manifest.get("files", [])), warnings=warnings, kept=(),
                               notes=tuple(Diagnostic(n["path"], n["line"], n["message"], severity=Severity.INFO)
                                           for n in manifest.get("notes", [])),
                               seconds=time.perf_counter() - started, skipped=True)

    return build_site(project, output, strict=strict, clean=clean, audit=audit, cache=cache, fingerprint=key,
                      progress=progress, file_hash=hashes if key else None)
