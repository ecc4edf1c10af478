"""The rendering pipeline: papers → Jinja2 → MJML → mjml-python → HTML → premailer.

Read top to bottom, this is what `compose` does to each edition of an issue:

1. `Renderer.mjml` renders `issue.mjml.j2` with Jinja2 (autoescape on, undefined
   names are errors) and checks the MJML, since mjml-python lets typos through;
2. `compile_mjml` compiles it with mjml-python (no web fonts, nothing remote);
3. `inline_css` inlines the CSS with premailer (`inline.py`), keeping `!important`
   (MJML's phone layout needs it), the media queries and MRML's doctype;
4. `Renderer.text` renders `issue.txt.j2`, the plain-text alternative, from the
   same data (never scraped from the HTML).

Each paper reaches the templates as a `PaperView` (`paper_view.py`: the digest's
fields and what arXiv's metadata adds). An edition whose HTML would pass Gmail's
clip has its longest texts cut and its HTML rendered again (`Renderer.edition`,
`fit.py`); its first, whole rendering is kept for the web copy.

Each edition is rendered once per issue. What is personal (the unsubscribe link)
is left as a placeholder that survives all of this unchanged, so that `send` fills
it in by plain substitution, without rendering anything per recipient.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2

from newsletter.compose import markup, textlayout
from newsletter.compose.fit import Caps, mailed_bytes, next_caps
from newsletter.compose.headlines import preheader, subject
from newsletter.compose.inline import inline_css
from newsletter.compose.mjml_check import check_mjml
from newsletter.compose.paper_view import (
    BILINGUAL_ABSTRACT,
    PaperView,
    chinese_shown,
    english_shown,
    paper_views,
)
from newsletter.config import NewsletterSettings
from newsletter.core import links, templates
from newsletter.core import text as texts
from newsletter.core.errors import TemplateError
from newsletter.core.model import (
    EDITION_LIMIT,
    EDITIONS,
    HTML_LANG,
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    Edition,
    Paper,
)

PLACEHOLDERS = {
    "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    "preferences_url": PREFERENCES_PLACEHOLDER,
}
"""Personal parts of a message, as they stand in the rendered HTML and text."""

FIT_ROUNDS = 6
"""Renderings an edition may take to fit under the clip after its first."""

MJML_TEMPLATE = "issue.mjml.j2"
TEXT_TEMPLATE = "issue.txt.j2"

T = TypeVar("T")


@dataclass(frozen=True)
class IssueInfo:
    """What the templates know about the issue itself."""

    number: int
    date: dt.date
    folder: str
    papers: Sequence[Paper]


@dataclass
class Timings:
    """Seconds spent in each stage, for the benchmark."""

    stages: dict[str, list[float]] = field(default_factory=dict)

    def measure(self, stage: str, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        result = work()
        self.stages.setdefault(stage, []).append(time.perf_counter() - start)
        return result


class Renderer:
    """Renders issues with the workspace's templates, the packaged ones filling gaps."""

    def __init__(
        self,
        settings: NewsletterSettings,
        templates_dir: Path | None = None,
        timings: Timings | None = None,
    ) -> None:
        self.settings = settings
        self.timings = timings or Timings()
        self.env = jinja2.Environment(
            loader=templates.loader(templates_dir),
            autoescape=jinja2.select_autoescape(["mjml.j2", "html.j2"], default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=False,
        )
        self.env.filters.update(
            md=markup.to_html,
            md_text=markup.to_text,
            paragraphs=markup.paragraphs,
            wrap=self._wrap,
        )
        self._wrapped: dict[tuple[str, int, str, str | None], str] | None = None

    def render(self, info: IssueInfo) -> dict[str, Edition]:
        """Every edition of an issue."""
        self._wrapped = {}
        try:
            return {name: self.edition(info, name) for name in EDITIONS}
        finally:
            self._wrapped = None

    def _wrap(
        self, text: str, width: int = 72, indent: str = "", subsequent: str | None = None
    ) -> str:
        """The `wrap` filter, each text wrapped once an issue: the zh and bilingual text
        editions wrap the same Chinese summaries and titles, the most costly work of a
        text edition."""
        if self._wrapped is None:  # one edition alone: nothing to share
            return textlayout.wrap(text, width, indent, subsequent)
        key = (text, width, indent, subsequent)
        if key not in self._wrapped:
            self._wrapped[key] = textlayout.wrap(text, width, indent, subsequent)
        return self._wrapped[key]

    def edition(self, info: IssueInfo, name: str) -> Edition:
        """One edition, refused if it lost its unsubscribe link on the way, its longest
        texts cut at a sentence when its HTML would be too large for Gmail (the text
        edition says the same, cut the same; the web copy is the whole first rendering)."""
        limit = BILINGUAL_ABSTRACT if name == "bilingual" else None
        caps = Caps()
        views = paper_views(info.papers, caps, limit)
        context = self.context(info, name, views)
        source, html = self._html(context)
        whole = html
        for _ in range(FIT_ROUNDS):  # the first estimate is nearly always enough
            excess = mailed_bytes(html, self.settings.base_url) - EDITION_LIMIT
            if excess <= 0:
                break
            english = [english_shown(view, name) for view in views]
            chinese = [chinese_shown(view, name) for view in views]
            smaller = next_caps(caps, english, chinese, excess)
            if smaller == caps:
                break  # nothing left to cut: compose warns that it is too large
            caps = smaller
            views = paper_views(info.papers, caps, limit)
            context = self.context(info, name, views)
            source, html = self._html(context)
        text = self.timings.measure("text", lambda: self.text(context))
        _check_unsubscribe(name, html, text)
        issue = context["issue"]
        return Edition(
            name,
            issue["subject"],
            issue["preheader"],
            source,
            html,
            text,
            english_cut=sum(view.english_fitted for view in views),
            chinese_cut=sum(view.summary_zh_cut for view in views),
            web_html=whole if html is not whole else "",
        )

    def _html(self, context: dict[str, Any]) -> tuple[str, str]:
        """The edition's MJML and its inlined HTML."""
        source = self.timings.measure("jinja", lambda: self.mjml(context))
        html = self.timings.measure("mjml", lambda: compile_mjml(source))
        return source, self.timings.measure("inline", lambda: inline_css(html, MJML_TEMPLATE))

    def context(
        self, info: IssueInfo, name: str, views: list[PaperView] | None = None
    ) -> dict[str, Any]:
        """The variables the templates see (documented in `issue.mjml.j2`)."""
        settings = self.settings
        views = paper_views(info.papers) if views is None else views
        return {
            "edition": name,
            "lang": HTML_LANG[name],
            "newsletter": {
                "title_en": settings.title_en,
                "title_zh": settings.title_zh,
                "base_url": settings.base_url,
                "postal_address": _address_lines(settings.postal_address),
            },
            "issue": {
                "number": info.number,
                "date": info.date.isoformat(),
                "count": len(info.papers),
                "subject": subject(settings, name, info),
                "preheader": preheader(name, info.papers),
                "web_url": links.issue_page(settings.base_url, info.folder, name),
                "without_english": sum(1 for v in views if not v.summary_en and not v.abstract),
            },
            "papers": views,
            **PLACEHOLDERS,
        }

    def mjml(self, context: dict[str, Any]) -> str:
        """Jinja → MJML, checked: a typo in a template stops here, not in an inbox."""
        source = self._render_template(MJML_TEMPLATE, context)
        problems = check_mjml(source)
        if problems:
            problem = problems[0]
            raise TemplateError(
                f"{self._locate(source, problem.line)}: {problem.message} "
                f"(rendered MJML line {problem.line})"
            )
        return source

    def text(self, context: dict[str, Any]) -> str:
        text = self._render_template(TEXT_TEMPLATE, context)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"

    def _render_template(self, name: str, context: dict[str, Any]) -> str:
        try:
            # Papers stored before the parser dropped control characters may still
            # carry them, and one would stop MJML: no digest can make compose fail.
            return texts.drop_invalid(self.env.get_template(name).render(context))
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                f"{error.filename or error.name}:{error.lineno}: {error.message}"
            ) from None
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"template {error.name} not found in {self._folders()}") from None
        except jinja2.TemplateError as error:  # undefined names and the like
            raise TemplateError(f"{_template_frame(error) or name}: {error.message}") from None

    def _folders(self) -> str:
        loader = self.env.loader
        assert isinstance(loader, jinja2.FileSystemLoader)
        return " or ".join(str(path) for path in loader.searchpath)

    def _locate(self, source: str, line: int) -> str:
        """Which template line wrote line `line` of the MJML: found by its text."""
        wanted = source.splitlines()[line - 1].strip() if line else ""
        assert isinstance(self.env.loader, jinja2.FileSystemLoader)
        for name in self.env.list_templates(filter_func=lambda name: name.endswith(".mjml.j2")):
            text, filename, _ = self.env.loader.get_source(self.env, name)
            for number, template_line in enumerate(text.splitlines(), start=1):
                if wanted and template_line.strip() == wanted:
                    return f"{filename}:{number}"
        return f"{MJML_TEMPLATE} (rendered)"


def _address_lines(address: str) -> list[str]:
    """The postal address as the footers show it: one line per line, blanks left out."""
    return [line.strip() for line in address.splitlines() if line.strip()]


def _check_unsubscribe(edition: str, html: str, text: str) -> None:
    """Every message must carry its unsubscribe link: an edition without the
    placeholder (a template that dropped `unsubscribe_url`, HTML cut short) is an error."""
    # In the HTML it must be a link's target: a summary could hold the bare text.
    for part, found in (
        ("HTML", f'href="{UNSUBSCRIBE_PLACEHOLDER}"' in html),
        ("text", UNSUBSCRIBE_PLACEHOLDER in text),
    ):
        if not found:
            raise TemplateError(
                f"the {edition} edition's {part} has no unsubscribe link "
                f"({UNSUBSCRIBE_PLACEHOLDER}, from {{{{ unsubscribe_url }}}} in the templates); "
                "no issue is written"
            )


def compile_mjml(source: str) -> str:
    """MJML → HTML with mjml-python, with no web-font links (nothing remote)."""
    from mjml import mjml2html

    try:
        return mjml2html(source, fonts={}, disable_comments=True)
    except ValueError as error:
        raise TemplateError(f"{MJML_TEMPLATE}: the MJML does not compile: {error}") from None


def _template_frame(error: Exception) -> str | None:
    """`template:line` of the innermost template frame in a Jinja error's traceback."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return found
