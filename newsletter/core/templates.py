"""Where templates are found, for every renderer (editions, confirmation mail, web
pages): the workspace's own folder first (`newsletter.templates_dir`, so a user can
override any one file), then the templates that ship with the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

PACKAGED = Path(__file__).resolve().parent.parent / "templates"
"""Where the wheel puts them (`pyproject.toml` force-includes `templates/`)."""
CHECKOUT = Path(__file__).resolve().parent.parent.parent / "templates"
"""Where they are in a source checkout (an editable install)."""


def packaged() -> Path:
    """The templates shipped with the package: installed, else the checkout's."""
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


def search_path(workspace_templates: Path | None, sub: str = "") -> list[Path]:
    """The folders to look in, in order: the workspace's, then the packaged ones
    (each in its `sub` folder, e.g. `web`)."""
    folders = [workspace_templates, packaged()] if workspace_templates else [packaged()]
    return [folder / sub if sub else folder for folder in folders]


def loader(workspace_templates: Path | None, sub: str = "") -> jinja2.FileSystemLoader:
    """A Jinja2 loader over `search_path` (Jinja2 is imported only when asked)."""
    import jinja2

    return jinja2.FileSystemLoader([str(path) for path in search_path(workspace_templates, sub)])
