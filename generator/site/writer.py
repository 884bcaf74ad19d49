"""The one place output files are written.

A build writes into a fresh staging folder (see :mod:`generator.site.swap`); the writer
refuses paths that escape it and a second write of the same file, and records what it
wrote in the manifest (so later builds know which files are theirs).

Given the previous output (:class:`PreviousOutput`), the writer stages only what is new
or changed: a file whose bytes the previous output already holds (same sha256, or for a
page the same cache key, or the same bytes) is *kept* — left where it is, recorded, not
written — and the publish step (:mod:`generator.site.publish`) touches only the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from generator.core.errors import BuildError
from generator.core.files import FileHash, file_sha256
from generator.site.manifest import MANIFEST, PreviousOutput, Record, safe_name
from generator.site.publish import Changes


class OutputWriter:
    """Writes files below one root; refuses escapes and double writes."""

    def __init__(self, root: Path, previous: PreviousOutput | None = None,
                 file_hash: FileHash | None = None) -> None:
        self.root = root.resolve()
        self.written: set[str] = set()
        """Every file of the new site: written into the root, or kept."""
        self.kept: dict[str, Record] = {}
        """Files left in the previous output -> what its manifest recorded of each."""
        self.digests: dict[str, str] = {}
        self.previous, self.file_hash = previous, file_hash

    def _target(self, rel: str) -> tuple[Path, str]:
        key = self._key(rel)
        return self.root / key, key

    def _key(self, rel: str) -> str:
        if safe_name(rel):  # cannot leave the root, which holds no links
            key = rel
        else:
            target = (self.root / rel).resolve()
            if not target.is_relative_to(self.root) or target == self.root:
                raise BuildError(f"refusing to write outside the output folder: {rel}")
            key = target.relative_to(self.root).as_posix()
        if key in self.written:
            raise BuildError(f"two sources want to write the same output file: {key}")
        return key

    def write(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` at ``rel`` (``/``-separated, relative to the root); kept instead when
        the previous output already holds these bytes there (nothing is written)."""
        chunk = data.encode("utf-8") if isinstance(data, str) else data
        if self.previous is not None and self.reuse(rel, hashlib.sha256(chunk).hexdigest(), len(chunk)):
            return
        self.write_parts(rel, [chunk])

    def reuse(self, rel: str, digest: str, size: int | None = None) -> bool:
        """Keep the previous output's file at ``rel`` when its manifest records this sha256
        (and ``size``) and the file is still there; ``False`` (nothing recorded) otherwise."""
        if self.previous is None:
            return False
        key = self._key(rel)
        if not self._keep(key, digest, size):
            return False
        self.written.add(key)
        self.digests[key] = digest
        return True

    def reuse_unchanged(self, files: Iterable[tuple[str, str]]) -> list[str]:
        """:meth:`reuse` for many ``(rel, sha256)`` at once (10,000 search fragments: one
        lstat each and little else); returns the rels not kept, in order, to be written."""
        previous = self.previous
        if previous is None:
            return [rel for rel, _ in files]
        recorded, written, rest = previous.manifest.digests, self.written, []
        for rel, digest in files:
            if recorded.get(rel) == digest and rel not in written and safe_name(rel) and previous.present(rel):
                written.add(rel)
                self.kept[rel] = previous.manifest.record(rel)
                self.digests[rel] = digest
            else:
                rest.append(rel)
        return rest

    def write_parts(self, rel: str, parts: Iterable[bytes | str]) -> None:
        """Write ``parts`` one after the other at ``rel`` (a large file need not be held whole)."""
        target, key = self._target(rel)
        self.written.add(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with target.open("wb") as out:
            for data in parts:
                chunk = data.encode("utf-8") if isinstance(data, str) else data
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.digests[key] = digest.hexdigest()
        if self._keep(key, self.digests[key], size):
            target.unlink()

    def _keep(self, key: str, digest: str, size: int | None) -> bool:
        previous = self.previous
        if previous is None or previous.manifest.digests.get(key) != digest or not previous.present(key, size):
            return False
        self.kept[key] = previous.manifest.record(key)
        return True

    def keep(self, rel: str) -> bool:
        """Keep the previous output's file at ``rel`` (a page whose cache key the caller
        found unchanged in the previous manifest); ``False`` when there is none to keep."""
        if self.previous is None or not self.previous.present(rel):
            return False
        self.claim(rel)
        self.kept[rel] = self.previous.manifest.record(rel)
        digest = self.previous.manifest.digests.get(rel)
        if digest is not None:  # a page the parent writes records its sha256, kept or written
            self.digests[rel] = digest
        return True

    def link(self, rel: str, old: Path) -> bool:
        """Hard-link (or copy) the previous output's unchanged page ``old`` to ``rel``, when
        the whole site is staged (publishing in place, a page that changed on disk is
        rendered again instead); ``False`` when there is no such file."""
        if self.previous is not None or not old.is_file():
            return False
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, target)
        except OSError:
            shutil.copyfile(old, target)
        self.claim(rel)
        return True

    def claim(self, rel: str) -> None:
        """Record a file another process wrote under this root (refuses double writes)."""
        if rel in self.written:
            raise BuildError(f"two sources want to write the same output file: {rel}")
        self.written.add(rel)

    def copy(self, rel: str, source: Path) -> None:
        """Copy a file into the output unchanged (kept when the previous output has its bytes)."""
        if self.previous is not None:
            digest = self.file_hash(source) if self.file_hash is not None else file_sha256(source)
            if self.reuse(rel, digest):
                return
        self.write_parts(rel, [source.read_bytes()])

    def finish(self, extra: dict[str, object] | None = None) -> dict[str, object]:
        """Record what this build created (so later builds know what is theirs), plus
        ``extra`` facts such as the input fingerprint and page keys. A page written anew
        with the same bytes as the previous output's is kept after all."""
        sizes: dict[str, int] = {}
        for rel in sorted(self.written):
            if rel in self.kept:
                sizes[rel] = self.kept[rel][2] or 0
                continue
            staged = self.root / rel
            sizes[rel] = staged.stat().st_size
            previous = self.previous
            if (previous is not None and rel not in self.digests and previous.present(rel, sizes[rel])
                    and staged.read_bytes() == (previous.folder / rel).read_bytes()):
                self.kept[rel] = previous.manifest.record(rel)
                staged.unlink()
        names = sorted(self.written | {MANIFEST})
        manifest = {"files": names, "sizes": sizes, "digests": dict(self.digests), **(extra or {})}
        self.write(MANIFEST, json.dumps(manifest, sort_keys=True, separators=(",", ":")) + "\n")  # C encoder: quick
        self.digests.pop(MANIFEST, None)
        self.kept.pop(MANIFEST, None)
        return manifest

    def changes(self) -> Changes | None:
        """What publishing in place needs (after :meth:`finish`); ``None`` when the whole site is staged."""
        if self.previous is None:
            return None
        return Changes(frozenset(self.written), dict(self.kept), self.previous)
