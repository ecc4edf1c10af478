"""The Atom feed (RFC 4287) of the archive: the newest public issues, one entry each.

Each entry links the issue's bilingual page and lists its papers (English and
Chinese titles, each linking arXiv, their LaTeX converted as in the issue). Ids
are the pages' addresses, so they stay the same from one request, or one `archive
build`, to the next; the feed is built from the store alone and holds no clock
time, so the same issues give the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from xml.etree import ElementTree

from newsletter.compose.latex import to_html
from newsletter.config import Config
from newsletter.core import links
from newsletter.core.model import EDITIONS
from newsletter.store.archive import ArchivedIssue

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
ENTRIES = 20
"""How many issues the feed carries, newest first."""

_EMPTY_UPDATED = "1970-01-01T00:00:00Z"  # a feed with no entry still needs one, and a fixed one


def atom(config: Config, issues: Sequence[ArchivedIssue]) -> bytes:
    """The feed of the newest `ENTRIES` of `issues` (given newest first), as UTF-8 XML."""
    settings = config.newsletter
    feed = ElementTree.Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    entries = [_entry(config, issue) for issue in issues[:ENTRIES]]
    updated = max((_updated(issue) for issue in issues[:ENTRIES]), default=_EMPTY_UPDATED)
    _add(feed, "title", f"{settings.title_en} · {settings.title_zh}")
    _add(feed, "subtitle", "A weekly digest of AI papers in English and Chinese · 每周 AI 论文摘要")
    _add(feed, "id", links.home(settings.base_url))
    _add(feed, "updated", updated)
    _add(feed, "link", rel="self", type=MEDIA_TYPE, href=links.feed(settings.base_url))
    _add(feed, "link", rel="alternate", type="text/html", href=links.home(settings.base_url))
    _add(ElementTree.SubElement(feed, "author"), "name", settings.title_en)
    feed.extend(entries)
    ElementTree.indent(feed)
    document: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(config: Config, issue: ArchivedIssue) -> ElementTree.Element:
    page = links.issue_page(config.newsletter.base_url, issue.folder, "bilingual")
    entry = ElementTree.Element("entry")
    _add(entry, "title", issue.subject)
    _add(entry, "id", page)
    _add(entry, "link", rel="alternate", type="text/html", href=page)
    _add(entry, "published", _published(issue))
    _add(entry, "updated", _updated(issue))
    _add(entry, "content", _content(config, issue), type="html")
    return entry


def _content(config: Config, issue: ArchivedIssue) -> str:
    """The entry's body: what the issue holds, as a feed reader shows it."""
    count = len(issue.papers)
    plural = "" if count == 1 else "s"
    lines = [
        f"<p>Issue {issue.number} · 第 {issue.number} 期 · {issue.date} · "
        f"{count} paper{plural} · {count} 篇论文</p>",
        "<ol>",
    ]
    for paper in issue.papers:
        link = f'<a href="{html.escape(paper.url)}" lang="en">'
        title = to_html(paper.title_en or paper.title_zh)
        chinese = paper.title_zh if paper.title_en else ""
        below = f'<br><span lang="zh-CN">{to_html(chinese)}</span>' if chinese else ""
        lines.append(f"<li>{link}{title}</a>{below}</li>")
    base_url = config.newsletter.base_url
    pages = {name: html.escape(links.issue_page(base_url, issue.folder, name)) for name in EDITIONS}
    read = f'<a href="{pages["bilingual"]}">Read the issue · 阅读本期</a>'
    en_link, zh_link = f'<a href="{pages["en"]}">English</a>', f'<a href="{pages["zh"]}">中文</a>'
    lines += ["</ol>", f"<p>{read} ({en_link} · {zh_link})</p>"]
    return "\n".join(lines)


def _published(issue: ArchivedIssue) -> str:
    return f"{issue.date}T00:00:00Z"


def _updated(issue: ArchivedIssue) -> str:
    """When the issue went out (its send finished), or its date while it is going out."""
    return issue.sent_at or _published(issue)


def _add(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str
) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    element.text = text
    return element
