"""One rule for what a build reads from ``content/``: ``published`` (asked by ``serve`` of a change
whose name looks like an editor's temporary file) says yes exactly for the files
``collect_sources`` collects, on random trees and selections; and ``serve`` rebuilds on a change
to a file the build publishes even when its name looks temporary (``data.tmp``, an included
``.htaccess``), not on editors' own files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.core.selection import Selection
from generator.site.relevance import starts_rebuild
from generator.sources.collect import collect_sources, published

FOLDERS = ["docs", ".github", "_drafts", "runs", ".well-known", "old~", "a"]
FILES = ["notes.md", "data.tmp", ".htaccess", "x.md.bak", ".x.yml.lock", "#auto#", "z~", ".#deploy.md",
         "site.yml", "logo.png", "_partial.md", "dl.part", "4913"]
INCLUDES = [".well-known/**", ".htaccess", "_drafts/**", ".github/*.md"]
EXCLUDES = ["docs/**", "*.png", "a/notes.md"]
PATHS = st.lists(st.builds(lambda folders, name: (*folders, name),
                           st.lists(st.sampled_from(FOLDERS), max_size=2), st.sampled_from(FILES)),
                 min_size=1, max_size=12, unique=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=PATHS, include=st.lists(st.sampled_from(INCLUDES), unique=True, max_size=2),
       exclude=st.lists(st.sampled_from(EXCLUDES), unique=True, max_size=2))
def test_published_says_what_the_walk_collects(tmp_path_factory, paths: list[tuple[str, ...]],  # type: ignore[no-untyped-def]
                                               include: list[str], exclude: list[str]) -> None:
    content = tmp_path_factory.mktemp("content")
    made = []
    for parts in paths:
        target = content.joinpath(*parts)
        if any(content.joinpath(*parts[:n]).is_file() for n in range(1, len(parts))) or target.is_dir():
            continue  # a file where a folder is wanted: not a tree
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x\n")
        made.append(parts)
    selection = Selection(include=tuple(include), exclude=tuple(exclude))
    tree = collect_sources(content, "content", selection)
    collected = {entry.rel for entry in (*tree.documents, *tree.assets)}
    expected = {"/".join(parts) for parts in made if published(parts, selection)} - {"site.yml"}
    assert collected == expected


def test_serve_rebuilds_for_published_files_with_temporary_looking_names(
        write_project: Callable[..., Path]) -> None:
    project = write_project({"content/site.yml": "include: ['.htaccess']\n", "content/a.md": "# A\n",
                             "themes/default/assets/x.tmp": "x"})
    root = project.resolve()

    def counts(path: Path) -> bool:
        return starts_rebuild(root, path)

    content = root / "content"
    for name in ("a.md", "data.tmp", "dl.part", ".htaccess", "runs/deploy/20260701-0800-v1.yml", "site.yml"):
        assert counts(content / name), name
    for name in (".#a.md", ".a.md.swp", "a.md~", "#a.md#", ".secret", "runs/deploy/.20260701-0800-v1.yml.lock",
                 "a.md.bak", ".github/x.tmp"):
        assert not counts(content / name), name
    themes = root / "themes"
    assert counts(themes / "default/assets/x.tmp")  # a theme asset: published
    assert not counts(themes / "default/assets/.x.swp") and not counts(themes / "default/.DS_Store")
