"""Where the default theme lives (kept free of heavy imports)."""

from __future__ import annotations

from pathlib import Path

from generator.errors import BuildError


def default_theme_dir() -> Path:
    """The default theme: packaged inside the wheel, or ``themes/default`` in a checkout."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "_themes" / "default", here.parent / "themes" / "default"):
        if (candidate / "templates").is_dir():
            return candidate
    raise BuildError("the default theme is missing from this installation (themes/default)")
