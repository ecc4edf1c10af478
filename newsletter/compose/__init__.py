"""Stage 3, compose: unsent papers in, an issue folder in `issues/` out.

`issue.py` picks the papers and records the issue; `render.py` turns them into
three editions (Jinja2 -> MJML -> mjml-python -> HTML -> premailer, and text),
with `paper_view.py` (what an edition shows of a paper), `inline.py` (premailer
set up for email), `mjml_check.py`, `markup.py` and `textlayout.py`;
`folder.py` writes and reads issue folders, the archive `send` mails from.
"""

from typing import TYPE_CHECKING

from newsletter.core.lazy import exports

if TYPE_CHECKING:
    from newsletter.compose.issue import ComposeResult, compose, fetch_ahead, today

__all__ = ["ComposeResult", "compose", "fetch_ahead", "today"]
__getattr__ = exports(__name__, dict.fromkeys(__all__, "issue"))
