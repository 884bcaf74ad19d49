"""Everything that lets a build do less than everything: fingerprints, page keys, reuse.

* :class:`FileHashes` remembers each input file's sha256 by (size, mtime_ns, inode), like
  git's index, so an unchanged tree is fingerprinted (and its sources keyed) without being read.
* :func:`input_fingerprint` hashes every input of a build (content, themes, trusted
  certificates, launchbook's code, options, ``SOURCE_DATE_EPOCH``): the same fingerprint as
  the output's manifest means the output is already what a build would write.
* :func:`theme_fingerprint`, :func:`shared_digest`, :func:`page_key` and
  :func:`run_page_key` say what a page's bytes depend on; :class:`PageReuse` keeps a page of
  the previous output whose key is unchanged instead of rendering it again.

The manifest that records keys and files is :mod:`generator.site.manifest`; publishing only
what changed is :mod:`generator.site.publish`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

from generator import code_digest
from generator.config import SiteConfig, load_config
from generator.core import watched
from generator.core.files import file_sha256, read_cache_bytes, recall, remember, store_cache_later
from generator.core.locks import is_lock_file
from generator.core.selection import is_leftover
from generator.core.templating import default_theme_dir
from generator.model import DocumentSummary
from generator.site.runs import RunView, item_history
from generator.site.writer import OutputWriter

RACY_NS = 3_000_000_000
"""A file modified this recently (ns) may change again within the timestamp's granularity."""


class FileHashes:
    """Content hashes of input files, remembered by (size, mtime_ns, inode) in ``store``."""

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.old: dict[str, list[Any]] = {}
        self.new: dict[str, list[Any]] = {}
        self.seen: dict[str, os.stat_result] = {}
        """Path -> the ``stat`` this build's walk made of it (the build's later looks reuse it)."""
        if store is not None:
            known = recall(f"file-hashes:{store}")  # serve: the dict the last build saved
            if isinstance(known, dict):
                self.old = known
                return
            raw = read_cache_bytes(store)
            try:
                loaded = json.loads(raw.decode("utf-8")) if raw is not None else {}
            except ValueError:
                loaded = {}
            self.old = loaded if isinstance(loaded, dict) else {}

    def __call__(self, path: Path | str, info: os.stat_result | None = None, /) -> str:
        return self.of(path, info)

    def stat(self, path: Path | str, /) -> os.stat_result:
        """``path``'s ``stat`` as this build's walk saw it (a fresh one for a file it did not walk):
        the documents are summarized from the same look at the tree the fingerprint hashed."""
        info = self.seen.get(str(path))
        return info if info is not None else os.stat(path)

    def of(self, path: Path | str, info: os.stat_result | None = None) -> str:
        """The sha256 of ``path``, read only when its stamp (``info``, else a fresh ``stat``) is
        new or too recent to trust."""
        key = str(path)
        if info is None:
            info = os.stat(path)
        elif info is self.seen.get(key) and key in self.new:  # hashed by this build's walk, from this very stat
            return str(self.new[key][3])
        stamp = [info.st_size, info.st_mtime_ns, info.st_ino]
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
        new = self.new
        remember(f"file-hashes:{self.store}", new)
        store_cache_later(self.store, lambda: json.dumps(new, sort_keys=True).encode("utf-8"))


def tree_files(root: Path) -> list[tuple[str, str, os.stat_result]]:
    """``(relative posix path, path, stat)`` of every file under ``root`` (links followed but
    never into a folder that contains them; launchbook's own ``.<name>.lock`` files left out), sorted by relative
    path. Plain ``os.scandir``: at 10,000 files, ``Path`` objects cost more than the system calls.
    Under a watcher (``serve``), a tree where files were only modified since the last walk is
    not walked again: those files get a fresh ``stat`` (see :mod:`generator.core.watched`)."""
    start = watched.mark(root)
    known = _walks.get(str(root))
    if known is not None:
        files = _restat(known[1], watched.modified_since(known[0], root))
        if files is not None:
            _walks[str(root)] = (start, files)
            return files
    files, plain = _walk_tree(root)
    if start is not None and plain:
        _walks[str(root)] = (start, files)
    else:
        _walks.pop(str(root), None)
    return files


_walks: dict[str, tuple[int | None, list[tuple[str, str, os.stat_result]]]] = {}
"""The last walk of each watched tree, with the watcher's mark taken before it."""


def _restat(files: list[tuple[str, str, os.stat_result]],
            modified: frozenset[str] | None) -> list[tuple[str, str, os.stat_result]] | None:
    """``files`` with a fresh ``stat`` of every ``modified`` one; ``None`` when one of them is
    not a file of the list or not a regular file any more (walk again)."""
    if modified is None:
        return None
    if not modified:
        return files
    where = {path: n for n, (_, path, _) in enumerate(files)}
    updated = list(files)
    for path in modified:
        n = where.get(path)
        if n is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            return None
        updated[n] = (files[n][0], path, info)
    return updated


def _walk_tree(root: Path) -> tuple[list[tuple[str, str, os.stat_result]], bool]:
    """The files under ``root``, and whether the tree is plain: no link and no file with a second
    name, so a watcher reports every change under the one path the walk lists."""
    found: list[tuple[str, str, os.stat_result]] = []
    plain = True
    pending: list[tuple[str, str, frozenset[tuple[int, int]]]] = [(str(root), "", frozenset())]
    while pending:
        folder, prefix, above = pending.pop()
        try:
            info = os.stat(folder)
            entries = list(os.scandir(folder))
        except OSError:
            continue
        here = (info.st_dev, info.st_ino)
        if here in above:  # a link loop: the source walk reports it as an error
            continue
        above = above | {here}
        for entry in entries:
            rel = prefix + entry.name
            try:
                plain = plain and not entry.is_symlink()
                if entry.is_dir():
                    pending.append((entry.path, rel + "/", above))
                elif entry.is_file() and not is_lock_file(entry.name):
                    info = entry.stat()
                    plain = plain and info.st_nlink == 1
                    found.append((rel, entry.path, info))
            except OSError:
                continue
    found.sort()
    return found, plain


def _tree(digest: Any, root: Path, label: str, hashes: FileHashes) -> None:
    seen = hashes.seen
    for rel, path, info in tree_files(root):
        seen[path] = info
        digest.update(f"{label}/{rel}\0{hashes.of(path, info)}\0".encode())


def input_fingerprint(project: Path, options: dict[str, Any], hashes: FileHashes) -> str:
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


def theme_fingerprint(themes: list[Path]) -> str:
    """Hash of every theme file and of launchbook's code (pages depend on both). Leftovers are
    not theme files: an editor's ``.base.html.swp`` changing while a template is open would
    otherwise make every page's key new."""
    digest = hashlib.sha256(code_digest().encode())
    for theme in themes:
        for path in sorted(theme.rglob("*")):
            if path.is_file() and not any(is_leftover(part) for part in path.relative_to(theme).parts):
                digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def shared_digest(facts: dict[str, Any], config: SiteConfig) -> str:
    """Hash of what every page depends on alike (the site-wide template facts, the config)."""
    return hashlib.sha256(json.dumps([facts, repr(config)], sort_keys=True, default=str).encode()).hexdigest()


def page_key(document: DocumentSummary, url: str, nav_digest: str, trail: list[tuple[str, str | None]],
             shared: str, history: list[RunView]) -> str:
    """Everything a document page's bytes depend on, hashed: its source, place in the nav,
    breadcrumbs, the site-wide facts and its checklist's run history."""
    facts = [
        document.sha256, document.rel_path, nav_digest, trail, shared,
        [(v.record.id, v.record.started_at, v.record.release, v.record.environment, v.summary.outcome.value,
          v.summary.completion) for v in history],
        sorted(item_history(history).items()),
    ]
    return hashlib.sha256(repr(facts).encode()).hexdigest()  # strings, numbers, tuples: repr is exact and quick


_UNSHOWN_MOMENT = re.compile(r"certificate_checked_at='[^']*'")
"""When a report's signer certificate was checked: "now" unless a timestamp proves the signing
time (then it is that time, already in the check). No page shows it; keyed, it would make every
build's key of every sealed run's page new (never reused, and the manifest not reproducible)."""


def run_page_key(record_sha256: str, view: RunView, check: Any, state: Any, nav_digest: str, shared: str) -> str:
    """Everything a run page's bytes depend on, hashed: the record file, its checklist's drift,
    its report check and integrity state, its nav and the site-wide facts."""
    facts = _UNSHOWN_MOMENT.sub("", repr((record_sha256, view.url, view.checklist_url, view.drift, check, state,
                                          nav_digest, shared)))
    return hashlib.sha256(facts.encode()).hexdigest()


class PageReuse:
    """Keeps (or links) unchanged pages of the previous output instead of rendering them again.

    A page is reused only when its key (source, nav, breadcrumbs, run history, config,
    theme and code, all hashed) equals the key recorded for the file already written, so
    the result is byte-identical to rendering it.
    """

    def __init__(self, output: Path, previous: dict[str, str], theme: str) -> None:
        self.output, self.previous, self.theme = output, previous, theme
        self.keys: dict[str, str] = {}

    def reused(self, key: str, url: str, writer: OutputWriter) -> bool:
        key = hashlib.sha256((self.theme + key).encode()).hexdigest()
        self.keys[url] = key
        if self.previous.get(url) != key:
            return False
        return writer.keep(url) or writer.link(url, self.output / url)
