"""Bilingual pages from `templates/web/`: Jinja2 with autoescape, the workspace's
templates first and the packaged ones after, as for the email templates.

Every page extends `base.html.j2`: English and Chinese side by side, readable on a
phone, no JavaScript, nothing fetched from anywhere else.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from newsletter.config import Config
from newsletter.core import links, templates


@functools.cache
def environment(workspace_templates: Path) -> jinja2.Environment:
    """One environment per templates folder (cached: templates compile once)."""
    return jinja2.Environment(
        loader=templates.loader(workspace_templates, "web"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(config: Config, name: str, **context: Any) -> str:
    """The page `name` (e.g. `unsubscribe.html.j2`) with the newsletter's names and
    its home and subscribe addresses (under `base_url`) in it."""
    template = environment(config.templates_path).get_template(name)
    base_url = config.newsletter.base_url
    shared = {"home": links.home(base_url), "subscribe": links.subscribe(base_url)}
    return template.render(newsletter=config.newsletter, **{**shared, **context})


def url(config: Config, path: str) -> str:
    """`path` under `base_url`, where every link in a message points (`core.links`)."""
    return links.under(config.newsletter.base_url, path)
