"""Skip a build when nothing it reads has changed.

The fingerprint covers every input a build reads: every file under ``content/`` (run
records and evidence included), the themes, trusted certificates, launchbook's own code,
the build options and ``SOURCE_DATE_EPOCH``. It is stored in the output's manifest; when
the next build computes the same fingerprint and every file the manifest lists is still
there, the output is already what a full build would write, byte for byte.
This module is imported before anything heavy, so a no-op build stays quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from generator import code_digest
from generator.config import load_config
from generator.core.diagnostics import Diagnostic, Severity
from generator.core.errors import BuildError
from generator.core.files import check_output_folder, file_sha256, store_cache_bytes
from generator.core.templating import default_theme_dir
from generator.parallel import Progress
from generator.site.build import Audit, build_site
from generator.site.manifest import read_manifest
from generator.site.result import BuildResult
from generator.site.swap import recover

RACY_NS = 3_000_000_000


class _Hashes:
    """Content hashes of input files, remembered by (size, mtime_ns, inode) like git's index,
    so an unchanged tree is fingerprinted without reading it."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.old: dict[str, list[Any]] = {}
        self.new: dict[str, list[Any]] = {}
        if store is not None:
            try:
                self.old = json.loads(store.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.old = {}

    def of(self, path: Path) -> str:
        info = path.stat()
        stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
        key = str(path)
        known = self.new.get(key) or self.old.get(key)
        # Like git's "racy" rule: a file modified in the last seconds may change again within
        # the file system's timestamp granularity, so its remembered hash is not trusted.
        settled = time.time_ns() - info.st_mtime_ns > RACY_NS
        if isinstance(known, list) and known[:3] == stamp and settled:
            self.new[key] = known
            return str(known[3])
        digest = file_sha256(path)
        self.new[key] = [*stamp, digest]
        return digest

    def save(self) -> None:
        if self.store is None or self.new == self.old:
            return
        store_cache_bytes(self.store, json.dumps(self.new, sort_keys=True).encode("utf-8"))


def _tree(digest: Any, root: Path, label: str, hashes: _Hashes) -> None:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(".lock"):
            digest.update(f"{label}/{path.relative_to(root).as_posix()}\0{hashes.of(path)}\0".encode())


def fingerprint(project: Path, options: dict[str, Any], hashes: _Hashes) -> str:
    """sha256 over everything the build of ``project`` would read (file hashes go to
    ``hashes``, so the build can reuse them)."""

    digest = hashlib.sha256(code_digest().encode())
    digest.update(json.dumps(options, sort_keys=True).encode())
    digest.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    content = project / "content"
    _tree(digest, content, "content", hashes)
    _tree(digest, project / "themes", "themes", hashes)
    _tree(digest, default_theme_dir(), "default-theme", hashes)
    hashes.save()
    if content.is_dir():
        for cert in load_config(content, "content").trust:
            digest.update(cert.read_bytes() if cert.is_file() else b"missing")
    return digest.hexdigest()


def previous_build(output: Path, expected: str) -> dict[str, Any] | None:
    """The manifest of an output folder that is already up to date, else ``None``."""
    manifest = read_manifest(output)
    if manifest is None or not manifest.safe or manifest.data.get("fingerprint") != expected:
        return None
    if not all((output / name).is_file() for name in manifest.files):
        return None
    return manifest.data


def build(project: Path, output: Path | None, *, strict: bool, clean: bool, cache: bool,
          audit: Audit | None, progress: Progress | None = None) -> BuildResult:
    """Build unless the output is already up to date (``clean`` or no cache forces a build)."""
    started = time.perf_counter()
    project = project.resolve()
    target = (output or project / "output").resolve()
    check_output_folder(target, project)  # before anything is written (the hash cache included)
    options = {"audit": audit is not None}
    hashes = _Hashes(project / ".launchbook-cache" / "file-hashes.json" if cache else None)
    key = fingerprint(project, options, hashes=hashes) if (project / "content").is_dir() else ""
    if key and cache and not clean:

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
                      progress=progress, file_hash=hashes.of if key else None)
