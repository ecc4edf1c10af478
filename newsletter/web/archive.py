"""The public archive: the index of issues, each issue's pages, and the Atom feed.

What a reader sees at `base_url`:

- `/` (and `/index.html`): every public issue, newest first, with its papers' titles;
- `/issues/{folder}/{edition}.html`: an edition as it was mailed, the target of every
  message's "View in browser" link (`core.links.issue_page`), and
  `/issues/{folder}/` (and `…/index.html`): the issue's three editions;
- `/feed.xml`: the Atom feed (`feed.py`).

An issue is public once its send has started (`store.archive.PUBLIC`); any other path
is the neutral 404. A folder name from a URL is only ever a key looked up among the
public issues' folders, never a path on disk.

The pages are the same bytes whether `newsletter serve` answers or `newsletter archive
build` wrote them (`static.py`): both call `pages_of`. The server keeps what it
rendered (`Archive`) until the database says something changed (SQLite's
`data_version`, one cheap query per request) and the issues it lists are different,
or an edition's files on disk change.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from newsletter.compose.folder import ISSUE_JSON, read_folder
from newsletter.compose.latex import shown
from newsletter.config import Config
from newsletter.core import links
from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from newsletter.store import archive as store
from newsletter.web import feed
from newsletter.web.pages import render_page

HTML = "text/html; charset=utf-8"
log = logging.getLogger("newsletter.web.archive")


@dataclass(frozen=True)
class Page:
    """A rendered page: its bytes, their media type and an entity tag for revalidation."""

    body: bytes
    media_type: str
    etag: str


def page(body: str | bytes, media_type: str = HTML) -> Page:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Page(data, media_type, f'"{hashlib.blake2b(data, digest_size=12).hexdigest()}"')


# What the pages are made of


def index_page(config: Config, issues: Sequence[store.ArchivedIssue]) -> Page:
    """The archive's front page: every public issue, newest first."""
    listed = [_view(config, issue) for issue in issues]
    feed_url = links.feed(config.newsletter.base_url)
    return page(render_page(config, "index.html.j2", issues=listed, feed=feed_url))


def folder_page(config: Config, issue: store.ArchivedIssue) -> Page:
    """`/issues/{folder}/`: the issue's editions and its papers."""
    return page(render_page(config, "issue.html.j2", issue=_view(config, issue)))


def edition_page(config: Config, issue: store.ArchivedIssue, edition: str) -> Page:
    """An edition as mailed, made public: no recipient's link in it, and a line on top
    that leads to the archive and the subscribe page; texts cut to fit Gmail's clip
    are whole here (the mail's "read the rest" leads to them)."""
    composed = read_folder(config.issues_path, issue.as_issue()).editions[edition]
    return page(public_edition(config, composed.web_html or composed.html, edition))


def feed_page(config: Config, issues: Sequence[store.ArchivedIssue]) -> Page:
    return page(feed.atom(config, issues), feed.MEDIA_TYPE)


def pages_of(config: Config, issues: Sequence[store.ArchivedIssue]) -> Iterator[tuple[str, Page]]:
    """Every page of the archive by its path under `base_url`: each issue's pages
    first, the feed and the index last (so that nothing links a page not yet there)."""
    for issue in issues:
        for edition in EDITIONS:
            yield links.issue_path(issue.folder, edition), edition_page(config, issue, edition)
        yield links.issue_path(issue.folder, "index"), folder_page(config, issue)
    yield links.FEED, feed_page(config, issues)
    yield links.HOME_PAGE, index_page(config, issues)


WEB_STYLE = """
  .web-nav { max-width: 600px; margin: 0 auto; padding: 10px 16px; text-align: center;
    font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Arial, sans-serif;
    font-size: 14px; line-height: 1.6; color: #4b5563; }
  .web-nav a { color: #1d4ed8; }
  @media (prefers-color-scheme: dark) {
    body { background-color: #0b0f17 !important; }
    .web-nav { color: #9ca3af; }
    .web-nav a { color: #93c5fd; }
  }
"""
"""The web copy's own rules: its navigation bar, and the page around the edition in the
edition's dark colours (the body's light background is an inline style)."""


def public_edition(config: Config, composed: str, edition: str = "bilingual") -> str:
    """A composed edition's HTML, fit for anyone to read on the web: nobody's link in it,
    a navigation bar on top, no "View in browser" link to itself, and a footer that
    invites the reader to subscribe instead of saying they did.

    The parts a web copy changes are found by the classes the templates give them
    (`view-online`, `footer-reason`, `footer-links`); an edition composed before they
    had them keeps its header and footer, with nobody's link in it."""
    import lxml.html  # type: ignore[import-untyped]
    from lxml import etree

    base_url = config.newsletter.base_url
    help_page = html.escape(links.unsubscribe_help(base_url))  # nobody's own link
    public = composed.replace(UNSUBSCRIBE_PLACEHOLDER, help_page)
    public = public.replace(PREFERENCES_PLACEHOLDER, help_page)
    document = lxml.html.document_fromstring(public, lxml.html.HTMLParser(huge_tree=True))
    for element in document.find_class("view-online"):
        element.drop_tree()
    web = _WebFooter(config, edition)
    for element in document.find_class("footer-reason"):
        web.fill(element, web.reason(element.get("lang", "en")))
    for element in document.find_class("footer-links"):
        web.fill(element, web.links())
    head, body = document.find("head"), document.find("body")
    head.append(lxml.html.fragment_fromstring(f"<style>{WEB_STYLE}</style>"))
    main = lxml.html.Element("main")  # a web page has landmarks: the email is its main part
    main.text, body.text = body.text, None
    main.extend(list(body))
    body.extend([lxml.html.fragment_fromstring(web.nav()), main])
    # written as compose writes it (inline.py): lxml.html.tostring, or "unicode", would
    # drop the page's <meta> charset, which a static host may be the only one to give
    written: bytes = etree.tostring(document, method="html", encoding="utf-8")
    return "<!doctype html>\n" + written.decode("utf-8")


class _WebFooter:
    """What the web copy says where the edition addresses its subscriber, in the
    edition's languages."""

    def __init__(self, config: Config, edition: str) -> None:
        base_url = config.newsletter.base_url
        self.title_en = html.escape(config.newsletter.title_en)
        self.title_zh = html.escape(config.newsletter.title_zh)
        self.edition = edition
        self.home = html.escape(links.home(base_url))
        self.subscribe = html.escape(links.subscribe(base_url))
        self.help = html.escape(links.unsubscribe_help(base_url))

    def say(self, en: str, zh: str) -> str:
        """Like the templates' `say`: the edition's language, or both."""
        english, chinese = f'<span lang="en">{en}</span>', f'<span lang="zh-CN">{zh}</span>'
        if self.edition == "en":
            return english
        return chinese if self.edition == "zh" else f"{english} / {chinese}"

    def reason(self, lang: str) -> str:
        if lang.startswith("zh"):
            return (
                f"这是《{self.title_zh}》的网页版。"
                f'<a href="{self.subscribe}">订阅</a>后，每周一期发到您的邮箱。'
            )
        return (
            f"You are reading the web copy of {self.title_en}. "
            f'<a href="{self.subscribe}">Subscribe</a> to get every issue by email.'
        )

    def links(self) -> str:
        return " · ".join(
            [
                f'<a href="{self.subscribe}">{self.say("Subscribe", "订阅")}</a>',
                f'<a href="{self.home}">{self.say("Archive", "往期")}</a>',
                f'<a href="{self.help}">{self.say("How to unsubscribe", "如何退订")}</a>',
            ]
        )

    def nav(self) -> str:
        return (
            '<nav class="web-nav" aria-label="Archive · 往期">'
            f'<a href="{self.home}">Archive · 往期</a> · '
            f'<a href="{self.subscribe}">Subscribe · 订阅</a></nav>'
        )

    @staticmethod
    def fill(element: Any, markup: str) -> None:
        """`element`'s content replaced by `markup` (its attributes and tail kept)."""
        import lxml.html

        tail = element.tail
        filled = lxml.html.fragment_fromstring(markup, create_parent="p")
        element.text = filled.text
        for child in list(element):
            element.remove(child)
        element.extend(list(filled))
        element.tail = tail


def is_plain_name(folder: str) -> bool:
    """A folder name from the store that is one plain path segment (as compose makes them)."""
    return bool(folder) and folder not in (".", "..") and os.path.basename(folder) == folder


def _view(config: Config, issue: store.ArchivedIssue) -> dict[str, Any]:
    base_url = config.newsletter.base_url
    pages = {name: links.issue_page(base_url, issue.folder, name) for name in EDITIONS}
    return {
        "number": issue.number,
        "date": issue.date,
        "subject": issue.subject,
        "papers": [_titled(paper) for paper in issue.papers],
        "pages": pages,
    }


def _titled(paper: store.ArchivedPaper) -> dict[str, str]:
    """A paper's link and titles, shown as the issue shows them (LaTeX converted)."""
    return {"url": paper.url, "title_en": shown(paper.title_en), "title_zh": shown(paper.title_zh)}


# The server's copy


Signature = tuple[tuple[int, int], ...]


class Archive:
    """The archive as the server shows it: rendered once, kept until something changes.

    Every request asks the database whether anyone wrote to it (`data_version`); only
    then are the public issues read again, and only if they differ is anything
    rendered again. An edition page is also checked against its files' size and time.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._issues_path = config.issues_path  # resolved once: it is a few system calls
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._version: int | None = None
        self._issues: tuple[store.ArchivedIssue, ...] = ()
        self._by_folder: dict[str, store.ArchivedIssue] = {}
        self._pages: dict[str, Page] = {}
        self._editions: dict[tuple[str, str], tuple[Signature, Page]] = {}

    def index(self) -> Page:
        return self._cached(links.HOME, lambda: index_page(self.config, self._issues))

    def feed(self) -> Page:
        return self._cached(links.FEED, lambda: feed_page(self.config, self._issues))

    def folder(self, folder: str) -> Page | None:
        with self._lock:
            self._refresh()
            issue = self._by_folder.get(folder)
            if issue is None:
                return None
            key = links.folder_path(folder)
            if key not in self._pages:
                self._pages[key] = folder_page(self.config, issue)
            return self._pages[key]

    def edition(self, folder: str, edition: str) -> Page | None:
        """An edition's page; None if the issue is not public or its files are unreadable."""
        with self._lock:
            self._refresh()
            issue = self._by_folder.get(folder)
            if issue is None or edition not in EDITIONS:
                return None
            signature = self._signature(folder, edition)
            cached = self._editions.get((folder, edition))
            if cached is None or cached[0] != signature:
                try:
                    cached = signature, edition_page(self.config, issue, edition)
                except NewsletterError as error:
                    log.error("the archive cannot show %s: %s", f"{folder}/{edition}", error)
                    return None
                self._editions[folder, edition] = cached
            return cached[1]

    def close(self) -> None:
        """Close the database connection (the lifespan's end)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _cached(self, key: str, render: Callable[[], Page]) -> Page:
        with self._lock:
            self._refresh()
            if key not in self._pages:
                self._pages[key] = render()
            return self._pages[key]

    def _refresh(self) -> None:
        """Read the public issues again if the database changed since the last look."""
        if self._db is None:
            self._db = store.connect(self.config.database_path)
            if self._db is None:  # no database yet: nothing is public
                return
        version = store.data_version(self._db)
        if version == self._version:
            return
        issues = tuple(store.public_issues(self._db))
        self._version = version
        if issues != self._issues:
            self._issues = issues
            self._by_folder = {i.folder: i for i in issues if is_plain_name(i.folder)}
            self._pages.clear()
            self._editions.clear()

    def _signature(self, folder: str, edition: str) -> Signature:
        """The size and time of the files an edition page is made from."""
        signature = []
        for name in (ISSUE_JSON, f"{edition}.html", f"{edition}.web.html"):
            try:
                found = os.stat(self._issues_path / folder / name)
                signature.append((found.st_size, found.st_mtime_ns))
            except OSError:
                signature.append((-1, -1))
        return tuple(signature)


# The routes


def routes() -> list[BaseRoute]:
    """The archive's routes, for `app.py`; each worker's `Archive` is made by its lifespan."""

    async def index(request: Request) -> Response:
        return _answer(request, _archive(request).index())

    async def atom(request: Request) -> Response:
        return _answer(request, _archive(request).feed())

    async def issue_folder(request: Request) -> Response:
        return _answer(request, _archive(request).folder(request.path_params["folder"]))

    async def issue_page(request: Request) -> Response:
        folder, edition = request.path_params["folder"], request.path_params["edition"]
        if edition == "index":
            return _answer(request, _archive(request).folder(folder))
        return _answer(request, _archive(request).edition(folder, edition))

    return [
        Route(links.HOME, index, methods=["GET"]),
        Route(links.HOME_PAGE, index, methods=["GET"]),
        Route(links.FEED, atom, methods=["GET"]),
        Route(links.ISSUE_FOLDER, issue_folder, methods=["GET"]),
        Route(links.ISSUE_PAGE, issue_page, methods=["GET"]),
    ]


def _archive(request: Request) -> Archive:
    return cast(Archive, request.app.state.archive)


def _answer(request: Request, found: Page | None) -> Response:
    """The page, or 304 when the reader has it already; the neutral 404 if there is none."""
    if found is None:
        raise HTTPException(404)
    headers = {"etag": found.etag, "cache-control": "no-cache"}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
