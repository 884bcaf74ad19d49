"""Which changes a file watcher reports start a rebuild under ``serve``: those to files a build
reads. Editors' own files (swap files, backups, lock files, Vim's write test) never do; a name
that only looks temporary does when the build publishes it (a ``data.tmp``, a hidden file
``site.yml`` includes), by the source walk's own rule (:func:`generator.sources.collect.published`).
"""

from __future__ import annotations

from pathlib import Path

from generator.config import load_config
from generator.core.errors import LaunchbookError
from generator.core.selection import is_leftover
from generator.sources.collect import published


def editor_temp(name: str) -> bool:
    """Files editors and launchbook itself write for a moment (never a source): dot files (Vim's .swp,
    Emacs' .#lock, launchbook's .<name>.lock), Emacs' #autosave#, backups ending in ~, Vim's write
    test 4913, .tmp, .swp. A ``data.lock`` of the user's is published, so its changes count."""
    return (name.startswith((".", "#")) or name.endswith(("~", ".tmp", ".swp", ".swx", ".part"))
            or name.isdigit())


def starts_rebuild(project: Path, path: Path) -> bool:
    """Whether a change to ``path`` (absolute, resolved) in ``project`` starts a rebuild: not for a
    leftover the build never reads (``x.md.bak``, ``x~``, ``.x.yml.lock``), nor for a name that
    looks like an editor's temporary file (:func:`editor_temp`) unless the build reads it after
    all (a ``data.tmp``, or a hidden file ``site.yml`` includes, under ``content/``: published,
    so it counts)."""
    if is_leftover(path.name):  # backups, editor leftovers, launchbook's lock files: never read
        return False
    if not editor_temp(path.name):
        return True
    themes = (project / "themes").resolve()
    if path.is_relative_to(themes):  # every theme file but hidden ones is read (assets, templates)
        return not any(part.startswith(".") for part in path.relative_to(themes).parts)
    content = (project / "content").resolve()
    if not path.is_relative_to(content):
        return False
    try:
        selection = load_config(content, "content").selection
    except LaunchbookError:
        return True  # the build says what is wrong with site.yml
    return published(path.relative_to(content).parts, selection)
