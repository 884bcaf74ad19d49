"""Templating: the one Jinja environment and the theme lookup.

Search path: the project's ``themes/<name>/`` (when the site uses its own theme), then
the default theme. Autoescape is on and undefined names fail the build. Content is only
ever passed *into* templates as data; it is never compiled as one.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator import __version__
from generator.core.errors import BuildError, ConfigError
from generator.core.files import inside_folder, regular_file
from generator.core.selection import is_leftover
from generator.core.wording import entry_number


def default_theme_dir() -> Path:
    """The default theme: packaged inside the wheel, or ``themes/default`` in a checkout."""
    here = Path(__file__).resolve().parents[1]
    for candidate in (here / "_themes" / "default", here.parent / "themes" / "default"):
        if (candidate / "templates").is_dir():
            return candidate
    raise BuildError("the default theme is missing from this installation (themes/default)")


def theme_dirs(project_dir: Path, name: str) -> list[Path]:
    """Theme folders in lookup order: the project's chosen theme, then the default."""
    default = default_theme_dir()
    chosen = project_dir / "themes" / name
    if chosen.is_dir() and chosen.resolve() != default.resolve():
        inside_folder(chosen, project_dir / "themes", shown=f"themes/{name}")
        return [chosen, default]
    if name != "default":
        raise ConfigError(f"theme {name!r} not found (looked for {chosen})")
    return [default]


class _ThemeLoader(jinja2.FileSystemLoader):
    """Templates of one theme folder; a template that is a link, or leads out of the theme
    folder, is refused (it would render a file from elsewhere into every page)."""

    def __init__(self, theme: Path, folder: str) -> None:
        super().__init__(str(theme / folder))
        self.theme = theme

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        regular_file(Path(filename), self.theme, shown=filename)
        return source, filename, uptodate


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _finalize(value: Any) -> Any:
    """Every value a template prints: C0 control characters (invalid in HTML and XML) become U+FFFD."""
    if isinstance(value, str) and _CONTROL.search(value):
        cleaned = _CONTROL.sub("\ufffd", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


class _ThemeEnvironment(jinja2.Environment):
    """An environment that pickles as the recipe it was made from: a Dask worker rebuilds it
    from the theme folders (compiled templates and loaders do not pickle)."""

    recipe: tuple[list[Path], str, dict[str, Callable[..., Any]]]

    def __reduce__(self) -> tuple[Any, ...]:
        return make_environment, self.recipe


def _entry_number(leaf_index: Any) -> int | str:
    """A ledger entry as people count it, from 1; a damaged record's value is shown as it is."""
    if isinstance(leaf_index, int) and not isinstance(leaf_index, bool) and leaf_index >= 0:
        return entry_number(leaf_index)
    return str(leaf_index)


def make_environment(themes: list[Path], folder: str = "templates",
                     filters: Mapping[str, Callable[..., Any]] | None = None) -> jinja2.Environment:
    """The only place a Jinja environment is created (``folder``: ``templates`` or ``report``)."""
    loader = jinja2.ChoiceLoader([_ThemeLoader(theme, folder) for theme in themes])
    env = _ThemeEnvironment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["safe_html"] = Markup
    env.filters["entry_number"] = _entry_number
    env.filters.update(filters or {})
    env.globals["version"] = __version__
    env.recipe = (list(themes), folder, dict(filters or {}))
    return env


def render_template(env: jinja2.Environment, template: str, **context: Any) -> str:
    """Render one template; template errors name the template and line."""
    try:
        return env.get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template syntax error: {exc.message}", exc.filename or exc.name, exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(f"template {template}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"template not found: {exc.name}") from None
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        # A theme's template failed while running (``{{ 1 // 0 }}``): name its file and line.
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.endswith(".py")]
        where = (frames[-1].filename, frames[-1].lineno) if frames else (None, None)
        raise BuildError(f"template {template} failed: {type(exc).__name__}: {exc}", *where) from None


def theme_assets(themes: list[Path]) -> dict[str, Path]:
    """``assets/…`` files of all themes; the first theme that has a file wins. Hidden names and
    leftovers (backups, editor swap files, lock files) are not assets."""
    found: dict[str, Path] = {}
    for theme in reversed(themes):
        folder = theme / "assets"
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            parts = path.relative_to(folder).parts
            if any(part.startswith(".") or is_leftover(part) for part in parts):
                continue  # .DS_Store, an editor's .site.css.swp or site.css~: never published
            if path.is_file() or path.is_symlink():
                found["assets/" + "/".join(parts)] = regular_file(path, theme)
    return dict(sorted(found.items()))
