"""`launchbook build` end to end on throwaway projects."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from generator import code_digest
from generator.sources.cachedir import cache_dir
from tests.helpers import search_fragments

RunCli = Callable[..., Result]


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_builds_pages_assets_and_sitemap(small_site: Path, run_cli: RunCli) -> None:
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0, result.output
    out = small_site / "output"
    for rel in ("index.html", "ops/deploy.html", "guides/style.html", "404.html", "sitemap.xml",
                "assets/launchbook.css", "assets/launchbook.js", "assets/search/index.js", "assets/pygments.css"):
        assert (out / rel).is_file(), rel
    assert "Built 6 pages (1 checklist, 6 items)" in result.stdout  # counted nouns: never "1 checklists"
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://runbooks.example.com/ops/deploy.html</loc>" in sitemap


def test_checklist_page_has_anchors_states_counts_and_toc(small_site: Path, run_cli: RunCli) -> None:
    run_cli("build", "-C", small_site)
    html = (small_site / "output/ops/deploy.html").read_text()
    assert '<li class="lb-item state-done" id="freeze" data-item="freeze">' in html
    assert 'class="lb-item state-na optional"' in html
    assert re.search(r'<h2 id="before">Before <span class="section-count"[^>]*>1/2</span>', html)
    assert '<a href="#during">During</a>' in html  # table of contents
    assert 'aria-label="Breadcrumb"' in html and ">Ops<" in html
    assert 'aria-current="page">Deploy the API</a>' in html
    assert '<span class="badge signoff-badge">sign-off</span>' in html
    assert '<li class="tag">api</li>' in html


def test_links_are_relative_so_file_urls_work(small_site: Path, run_cli: RunCli) -> None:
    run_cli("build", "-C", small_site)
    out = small_site / "output"
    guide = (out / "guides/style.html").read_text()
    assert 'href="../ops/deploy.html#freeze"' in guide
    assert 'href="../assets/launchbook.css"' in guide
    home = (out / "index.html").read_text()
    assert 'href="ops/deploy.html"' in home
    for page in out.rglob("*.html"):
        hrefs = re.findall(r'(?:href|src)="([^"]*)"', page.read_text())
        assert not [h for h in hrefs if h.startswith("/")], page


def test_untrusted_text_is_escaped_everywhere(small_site: Path, run_cli: RunCli) -> None:
    run_cli("build", "-C", small_site)
    out = small_site / "output"
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml"):
            assert "<script>alert(1)" not in path.read_text(), path
        if path.suffix == ".js":  # data in a script: it must not be able to close the element
            assert "</script" not in path.read_text(), path
    deploy = search_fragments(out)["ops/deploy.html"]
    smoke = next(e for e in deploy[4] if e[1].startswith("Smoke test"))
    assert smoke[1] == "Smoke test <script>alert(1)</script>"
    assert smoke[3].startswith("smoke-test-script-alert-1-")
    assert deploy[3][smoke[2]] == "Deploy the API › During"


def test_same_input_gives_identical_bytes(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli("build", "-C", small_site, "-o", tmp_path / "a").exit_code == 0
    assert run_cli("build", "-C", small_site, "-o", tmp_path / "b").exit_code == 0
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_source_date_epoch_is_the_only_date(small_site: Path, run_cli: RunCli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run_cli("build", "-C", small_site)
    assert " on 20" not in (small_site / "output/index.html").read_text()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    run_cli("build", "-C", small_site)
    assert "Built with launchbook 0.1.0 on 2026-01-01." in (small_site / "output/index.html").read_text()


def test_failed_build_leaves_previous_output_intact(small_site: Path, run_cli: RunCli) -> None:
    assert run_cli("build", "-C", small_site).exit_code == 0
    before = tree_digest(small_site / "output")
    bad = small_site / "content/ops/deploy.md"
    bad.write_text("---\ntitle: [broken\n---\n- [ ] x\n", encoding="utf-8")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "content/ops/deploy.md:2: invalid YAML front matter" in result.stderr
    assert tree_digest(small_site / "output") == before
    assert sorted(p.name for p in small_site.iterdir() if p.name != ".launchbook-cache") == ["content", "output"]


def test_missing_content_folder(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("build", "-C", tmp_path)
    assert result.exit_code == 1
    assert "content folder not found" in result.stderr
    assert not (tmp_path / "output").exists()


def test_duplicate_explicit_item_id_fails_the_build(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/a.md": "- [ ] one {#x}\n- [ ] two {#x}\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("a.md:2: duplicate item ID 'x' (first used on line 1)")


def test_duplicate_checklist_ids_fail(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/a/deploy.md": "---\nid: deploy\n---\n- [ ] x\n",
                             "content/b/deploy.md": "---\nid: deploy\n---\n- [ ] y\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert "checklist ID 'deploy' is already used by" in result.stderr


def test_links_to_folders_and_queries_are_checked_as_the_site_has_them(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    """A folder's page is made even without an index.md, and a link with a query reaches the
    page of its .md source: neither is a broken link; a folder without pages still is."""
    project = write_project({
        "content/ops/deploy.md": "# Deploy\n\n## Top\n\n- [ ] one [home](../) [up](./)\n",
        "content/my dir/p.md": "# P\n",
        "content/guide.md": "# Guide\n\n[d](ops/) [s](my%20dir/) [q](ops/deploy.md?tab=1#top) "
                            "[n](ops/deploy.md?tab=1#nowhere) [g](nothere/)\n",
    })
    result = run_cli("build", "-C", project, "--json")
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert sorted(warning.split(": ", 1)[1] for warning in warnings) == [
        "broken link: nothere/ (no such page or file)",
        "broken link: ops/deploy.md?tab=1#nowhere (no such anchor on that page)"]
    assert 'href="ops/deploy.html?tab=1#top"' in (project / "output/guide.html").read_text()
    lint = run_cli("lint", "-C", project, "--json")
    assert sorted(p["message"] for p in json.loads(lint.stdout)["problems"] if p["code"] == "LB301") == [
        "broken link: nothere/ (no such page or file)",
        "broken link: ops/deploy.md?tab=1#nowhere (no such anchor on that page)"]


def test_strict_turns_warnings_into_failure(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({
        "content/a.md": "---\nownr: typo\n---\n- [ ] x [see](missing.md)\n",
        "content/site.yml": "title: T\ncolour: blue\n",
    })
    relaxed = run_cli("build", "-C", project, "--json")
    assert relaxed.exit_code == 0
    warnings = json.loads(relaxed.stdout)["warnings"]
    assert any("unknown front matter key 'ownr'" in w for w in warnings)
    assert any("unknown setting 'colour'" in w for w in warnings)
    assert any("a.md:4: broken link: missing.md (no such page or file)" in w for w in warnings)
    (project / "output").rename(project / "previous")
    strict = run_cli("build", "-C", project, "--strict")
    assert strict.exit_code == 1
    assert "--strict: 3 warnings" in strict.stderr
    assert not (project / "output").exists()


def test_user_files_in_output_are_kept_or_moved_aside(small_site: Path, run_cli: RunCli) -> None:
    run_cli("build", "-C", small_site)
    out = small_site / "output"
    (out / "CNAME").write_text("runbooks.example.com\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0
    assert (out / "CNAME").read_text() == "runbooks.example.com\n"
    result = run_cli("build", "-C", small_site, "--clean")
    assert not (out / "CNAME").exists()
    assert (small_site / "output.kept/CNAME").read_text() == "runbooks.example.com\n"
    assert "kept your file:" in result.stderr


def test_existing_folder_not_made_by_launchbook_is_preserved(small_site: Path, run_cli: RunCli) -> None:
    out = small_site / "output"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "index.html").is_file()


def test_output_inside_content_is_refused(small_site: Path, run_cli: RunCli) -> None:
    result = run_cli("build", "-C", small_site, "-o", small_site / "content/site")
    assert result.exit_code == 1
    assert "overlaps the content folder" in result.stderr


def test_project_theme_overrides_blocks(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("title: Ops\ntheme: corporate\n")
    templates = small_site / "themes/corporate/templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text(
        '{% extends "base.html" %}{% block content %}<div class="corp">{{ page.title }}</div>{% endblock %}'
    )
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert '<div class="corp">Style guide</div>' in (small_site / "output/guides/style.html").read_text()
    assert "section-count" in (small_site / "output/ops/deploy.html").read_text()  # default template still used


def test_template_typo_fails_loudly(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("title: Ops\ntheme: broken\n")
    templates = small_site / "themes/broken/templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text('{% extends "base.html" %}{% block content %}{{ page.titel }}{% endblock %}')
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert "template page.html" in result.stderr and "titel" in result.stderr


def test_unknown_theme_is_a_config_error(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("theme: nope\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert "theme 'nope' not found" in result.stderr


def test_bad_site_yml_lists_every_problem(small_site: Path, run_cli: RunCli) -> None:
    (small_site / "content/site.yml").write_text("title: 3\nbase_url: ftp://x\nnav: yes\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    for fragment in ("site.yml:2: 'base_url' must start with", "site.yml:3: 'nav' must be a list",
                     "site.yml:1: 'title' must be text"):
        assert fragment in result.stderr


def test_build_json_summary(small_site: Path, run_cli: RunCli) -> None:
    result = run_cli("build", "-C", small_site, "--json")
    data = json.loads(result.stdout)
    assert (data["pages"], data["checklists"], data["items"], data["warnings"]) == (6, 1, 6, [])


def test_undecodable_bytes_fail_with_line(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/legacy.md": b"# Legacy\n\n- [ ] caf\xe9 open\n"})
    result = run_cli("build", "-C", project)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("legacy.md:3: not valid UTF-8: byte 0xE9 at column 10; save the file as UTF-8")


def test_no_op_build_is_skipped_and_edits_rebuild_exactly(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    first = json.loads(run_cli("build", "-C", small_site, "--json").stdout)
    assert first["skipped"] is False
    again = json.loads(run_cli("build", "-C", small_site, "--json").stdout)
    assert again["skipped"] is True and again["pages"] == first["pages"]
    page = small_site / "content/ops/deploy.md"
    page.write_text(page.read_text().replace("Freeze merges", "Freeze all merges"))
    edited = json.loads(run_cli("build", "-C", small_site, "--json").stdout)
    assert edited["skipped"] is False
    assert "Freeze all merges" in (small_site / "output/ops/deploy.html").read_text()
    # The cached, incremental build gives exactly what a from-scratch build gives.
    assert run_cli("build", "-C", small_site, "-o", tmp_path / "fresh", "--no-cache").exit_code == 0
    assert tree_digest(small_site / "output") == tree_digest(tmp_path / "fresh")


def test_a_users_lock_file_is_an_input_and_launchbooks_lock_files_are_not(write_project,  # type: ignore[no-untyped-def]
                                                                           run_cli: RunCli) -> None:
    """Only launchbook's own ``.<name>.lock`` files are left out of the fingerprint; a ``data.lock``
    the user publishes is an input like any other (its edit was once skipped as a no-op)."""
    project = write_project({"content/a.md": "# A\n\n- [ ] x\n", "content/data.lock": "one\n",
                             "content/site.yml": "include: ['.well-known/**']\n",
                             "content/.well-known/security.txt": "Contact: ops@example.com\n",
                             "content/.well-known/.security.txt.lock": ""})
    assert run_cli("build", "-C", project).exit_code == 0
    output = project / "output"
    assert (output / "data.lock").read_text() == "one\n" and (output / ".well-known/security.txt").is_file()
    assert not (output / ".well-known/.security.txt.lock").exists()  # launchbook's lock: never published
    (project / "content/.well-known/.security.txt.lock").write_text("held")
    assert json.loads(run_cli("build", "-C", project, "--json").stdout)["skipped"] is True
    (project / "content/data.lock").write_text("two\n")
    assert json.loads(run_cli("build", "-C", project, "--json").stdout)["skipped"] is False
    assert (output / "data.lock").read_text() == "two\n"


def test_editor_leftovers_in_a_theme_are_neither_published_nor_theme_changes(write_project,  # type: ignore[no-untyped-def]
                                                                              run_cli: RunCli) -> None:
    """An editor's swap file or backup in a theme was published as an asset (an unsaved draft on
    the site), and one changing beside an open template made every page render again."""
    project = write_project({"content/a.md": "# A\n\n- [ ] x\n", "content/b.md": "# B\n",
                             "themes/default/assets/site.css": "body {}\n",
                             "themes/default/assets/.site.css.swp": "unsaved draft\n",
                             "themes/default/assets/site.css~": "old\n",
                             "themes/default/assets/.DS_Store": "x",
                             "themes/default/assets/old.css.bak": "old\n"})
    assert run_cli("build", "-C", project).exit_code == 0
    assets = project / "output/assets"
    assert (assets / "site.css").read_text() == "body {}\n"
    assert not [p.name for p in assets.iterdir() if p.name in (".site.css.swp", "site.css~", ".DS_Store", "old.css.bak")]
    manifest = project / "output/.launchbook-manifest.json"
    keys = json.loads(manifest.read_text())["pages"]
    (project / "themes/default/assets/.site.css.swp").write_text("another unsaved draft\n")
    (project / "themes/default/templates").mkdir(parents=True, exist_ok=True)
    (project / "themes/default/templates/.page.html.swp").write_text("vim")
    result = json.loads(run_cli("build", "-C", project, "--json").stdout)
    assert result["skipped"] is False  # the tree changed: looked at, but no page's key is new
    assert json.loads(manifest.read_text())["pages"] == keys and {"a.html", "b.html"} <= set(keys)


@pytest.mark.parametrize("damage", ["page deleted", "deep file deleted", "page made a folder"])
def test_a_missing_output_file_forces_a_rebuild(small_site: Path, run_cli: RunCli, damage: str) -> None:
    run_cli("build", "-C", small_site)
    output = small_site / "output"
    target = output / "ops/deploy.html"
    if damage == "deep file deleted":
        target = sorted((output / "assets/search/doc").iterdir())[0]
    target.unlink()
    if damage == "page made a folder":
        target.mkdir()
    answer = run_cli("build", "-C", small_site, "--json")
    if damage == "page made a folder":  # not skipped as up to date: a folder there is the user's, the build says so
        assert answer.exit_code == 1 and "ops/deploy.html" in answer.stderr
        return
    assert json.loads(answer.stdout)["skipped"] is False
    assert target.is_file()


def test_strict_still_fails_when_nothing_changed(write_project, run_cli: RunCli) -> None:  # type: ignore[no-untyped-def]
    project = write_project({"content/a.md": "---\nownr: typo\n---\n- [ ] x\n"})
    assert run_cli("build", "-C", project).exit_code == 0
    strict = run_cli("build", "-C", project, "--strict")
    assert strict.exit_code == 1 and "unknown front matter key 'ownr'" in strict.stderr


def test_big_sites_parse_and_render_in_parallel_with_the_same_result(write_project, run_cli: RunCli,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    from generator.site import pages
    from generator.sources import cache

    files = {f"content/team-{n % 3}/c{n:03d}.md": f"# Check {n}\n\n## S\n\n- [ ] step {n}\n- [x] done {n}\n"
             for n in range(80)}
    project = write_project(files)
    assert run_cli("build", "-C", project, "-o", tmp_path / "parallel", "--no-cache").exit_code == 0
    saved = (cache.PARALLEL_FROM, pages.PARALLEL_PAGES_FROM)
    cache.PARALLEL_FROM, pages.PARALLEL_PAGES_FROM = 10**6, 10**6
    try:
        assert run_cli("build", "-C", project, "-o", tmp_path / "serial", "--no-cache").exit_code == 0
    finally:
        cache.PARALLEL_FROM, pages.PARALLEL_PAGES_FROM = saved
    assert tree_digest(tmp_path / "parallel") == tree_digest(tmp_path / "serial")


def test_links_out_of_the_content_folder_are_refused(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.md").write_text("# Secret\n\n- [ ] do not publish\n")
    content = small_site / "content"
    (content / "guides" / "alias.md").symlink_to(content / "guides" / "style.md")
    (content / "_drafts").mkdir()
    (content / "_drafts" / "wip.md").write_text("# WIP\n")
    for name, target in (("leak.md", secret / "secret.md"), ("leakdir", secret)):
        (content / name).symlink_to(target, target_is_directory=target.is_dir())
        result = run_cli("build", "-C", small_site)
        assert result.exit_code == 1 and f"Error: content/{name}: leads out of" in result.stderr, result.output
        assert not (small_site / "output").exists()
        (content / name).unlink()
    assert run_cli("build", "-C", small_site).exit_code == 0
    out = small_site / "output"
    assert not (out / "_drafts").exists()
    assert (out / "guides" / "alias.html").is_file()  # a link inside the folder is fine
    assert all("do not publish" not in path.read_text() for path in (out / "assets/search").rglob("*.js"))


def test_home_lists_folders_instead_of_thousands_of_cards(write_project, run_cli: RunCli,  # type: ignore[no-untyped-def]
                                                          monkeypatch) -> None:
    from generator.site import pages

    files = {f"content/team-{n % 3}/c{n:02d}.md": f"# Check {n}\n\n- [ ] step {n}\n" for n in range(12)}
    project = write_project(files)
    monkeypatch.setattr(pages, "HOME_CARDS_UP_TO", 10)
    assert run_cli("build", "-C", project).exit_code == 0
    home = (project / "output/index.html").read_text()
    assert "Checklists <span class=\"muted\">(12)</span>" in home
    assert home.count('class="card"') == 3 and '<a href="team-0/index.html">' in home and "4 checklists" in home
    assert "Check 5" not in home.split("<main", 1)[1].split("</main>", 1)[0]


def test_builds_in_one_process_see_theme_and_content_edits(small_site: Path, run_cli: RunCli,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` builds again and again in one process, keeping compiled templates, summaries,
    run digests and search entries in memory: every edit must still show, exactly as a fresh
    build writes it."""
    from generator.core import files

    monkeypatch.setattr(files, "_MEMORY", {})  # as serve does (keep_in_memory), for this test only
    (small_site / "content/site.yml").write_text("title: Ops\ntheme: corporate\n")
    templates = small_site / "themes/corporate/templates"
    templates.mkdir(parents=True)
    page = templates / "page.html"
    page.write_text('{% extends "base.html" %}{% block content %}<div class="v1">{{ page.title }}</div>{% endblock %}')
    assert run_cli("build", "-C", small_site).exit_code == 0
    style = small_site / "output/guides/style.html"
    assert '<div class="v1">' in style.read_text()
    page.write_text('{% extends "base.html" %}{% block content %}<div class="v2">{{ page.title }}</div>{% endblock %}')
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert '<div class="v2">' in style.read_text()  # not the template compiled for the first build
    source = small_site / "content/guides/style.md"
    source.write_text(source.read_text().replace("# Style guide", "# House style"))
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert '<div class="v2">House style</div>' in style.read_text()
    assert search_fragments(small_site / "output")["guides/style.html"][1] == "House style"
    folder_page = (small_site / "output/guides/index.html").read_text()  # generated: guides/ has no index.md
    assert ">House style</a>" in folder_page and ">Style guide</a>" not in folder_page  # its listing and nav
    assert ">House style</a>" in (small_site / "output/ops/deploy.html").read_text()  # every page's nav
    assert files._MEMORY  # the builds above did keep entries
    fresh = run_cli("build", "-C", small_site, "-o", small_site / "fresh", "--no-cache")
    assert fresh.exit_code == 0
    assert tree_digest(small_site / "output") == tree_digest(small_site / "fresh")


def test_a_build_removes_the_caches_other_versions_left_and_nothing_else(small_site: Path, run_cli: RunCli,
                                                                        tmp_path: Path) -> None:
    """Every launchbook version (any change to its code) re-keys every parse, and the old entries
    stayed forever: 12 GB of .launchbook-cache for a 10,000-page site after a few upgrades. Each
    version now has a folder; a successful build removes other versions' folders and the old
    layout, never a link's target and never a file it does not own."""
    top = small_site / ".launchbook-cache"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("not launchbook's")
    for old in ("v-0123456789abcdef/parsed/ab", "parsed/cd", "records/ef", "nav/01"):
        (top / old).mkdir(parents=True)
        (top / old / "entry").write_bytes(b"x" * 1000)
    (top / "file-hashes.json").write_text("{}")
    (top / "notes.txt").write_text("a user's file")
    (top / "v-fedcba9876543210").symlink_to(elsewhere, target_is_directory=True)
    assert run_cli("build", "-C", small_site).exit_code == 0
    current = cache_dir(small_site)
    assert sorted(p.name for p in top.iterdir()) == sorted([current.name, "notes.txt"])
    assert (current / "parsed").is_dir() and (current / "file-hashes.json").is_file()
    assert (elsewhere / "precious.txt").read_text() == "not launchbook's"
    first = tree_digest(small_site / "output")
    (small_site / "content/ops/deploy.md").write_text("# Deploy again\n\n- [ ] one\n")
    assert run_cli("build", "-C", small_site).exit_code == 0  # the current version's cache is kept and used
    assert sorted(p.name for p in top.iterdir()) == sorted([current.name, "notes.txt"])
    assert tree_digest(small_site / "output") != first


@pytest.mark.parametrize("link", [".launchbook-cache", "version"])
def test_a_cache_folder_that_is_a_link_is_refused(small_site: Path, run_cli: RunCli, tmp_path: Path,
                                                  link: str) -> None:
    """A cloned repository can carry a link named .launchbook-cache: building would write the
    cache (and sweep it) wherever it points."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("not launchbook's")
    top = small_site / ".launchbook-cache"
    path = top if link == ".launchbook-cache" else top / f"v-{code_digest()[:16]}"
    path.parent.mkdir(exist_ok=True)
    path.symlink_to(elsewhere, target_is_directory=True)
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert f"{path.relative_to(small_site).as_posix()}: is a link or a file, not launchbook's cache folder" \
        in result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in elsewhere.iterdir()] == ["precious.txt"]
    assert not (small_site / "output").exists()
    assert run_cli("build", "-C", small_site, "--no-cache").exit_code == 0  # no project cache: builds


def test_earlier_parses_are_pruned_once_they_pile_up(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """Every edit leaves the page's earlier parse in the cache (a day of `serve` edits, thousands);
    once the stale entries are many, a build removes them, and only them."""
    assert run_cli("build", "-C", small_site).exit_code == 0
    parsed = cache_dir(small_site) / "parsed"
    live = sorted(p for p in parsed.rglob("*") if p.is_file())
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not launchbook's")
    stale = []
    for shard in range(256):  # an earlier parse in every shard folder, twice: 512 stale keys
        for n in range(2):
            key = hashlib.sha256(f"old {shard} {n}".encode()).hexdigest()
            folder = parsed / f"{shard:02x}"
            folder.mkdir(exist_ok=True)
            for suffix in ("", ".sum", ".frag", ".words"):
                (folder / f"{key}{suffix}").write_bytes(b"an earlier parse")
                stale.append(folder / f"{key}{suffix}")
    mine = [parsed / "00" / "notes.txt", parsed / "00" / ("f" * 64 + ".txt.bak")]
    for path in mine:
        path.write_text("not a cache entry")
    link = parsed / "01" / ("e" * 64)
    link.symlink_to(elsewhere)
    (small_site / "content/ops/deploy.md").write_text("# Deploy, edited\n\n- [ ] one\n")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in mine) and elsewhere.read_text() == "not launchbook's"
    assert link.is_symlink()  # a link is not an entry launchbook made: left, and never followed

    def keys(paths: list[Path]) -> set[str]:
        return {p.name[:64] for p in paths if not p.is_symlink() and re.fullmatch(r"[0-9a-f]{64}(\.[a-z]+)?", p.name)}

    before, after = keys(live), keys([p for p in parsed.rglob("*") if p.is_file()])
    assert len(before - after) == 1 and len(after - before) == 1  # deploy.md's old parse went, its new one came
    assert tree_digest(small_site / "output") == _clean_digest(small_site, run_cli, tmp_path)


def test_earlier_navigations_are_pruned_once_they_pile_up(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """Each change to the site's tree caches every folder's navigation anew (a page added to a
    10,000-page site: one file per folder); once the earlier ones are many, a build removes
    them, and only them."""
    assert run_cli("build", "-C", small_site).exit_code == 0
    navs = cache_dir(small_site) / "nav"
    live = {p for p in navs.rglob("*.html") if p.is_file()}
    assert live
    stale = []
    for shard in range(256):
        for n in range(2):
            key = hashlib.sha256(f"an earlier tree {shard} {n}".encode()).hexdigest()
            (navs / f"{shard:02x}").mkdir(exist_ok=True)
            stale.append(navs / f"{shard:02x}" / f"{key}.html")
            stale[-1].write_bytes(b"an earlier navigation")
    mine = navs / "00" / "notes.txt"
    mine.write_text("not a cache entry")
    deploy = small_site / "content/ops/deploy.md"
    deploy.write_text(deploy.read_text() + "\n- [ ] one more step\n")  # the same tree: the same navigation
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert not any(path.exists() for path in stale) and mine.exists()
    assert {p for p in navs.rglob("*.html") if p.is_file()} == live  # the tree did not change: the same entries
    assert tree_digest(small_site / "output") == _clean_digest(small_site, run_cli, tmp_path)


def _clean_digest(project: Path, run_cli: RunCli, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "clean-output"
    assert run_cli("build", "-C", project, "-o", out, "--no-cache").exit_code == 0
    return tree_digest(out)


def test_an_output_folder_inside_the_cache_is_refused(small_site: Path, run_cli: RunCli) -> None:
    """The cache's clean-up deletes other versions' folders: a site built into one said "Built"
    and was gone a moment later."""
    for inside in (".launchbook-cache/v-0123456789abcdef", ".launchbook-cache", ".launchbook-cache/x/parsed"):
        result = run_cli("build", "-C", small_site, "-o", small_site / inside)
        assert result.exit_code == 1, inside
        assert "the project's .launchbook-cache/ folder; choose another -o" in result.stderr
        assert not (small_site / inside / "index.html").exists()


def test_an_unreadable_cache_folder_is_one_clear_error(small_site: Path, run_cli: RunCli,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads anything, so the refusal is simulated where the cache folder is looked at: a
    permission error there was a traceback."""
    import os

    from generator.sources import cachedir

    real_lstat = os.lstat

    def refusing(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith(".launchbook-cache"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(cachedir.os, "lstat", refusing)
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: .launchbook-cache: cannot read: Permission denied"


class _Planted:
    """A pickle that, when loaded, leaves a file behind: what a repository could commit as a cache entry."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.mark, "code ran"))


def test_a_cache_folder_brought_along_is_never_loaded(small_site: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """Loading a pickle runs code: a cache folder that a cloned repository (or a copy) carries, with
    a planted pickle and a link out of the project, is removed and made anew, never read."""
    import pickle
    import shutil

    assert run_cli("build", "-C", small_site).exit_code == 0
    made = cache_dir(small_site)
    kept_inode = made.stat().st_ino
    (small_site / "content/ops/deploy.md").write_text("# Deploy, edited\n\n- [ ] one\n")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert cache_dir(small_site).stat().st_ino == kept_inode  # one made here is kept and used

    clone = tmp_path / "clone"
    shutil.copytree(small_site, clone, symlinks=True)
    mark, elsewhere = tmp_path / "code-ran", tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = cache_dir(small_site).relative_to(small_site)  # the same name: the code version is the same
    for pack in (clone / planted).rglob("summaries.pickle"):
        pack.write_bytes(pickle.dumps({"k" * 64: _Planted(mark)}))
    (clone / planted / "parsed" / "ab").mkdir(exist_ok=True)
    shutil.rmtree(clone / planted / "parsed" / "ab")
    (clone / planted / "parsed" / "ab").symlink_to(elsewhere, target_is_directory=True)
    (clone / "content/ops/deploy.md").write_text("# Deploy, cloned\n\n- [ ] one\n")
    assert run_cli("build", "-C", clone).exit_code == 0
    assert not mark.exists()
    assert list(elsewhere.iterdir()) == []
    assert not (clone / planted / "parsed" / "ab").is_symlink()
    assert tree_digest(clone / "output") == _clean_digest(clone, run_cli, tmp_path)


def test_earlier_parses_of_run_records_are_pruned_too(started: tuple[Path, str], run_cli: RunCli) -> None:
    """Every item marked rewrites the run's record, and each version's parse stayed cached (a run
    of 140 items left 140); once they pile up, a build removes them and keeps the current ones."""
    from generator.runs.digest import cache_names
    from generator.site.runs import load_runs

    project, run_id = started
    assert run_cli("build", "-C", project).exit_code == 0
    records = cache_dir(project) / "records"
    before = {p.name for p in records.rglob("*") if p.is_file()}
    assert run_cli("run", "mark", run_id, "announce", "--status", "done", "-C", project).exit_code == 0
    stale = []
    for shard in range(256):
        for n in range(2):
            key = hashlib.sha256(f"old record {shard} {n}".encode()).hexdigest()
            path = records / f"{shard:02x}" / key
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"an earlier parse")
            stale.append(path)
    assert run_cli("build", "-C", project).exit_code == 0
    assert not any(path.exists() for path in stale)
    after = {p.name for p in records.rglob("*") if p.is_file()}
    current = {name for view in load_runs(project, lambda _: None, records) for name in cache_names(view.digest)}
    assert current and current <= after
    assert after - current == set() and before - after  # the record's earlier parse and digest went too
    assert len(after) == 3  # the one run as it is now: its parse, its digest, its checklist's snapshot


def test_cache_files_a_pull_plants_in_a_good_cache_folder_are_never_used(small_site: Path, run_cli: RunCli,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`git pull` overwrites ignored files silently, so a repository can plant entries in a cache
    folder that launchbook made itself: a pickle (code runs when it loads) and a search fragment
    (text that goes into the site as is) under predictable names. Every cache file carries an
    HMAC under a key kept outside the project: a planted one is not a cache entry."""
    import pickle

    from generator.core import cachekey

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))  # this user's key is made here
    monkeypatch.setattr(cachekey, "_key", None)
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert cachekey.key_path() == tmp_path / "user-cache/launchbook/cache-key"
    folder = cache_dir(small_site)
    mark = tmp_path / "code-ran"
    planted = pickle.dumps({"k" * 64: _Planted(mark)})
    frags = sorted(folder.glob("parsed/*/*.frag"))
    assert frags
    for pack, data in ((folder / "parsed/summaries.pickle", planted),
                       *((frag, b'window.X("<script>alert(1)</script>");') for frag in frags)):
        pack.write_bytes(data)  # no tag
    (folder / "search-postings").write_bytes(bytes(cachekey.TAG) + planted)  # a tag under another key
    (small_site / "content/ops/deploy.md").write_text("# Deploy, pulled\n\n- [ ] one\n")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert not mark.exists()
    assert not any(b"<script>alert(1)" in p.read_bytes() for p in (small_site / "output").rglob("*") if p.is_file())
    assert tree_digest(small_site / "output") == _clean_digest(small_site, run_cli, tmp_path)
    assert cachekey.key_path().stat().st_mode & 0o777 == 0o600


def test_a_cache_key_that_cannot_be_kept_is_said_once_as_a_note(small_site: Path, run_cli: RunCli, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no key file can be made, each process has its own key and the next build cannot use
    the cache: the build says so (a note: --strict still passes), and nothing else changes."""
    from generator.core import cachekey

    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))  # no folder can be made under a file
    monkeypatch.setattr(cachekey, "_key", None)
    result = run_cli("build", "-C", small_site, "--strict")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "cache key cannot be kept" in line]
    assert len(notes) == 1 and notes[0].startswith(f"note: {tmp_path / 'a-file'}/launchbook/cache-key:")
    assert "cache key" not in run_cli("build", "-C", small_site, "--no-cache", "-o", tmp_path / "o").output
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(cachekey, "_key", None)
    (small_site / "content/ops/deploy.md").write_text("# Deploy, edited\n\n- [ ] one\n")
    assert "cache key" not in run_cli("build", "-C", small_site).output


def test_a_cache_folder_marker_that_is_a_link_or_cannot_be_replaced(small_site: Path, run_cli: RunCli,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A marker a repository made a link to /dev/zero must not be read (it ate all memory); a
    folder that cannot be moved aside (a read-only project) is left and the build goes on."""
    import os

    from generator.sources import cachedir

    assert run_cli("build", "-C", small_site).exit_code == 0
    marker = cache_dir(small_site) / cachedir.MADE_HERE
    marker.unlink()
    marker.symlink_to("/dev/zero")
    cachedir._checked.clear()
    (small_site / "content/ops/deploy.md").write_text("# Deploy, again\n\n- [ ] one\n")
    assert run_cli("build", "-C", small_site).exit_code == 0
    assert not (cache_dir(small_site) / cachedir.MADE_HERE).is_symlink()
    folder = cache_dir(small_site)
    real_rename = os.rename

    def read_only(source: Any, target: Any) -> None:
        if str(source) == str(folder):
            raise PermissionError(13, "Permission denied")
        real_rename(source, target)

    (folder / cachedir.MADE_HERE).write_bytes(b"0:0")  # not ours any more, and it cannot be moved
    cachedir._checked.clear()
    monkeypatch.setattr(cachedir.os, "rename", read_only)
    (small_site / "content/ops/deploy.md").write_text("# Deploy, read-only\n\n- [ ] one\n")
    result = run_cli("build", "-C", small_site)
    assert result.exit_code == 0, result.output
    assert tree_digest(small_site / "output") == _clean_digest(small_site, run_cli, tmp_path)
