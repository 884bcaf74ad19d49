"""Golden output: the small sample site renders exactly as reviewed.

Regenerate after an intended change with:  pytest tests/test_golden.py --update-golden
and review the diff of tests/golden/ like code.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from click.testing import Result

GOLDEN = Path(__file__).parent / "golden" / "small-site"
THEME_ASSETS = Path(__file__).parents[1] / "themes" / "default" / "assets"
# Theme files copied verbatim (stylesheet, script, icons, fonts) are not golden material; everything
# rendered is.
SKIP = {"assets/" + p.relative_to(THEME_ASSETS).as_posix() for p in THEME_ASSETS.rglob("*") if p.is_file()} | {
    "assets/pygments.css",
    ".launchbook-manifest.json",  # holds a fingerprint of launchbook's own code
}


CONSTRAINTS = Path(__file__).parents[1] / "constraints" / "test.txt"
# The libraries whose versions shape the golden bytes (highlighting spans, Markdown, escaping).
SHAPING = ("Pygments", "markdown-it-py", "Jinja2", "MarkupSafe", "mdurl", "nh3")


def version_drift() -> str:
    """Where the installed libraries differ from constraints/test.txt (what scripts/test installs)."""
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", CONSTRAINTS.read_text(encoding="utf-8"), re.MULTILINE))
    drift = [f"{name} {metadata.version(name)} installed, {pinned[name]} pinned" for name in SHAPING
             if name in pinned and metadata.version(name) != pinned[name]]
    return ("; versions differ from constraints/test.txt (install with ./scripts/test): " + ", ".join(drift)
            if drift else "")


def rendered_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in SKIP
    }


def test_small_site_matches_golden(
    small_site: Path, run_cli: Callable[..., Result], update_golden: bool
) -> None:
    assert run_cli("build", "-C", small_site).exit_code == 0
    actual = rendered_files(small_site / "output")
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, text in actual.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text, encoding="utf-8")
    expected = rendered_files(GOLDEN)
    assert sorted(actual) == sorted(expected)
    for rel in expected:
        assert actual[rel] == expected[rel], (f"{rel} differs from tests/golden (run pytest --update-golden to review)"
                                              + version_drift())


def test_constraints_pin_the_libraries_that_shape_golden_output() -> None:
    pinned = set(re.findall(r"^([A-Za-z0-9_.-]+)==", CONSTRAINTS.read_text(encoding="utf-8"), re.MULTILINE))
    assert set(SHAPING) <= pinned
