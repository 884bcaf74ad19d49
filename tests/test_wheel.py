"""Packaging: the default theme ships inside the wheel and is found from there; the long
description PyPI shows (README.md) has only absolute image and link targets, each naming a file
this repository has."""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist and the wheel built from it, as ``python -m build`` makes them for an upload."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("launchbook-*.whl")
    return found


def test_wheel_contains_theme_and_entry_point(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("base.html", "checklist.html", "page.html", "home.html", "404.html", "sitemap.xml"):
        assert f"generator/_themes/default/templates/{rel}" in names
    assert "generator/_themes/default/assets/launchbook.js" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "launchbook = generator.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_builds_a_site(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True,
    )
    project = tmp_path / "project"
    (project / "content").mkdir(parents=True)
    (project / "content/deploy.md").write_text("# Deploy\n\n- [ ] ship it\n")
    code = (
        "import generator, sys; from pathlib import Path;"
        "from generator.core.templating import default_theme_dir;"
        "print(default_theme_dir());"
        "from generator.site.build import build_site; build_site(Path(sys.argv[1]))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", code, str(project)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(target / "generator" / "_themes" / "default")
    assert "ship it" in (project / "output/deploy.html").read_text()


HOME = "https://github.com/launchbook/launchbook"
RAW = "https://raw.githubusercontent.com/launchbook/launchbook/main/"
BLOB = f"{HOME}/blob/main/"


class _Targets(HTMLParser):
    """Every ``href`` and ``src`` of the HTML PyPI renders from the description."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(name, value or "") for name, value in attrs if name in ("href", "src")]


def _metadata(dist: Path) -> dict[str, email.message.Message]:
    (wheel,) = dist.glob("launchbook-*.whl")
    (sdist,) = dist.glob("launchbook-*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        wheel_text = archive.read(name).decode("utf-8")
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        handle = archive.extractfile(member)
        assert handle is not None
        sdist_text = handle.read().decode("utf-8")
    return {"wheel METADATA": email.parser.Parser().parsestr(wheel_text),
            "sdist PKG-INFO": email.parser.Parser().parsestr(sdist_text)}


def _readme_anchors() -> set[str]:
    from generator.sources.anchors import github_slug

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    outside_code = re.sub(r"^```.*?^```", "", readme, flags=re.MULTILINE | re.DOTALL)
    return {github_slug(h) for h in re.findall(r"^#{1,6} +(.+?) *$", outside_code, flags=re.MULTILINE)}


def test_pypi_description_has_only_absolute_targets_that_exist(dist: Path) -> None:
    cmarkgfm = pytest.importorskip("cmarkgfm")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = _readme_anchors()
    for where, message in _metadata(dist).items():
        assert message["Description-Content-Type"] == "text/markdown", where
        urls = dict(item.split(", ", 1) for item in message.get_all("Project-URL") or [])
        assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls), (where, urls)
        description = message.get_payload()
        assert isinstance(description, str)
        # Nothing but the targets changed: undo the prefixes and it is README.md again.
        undone = description.replace(RAW, "").replace(BLOB + "README.md#", "#").replace(BLOB, "")
        assert undone.strip() == readme.strip(), where
        # What PyPI shows: the description through cmark-gfm, as readme_renderer renders it.
        parser = _Targets()
        parser.feed(cmarkgfm.github_flavored_markdown_to_html(description, options=cmarkgfm.Options.CMARK_OPT_UNSAFE))
        assert sum(attr == "src" for attr, _ in parser.found) >= 5, parser.found  # the screenshots
        for attr, target in parser.found:
            parts = urlsplit(target)
            assert parts.scheme in ("https", "http", "mailto") and (parts.netloc or parts.scheme == "mailto"), (
                f"{where}: relative {attr} {target!r} breaks on PyPI")
            if target.startswith(RAW):
                assert (ROOT / unquote(parts.path.removeprefix("/launchbook/launchbook/main/"))).is_file(), target
            elif target.startswith(BLOB):
                rel = unquote(parts.path.removeprefix("/launchbook/launchbook/blob/main/"))
                assert (ROOT / rel).exists(), target
                if parts.fragment:
                    assert rel == "README.md" and parts.fragment in anchors, f"{target}: no such heading"
            else:
                assert attr == "href" and not target.startswith(HOME), f"{target}: not a file of the repository"
