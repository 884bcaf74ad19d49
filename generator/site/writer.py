"""The one place output files are written.

A build writes into a fresh staging folder (see :mod:`generator.site.swap`); the writer
refuses paths that escape it and a second write of the same file, and records what it
wrote in the manifest (so later builds know which files are theirs).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from generator.core.errors import BuildError

MANIFEST = ".launchbook-manifest.json"


class OutputWriter:
    """Writes files below one root; refuses escapes and double writes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.written: set[str] = set()

    def write(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` at ``rel`` (``/``-separated, relative to the root)."""
        self.write_parts(rel, [data])

    def write_parts(self, rel: str, parts: Iterable[bytes | str]) -> None:
        """Write ``parts`` one after the other at ``rel`` (a large file need not be held whole)."""
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise BuildError(f"refusing to write outside the output folder: {rel}")
        key = target.relative_to(self.root).as_posix()
        if key in self.written:
            raise BuildError(f"two sources want to write the same output file: {key}")
        self.written.add(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            for data in parts:
                out.write(data.encode("utf-8") if isinstance(data, str) else data)

    def claim(self, rel: str) -> None:
        """Record a file another process wrote under this root (refuses double writes)."""
        if rel in self.written:
            raise BuildError(f"two sources want to write the same output file: {rel}")
        self.written.add(rel)

    def copy(self, rel: str, source: Path) -> None:
        """Copy a file into the output unchanged."""
        self.write(rel, source.read_bytes())

    def finish(self, extra: dict[str, object] | None = None) -> None:
        """Record what this build created (so later builds know what is theirs), plus
        ``extra`` facts such as the input fingerprint."""
        names = sorted(self.written | {MANIFEST})
        self.write(MANIFEST, json.dumps({"files": names, **(extra or {})}, indent=1, sort_keys=True) + "\n")
