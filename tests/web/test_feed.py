"""The Atom feed: over real HTTP and read by feedparser, as a feed reader reads it."""

from __future__ import annotations

import html
from pathlib import Path
from xml.etree import ElementTree

import feedparser

from newsletter.config import load_config
from newsletter.send import send
from newsletter.store.archive import ArchivedIssue, ArchivedPaper
from newsletter.web.feed import ATOM, ENTRIES, atom
from tests.helpers import ledger
from tests.web.conftest import Web

FOLDER = "0001-2024-07-15"


def test_the_feed_has_no_entry_before_anything_is_sent(web: Web) -> None:
    with web.client() as client:
        response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "AI Paper Digest · AI 论文周报"
    assert parsed.entries == []


def test_a_sent_issue_is_an_entry_with_its_papers(web: Web) -> None:
    with web.client() as client:
        client.get("/feed.xml")
        send(load_config())
        response = client.get("/feed.xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.link == f"{web.base}/"
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
        f"{web.base}/feed.xml"
    ]
    (entry,) = parsed.entries
    page = f"{web.base}/issues/{FOLDER}/bilingual.html"
    assert entry.title == "AI Paper Digest #1 · AI 论文周报 第1期"
    assert entry.link == page and entry.id == page
    (sent_at,) = ledger(web.site, "SELECT sent_at FROM issues")[0]
    assert entry.updated == sent_at and entry.published == "2024-07-15T00:00:00Z"
    content = html.unescape(entry.content[0].value)
    papers = ledger(web.site, "SELECT title_en, title_zh, url FROM papers ORDER BY id")
    for english, chinese, url in papers:
        assert english in content and chinese in content
        assert f'href="{url}"' in content
    with web.client() as client:
        assert client.get(entry.link).status_code == 200


def test_the_feed_is_the_same_from_one_request_to_the_next(web: Web) -> None:
    send(load_config())
    with web.client() as client:
        first, second = client.get("/feed.xml"), client.get("/feed.xml")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]


def issue(number: int, sent: bool = True) -> ArchivedIssue:
    date = f"2024-{1 + number // 28:02d}-{1 + number % 28:02d}"
    paper = ArchivedPaper(
        f"2407.{number:05d}",
        f"Paper <{number}> & co",
        f"论文 {number}",
        f"https://arxiv.org/abs/2407.{number:05d}",
    )
    return ArchivedIssue(
        number,
        date,
        f"#{number}",
        f"{number:04d}-{date}",
        "sent" if sent else "sending",
        f"{date}T00:30:00Z" if sent else None,
        (paper,),
    )


def test_the_feed_carries_the_newest_twenty_issues(workspace: Path) -> None:
    newest_first = [issue(number) for number in range(25, 0, -1)]
    document = atom(load_config(), newest_first)
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert [entry.title for entry in parsed.entries] == [f"#{n}" for n in range(25, 5, -1)]
    assert len(parsed.entries) == ENTRIES
    assert parsed.feed.updated == newest_first[0].sent_at
    assert "Paper <25> & co" in html.unescape(parsed.entries[0].content[0].value)


def test_every_element_rfc_4287_requires_is_there(workspace: Path) -> None:
    root = ElementTree.fromstring(atom(load_config(), [issue(2, sent=False), issue(1)]))
    name = f"{{{ATOM}}}"
    assert root.tag == f"{name}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(name + required) is not None, required
    entries = root.findall(name + "entry")
    assert len(entries) == 2
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            assert entry.find(name + required) is not None, required
        assert entry.find(name + "link").get("rel") == "alternate"  # type: ignore[union-attr]
    # an issue still going out is dated by its date until its send finishes
    assert entries[0].findtext(name + "updated") == "2024-01-03T00:00:00Z"
