"""Site page rendering through the core Jinja environment (adds the ``rel`` filter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from generator.config import SiteConfig
from generator.core.templating import make_environment, render_template
from generator.site.urls import relative_url, root_prefix


def site_environment(themes: list[Path], fingerprint: str = "") -> jinja2.Environment:
    """The environment site pages are rendered with. Given the themes' ``fingerprint`` (a
    hash of every theme file), the environment and its compiled templates are kept for the
    next build in this process (``serve``) while the fingerprint stays the same."""
    if not fingerprint:
        return make_environment(themes, "templates", {"rel": _rel})
    key = (tuple(themes), fingerprint)
    if _KEPT.get("key") != key:
        _KEPT.update(key=key, env=make_environment(themes, "templates", {"rel": _rel}))
    env: jinja2.Environment = _KEPT["env"]
    return env


_KEPT: dict[str, Any] = {}


@jinja2.pass_context
def _rel(context: jinja2.runtime.Context, target: str) -> str:
    """Filter: a site-relative path as a URL relative to the page being rendered."""
    return relative_url(target, context["page_url"])


def render_page(env: jinja2.Environment, template: str, page_url: str, site: SiteConfig, **context: Any) -> str:
    """Render one output page; template errors name the template and line."""
    return render_template(env, template, site=site, page_url=page_url, root=root_prefix(page_url), **context)
