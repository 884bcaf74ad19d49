"""Templates: the one Jinja environment, theme lookup, and page rendering.

Search path: the project's ``themes/<name>/templates`` (when the site uses its own
theme), then the default theme. Autoescape is on and undefined names fail the build.
Content is only ever passed *into* templates as data; it is never compiled as one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator import __version__
from generator.config import SiteConfig
from generator.errors import BuildError, ConfigError
from generator.site.nav import relative_url, root_prefix
from generator.site.themes import default_theme_dir


def theme_dirs(project_dir: Path, name: str) -> list[Path]:
    """Theme folders in lookup order: the project's chosen theme, then the default."""
    default = default_theme_dir()
    chosen = project_dir / "themes" / name
    if chosen.is_dir() and chosen.resolve() != default.resolve():
        return [chosen, default]
    if name != "default":
        raise ConfigError(f"theme {name!r} not found (looked for {chosen})")
    return [default]


def make_environment(themes: list[Path], folder: str = "templates") -> jinja2.Environment:
    """The only place a Jinja environment is created (``folder``: ``templates`` or ``report``)."""
    from generator.report.glyphs import printable

    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(theme / folder)) for theme in themes])
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rel"] = _rel
    env.filters["safe_html"] = Markup
    env.filters["printable"] = printable
    env.globals["version"] = __version__
    return env


@jinja2.pass_context
def _rel(context: jinja2.runtime.Context, target: str) -> str:
    """Filter: a site-relative path as a URL relative to the page being rendered."""
    return relative_url(target, context["page_url"])


def render_page(env: jinja2.Environment, template: str, page_url: str, site: SiteConfig, **context: Any) -> str:
    """Render one output page; template errors name the template and line."""
    try:
        return env.get_template(template).render(
            site=site, page_url=page_url, root=root_prefix(page_url), **context
        )
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template syntax error: {exc.message}", exc.filename or exc.name, exc.lineno) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(f"template {template}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"template not found: {exc.name}") from None


def theme_assets(themes: list[Path]) -> dict[str, Path]:
    """``assets/…`` files of all themes; the first theme that has a file wins."""
    found: dict[str, Path] = {}
    for theme in reversed(themes):
        folder = theme / "assets"
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found["assets/" + path.relative_to(folder).as_posix()] = path
    return dict(sorted(found.items()))
