"""The one place output files are written, and the atomic swap of a finished build.

A build writes into a fresh staging folder beside the output folder. Only when every
page has been rendered is the staging folder swapped in; a failed build removes its
staging folder and leaves the previous output untouched. Files in the old output that
launchbook did not create (listed in its manifest) are user files: they are carried
into the new output, or with ``clean`` moved aside to ``<output>.kept/``, never deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
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


def staging_dir(output: Path) -> Path:
    """A fresh, empty folder on the same file system as ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))


def _created_by_us(output: Path) -> set[str] | None:
    manifest = output / MANIFEST
    if not manifest.is_file():
        return None
    try:
        return set(json.loads(manifest.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError):
        return None


def user_files(output: Path) -> list[str]:
    """Files in an existing output folder that launchbook did not create."""
    if not output.exists():
        return []
    if not output.is_dir():
        raise BuildError(f"output path exists and is not a folder: {output}")
    ours = _created_by_us(output)
    found = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file() or p.is_symlink())
    if ours is None:
        return found
    return [name for name in found if name not in ours]


def swap_in(staging: Path, output: Path, clean: bool) -> list[str]:
    """Replace ``output`` with ``staging``; return the user files kept (and where)."""
    kept = user_files(output)
    moved: list[str] = []
    if kept:
        destination = output.with_name(output.name + ".kept") if clean else staging
        for name in kept:
            target = destination / name
            if not clean and target.exists():
                # The new build produces this path itself; keep the user's copy aside.
                target = output.with_name(output.name + ".kept") / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(output / name, target)
            moved.append(str(target))
    if output.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{output.name}.old-", dir=output.parent))
        os.replace(output, retired / "site")
        os.replace(staging, output)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, output)
    return moved


def discard(staging: Path) -> None:
    """Remove a staging folder after a failed build."""
    shutil.rmtree(staging, ignore_errors=True)
