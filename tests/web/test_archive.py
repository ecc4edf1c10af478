"""The public archive over real HTTP: the index, the issue pages, what is public and
what is not. Issue 1 of the `web` site is composed; `send` makes it public."""

from __future__ import annotations

import datetime as dt
import html
import http.client
import re
from urllib.parse import urlsplit

import lxml.html
import pytest

from newsletter.compose import compose
from newsletter.config import load_config
from newsletter.core import links
from newsletter.send import IncompleteSend, send
from tests.helpers import THREE, ledger, tokens
from tests.web.conftest import Web

FOLDER = "0001-2024-07-15"
EDITIONS = ("bilingual", "en", "zh")


def titles(web: Web) -> list[tuple[str, str]]:
    """The English and Chinese titles of issue 1's papers, as the digest gives them."""
    return ledger(web.site, "SELECT title_en, title_zh FROM papers ORDER BY id")  # type: ignore[return-value]


def raw_get(web: Web, path: str) -> int:
    """GET `path` exactly as written (no client tidies `..` or `%2e` away)."""
    parts = urlsplit(web.base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def visible(page: str) -> str:
    """The page's text and attributes as a reader's browser decodes them."""
    return html.unescape(page)


def link_before(page: str, *words: str) -> re.Match[str] | None:
    """The first link whose text starts with one of `words` (in a language's span or not)."""
    said = "|".join(re.escape(word) for word in words)
    return re.search(rf'<a href="([^"]+)"[^>]*>(?:<span[^>]*>)?(?:{said})', page)


def test_a_composed_issue_waiting_for_monday_is_not_public(web: Web) -> None:
    english, chinese = titles(web)[0]
    with web.client() as client:
        index = client.get("/")
        pages = [client.get(f"/issues/{FOLDER}/{edition}.html") for edition in EDITIONS]
        folder = client.get(f"/issues/{FOLDER}/")
    assert index.status_code == 200
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert "No issue has gone out yet" in index.text and "还没有发出任何一期" in index.text
    assert english not in visible(index.text) and chinese not in visible(index.text)
    assert FOLDER not in index.text
    for response in [*pages, folder]:
        assert response.status_code == 404
        assert "This link is not valid" in response.text  # the neutral page, as for any path


def test_once_sent_the_issue_is_listed_with_its_papers_in_both_languages(web: Web) -> None:
    with web.client() as client:
        assert "Issue 1" not in client.get("/").text  # the server has rendered it once
        send(load_config())
        index = client.get("/")
        again = client.get("/index.html")
    page = visible(index.text)
    assert index.status_code == 200 and again.text == index.text
    assert "Issue 1" in page and "第 1 期" in page and "2024-07-15" in page
    assert "13 papers" in page and "13 篇论文" in page
    for english, chinese in titles(web):
        assert english in page and chinese in page
    assert f'href="{web.base}/issues/{FOLDER}/bilingual.html"' in index.text
    assert f'href="{web.base}/issues/{FOLDER}/en.html"' in index.text
    assert f'href="{web.base}/issues/{FOLDER}/zh.html"' in index.text
    assert f'href="{web.base}/subscribe"' in index.text
    assert re.search(r'rel="alternate" type="application/atom\+xml"', index.text)
    assert "No issue has gone out yet" not in page


def test_newest_issue_comes_first(web: Web) -> None:
    send(load_config())
    # a second sent issue, as the store records it after next week's compose and send
    ledger(
        web.site,
        "INSERT INTO issues (number, date, subject, folder, status, sent_at) "
        "VALUES (2, '2024-07-22', 'AI Paper Digest #2', '0002-2024-07-22', "
        "'sent', '2024-07-22T00:05:00Z')",
    )
    with web.client() as client:
        page = client.get("/").text
    assert page.index("Issue 2") < page.index("Issue 1")
    assert "2024-07-22" in page


def test_every_edition_page_is_the_issue_with_nobodys_link_in_it(web: Web) -> None:
    send(load_config())
    people = tokens(web.site)
    with web.client() as client:
        pages = {edition: client.get(f"/issues/{FOLDER}/{edition}.html") for edition in EDITIONS}
        index = client.get("/").text
    subjects = {
        "bilingual": "AI Paper Digest #1 · AI 论文周报 第1期",
        "en": "AI Paper Digest #1",
        "zh": "AI 论文周报 第1期",
    }
    for edition, response in pages.items():
        assert response.status_code == 200, edition
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert f"<title>{subjects[edition]}</title>" in response.text
        assert "%%" not in response.text
        for address, token in people.items():
            assert address not in response.text and token not in response.text
        assert not link_before(response.text, "Unsubscribe", "退订", "Preferences", "订阅设置")
        unsubscribe = link_before(response.text, "How to unsubscribe", "如何退订")
        assert unsubscribe and unsubscribe.group(1) == f"{web.base}/#unsubscribe"
        assert links.prefix("preferences") not in response.text
        assert links.prefix("unsubscribe") not in response.text
        assert f'href="{web.base}/subscribe"' in response.text  # a way in, from a shared link
    assert titles(web)[0][0] in visible(pages["en"].text)
    assert titles(web)[0][1] in visible(pages["zh"].text)
    assert 'id="unsubscribe"' in index and "unsubscribe link" in index


def test_the_web_copy_invites_to_subscribe_and_has_no_link_to_itself(web: Web) -> None:
    """A web copy is read by anyone: its footer does not say "you subscribed", nor does
    it offer "View in browser" (it is that page); it offers to subscribe. The rest is
    the edition as mailed."""
    send(load_config())
    mailed = {
        message.message["Subject"]: message.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        for message in web.smtp.handler.received
    }
    with web.client() as client:
        pages = {name: client.get(f"/issues/{FOLDER}/{name}.html").text for name in EDITIONS}
    for edition, text in pages.items():
        page = visible(text)
        assert '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">' in text
        assert "View in browser" not in page and "在浏览器中查看" not in page, edition
        assert "because you subscribed" not in page and "是因为您订阅了" not in page, edition
        assert f'href="{web.base}/issues/{FOLDER}/{edition}.html"' not in text  # itself
        footer = lxml.html.fromstring(text).find_class("footer")
        said = " ".join(paragraph.text_content() for paragraph in footer)
        assert "web copy" in said or "网页版" in said, edition
        assert f"{web.base}/subscribe" in [a.get("href") for p in footer for a in p.iter("a")]
    bilingual = next(body for subject, body in mailed.items() if "·" in subject)
    assert "View in browser" in bilingual and "because you subscribed" in bilingual
    english, chinese = titles(web)[0]
    assert english in visible(pages["bilingual"]) and chinese in visible(pages["bilingual"])


def test_the_view_in_browser_link_of_every_message_opens_its_edition(web: Web) -> None:
    send(load_config())
    received = web.smtp.handler.received
    assert len(received) == len(THREE)
    with web.client() as client:
        for message in received:
            part = message.message.get_body(("html",))
            assert part is not None
            body = part.get_content()
            link = link_before(body, "View in browser", "在浏览器中查看")
            assert link, message.recipient
            target = link.group(1)
            assert target.startswith(f"{web.base}/issues/{FOLDER}/")
            response = client.get(target)
            assert response.status_code == 200, target
            assert message.message["Subject"] in visible(response.text)


def test_an_issue_folder_offers_its_three_editions(web: Web) -> None:
    send(load_config())
    with web.client() as client:
        folder = client.get(f"/issues/{FOLDER}/")
        same = client.get(f"/issues/{FOLDER}/index.html")
        bare = client.get(f"/issues/{FOLDER}")
    assert folder.status_code == 200 and same.text == folder.text
    for edition in EDITIONS:
        assert f'href="{web.base}/issues/{FOLDER}/{edition}.html"' in folder.text
    assert "Issue 1" in folder.text and "第 1 期" in folder.text
    assert bare.status_code in (301, 307, 308)
    assert bare.headers["location"].endswith(f"/issues/{FOLDER}/")


def test_a_sending_issue_is_public_already(web: Web) -> None:
    web.smtp.handler.replies = {"ann@example.org": ["451 4.3.0 mailbox busy"]}
    with pytest.raises(IncompleteSend):
        send(load_config())
    assert ledger(web.site, "SELECT status FROM issues") == [("sending",)]
    with web.client() as client:
        assert "Issue 1" in client.get("/").text
        assert client.get(f"/issues/{FOLDER}/en.html").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/issues/0002-2024-07-22/bilingual.html",  # no such issue
        f"/issues/{FOLDER}/fr.html",  # no such edition
        f"/issues/{FOLDER}/issue.json",  # the folder's other files are not served
        f"/issues/{FOLDER}/bilingual.txt",
        f"/issues/{FOLDER}/bilingual.mjml",
        f"/issues/{FOLDER}/sample-bilingual.eml",
        f"/issues/{FOLDER}/../../newsletter.toml",
        "/issues/../newsletter.db",
        "/issues/%2e%2e/bilingual.html",
        f"/issues/{FOLDER}/%2e%2e%2f{FOLDER}%2fbilingual.html",
        f"/issues/..%2f{FOLDER}/bilingual.html",
        "/issues/./bilingual.html",
        "/issues/",
        "/newsletter.db",
        "/feed.atom",
    ],
)
def test_unknown_and_odd_paths_are_the_neutral_404(web: Web, path: str) -> None:
    send(load_config())
    assert raw_get(web, path) == 404


def test_a_page_the_reader_has_is_not_sent_again(web: Web) -> None:
    send(load_config())
    with web.client() as client:
        for path in ("/", "/feed.xml", f"/issues/{FOLDER}/zh.html"):
            first = client.get(path)
            again = client.get(path, headers={"if-none-match": first.headers["etag"]})
            assert (again.status_code, again.content) == (304, b""), path
            head = client.head(path)
            assert (head.status_code, head.content) == (200, b"")


def test_an_edition_fixed_on_disk_is_shown_fixed(web: Web) -> None:
    """Someone corrects a typo in a sent issue's archived HTML: the page follows."""
    send(load_config())
    page = web.site / "issues" / FOLDER / "en.html"
    with web.client() as client:
        assert "A corrected line" not in client.get(f"/issues/{FOLDER}/en.html").text
        page.write_text(page.read_text().replace("<body", "<!-- A corrected line --><body", 1))
        assert "A corrected line" in client.get(f"/issues/{FOLDER}/en.html").text


def test_a_summary_cut_to_fit_the_clip_is_whole_where_its_link_leads(web: Web) -> None:
    """Five papers more, with 30 KB Chinese summaries: the mail cuts them at a sentence,
    each "阅读全文" leads to the paper on the web copy, which has the summary whole."""
    digest = "\n".join(
        f"## Paper {i}\n[论文 {i}](https://arxiv.org/abs/2409.{i:05d})\n"
        + f"第{i}篇的摘要，用来测试邮件大小。" * 600
        + "\n"
        for i in range(5)
    )
    (web.site / "digests" / "sample-digest.md").write_text(digest, encoding="utf-8")
    composed = compose(load_config(), date=dt.date(2024, 7, 15))  # issue 1 again: waiting
    assert composed.number == 1 and composed.editions["zh"].chinese_cut > 0, composed.warnings
    send(load_config())
    [zh] = [m.message for m in web.smtp.handler.received if m.recipient == "li.wei@example.org"]
    part = zh.get_body(("html",))
    assert part is not None
    rests = re.findall(r'<a href="([^"]+)"[^>]*>阅读全文</a>', part.get_content())
    assert len(rests) == composed.editions["zh"].chinese_cut
    with web.client() as client:
        for target in rests:
            page, anchor = target.split("#")
            assert page == f"{web.base}/issues/{FOLDER}/zh.html"
            response = client.get(page)
            assert f'id="{anchor}"' in response.text
            paper = composed.papers[int(anchor.removeprefix("paper-")) - 1]
            summary = f"第{int(paper[-5:])}篇的摘要，用来测试邮件大小。" * 600
            assert summary in response.text and summary not in part.get_content()
