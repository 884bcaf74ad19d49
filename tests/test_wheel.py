"""Packaging: the default theme ships inside the wheel and is found from there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
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
