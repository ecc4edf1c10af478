"""Stage 6, web: the pages every message links to, and the public archive.

`app.py` is the ASGI app (Starlette) that `newsletter serve` runs on uvicorn:
`unsubscribe.py` (one-click unsubscribe and preferences, by token), `signup.py`
(subscribe with double opt-in), `archive.py` (the index, issue pages and the Atom
feed, also written as static files by `newsletter archive build`). `pages.py`
renders the bilingual page templates in `templates/web/`.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.web.app import create_app

__all__ = ["create_app"]
__getattr__ = exports(__name__, {"create_app": "app"})
