"""8-bit transport through a real server (aiosmtpd, `decode_data=False`): the bytes
arrive as built, the parts decode to what compose wrote with each reader's own link,
and a server that does not offer 8BITMIME never gets 8-bit data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from newsletter.compose.render import IssueInfo, Renderer
from newsletter.config import NewsletterSettings, SmtpSettings, load_config
from newsletter.core.model import Paper
from newsletter.mail.message import MessageTemplate, Recipient, unsubscribe_url
from newsletter.mail.smtp import SmtpSession, for_data
from newsletter.send import send
from newsletter.send.preview import check
from tests.helpers import (
    THREE,
    built_for,
    ledger,
    make_site,
    parse_message,
    personalised,
    same_but_line_breaks,
)
from tests.smtpd import Received, SmtpServer

FOLDER = Path("issues") / "0001-2024-07-15"
READER = Recipient("ann@example.org", "Ann", "T0k3n", "1")


def composed(site: Path, edition: str, kind: str, token: str) -> str:
    """An edition's file as compose wrote it, with the links of `token` for the placeholders."""
    described = json.loads((site / FOLDER / "issue.json").read_text(encoding="utf-8"))
    text = (site / FOLDER / described["editions"][edition][kind]).read_text(encoding="utf-8")
    return personalised(text, token)


def as_built(site: Path, received: Received, eightbit: bool) -> bytes:
    """What the builder makes for that recipient, with the Date the message carries."""
    date = parse_message(received.raw)["Date"]
    return built_for(site, received.recipient, date, eightbit)


@pytest.mark.parametrize("offered", [True, False], ids=["8BITMIME", "no 8BITMIME"])
def test_the_bytes_arrive_as_built_and_decode_to_what_compose_wrote(
    workspace: Path, server: SmtpServer, offered: bool
) -> None:
    server.handler.eightbit = offered
    site = make_site(workspace, server.port, THREE)
    report = send(load_config())
    assert (report.sent, report.complete) == (3, True)
    langs = {email: lang for email, _, lang in THREE}
    tokens = dict(ledger(site, "SELECT email, token FROM subscribers"))
    for received in server.handler.received:
        assert received.raw == as_built(site, received, offered)
        assert received.mail_options == (["BODY=8BITMIME"] if offered else [])
        assert (b"\r\n." in received.raw) is offered  # a style sheet's `.class`: dot-stuffed
        message = parse_message(received.raw)
        token = str(tokens[received.recipient])
        text, html = message.iter_parts()
        encoding = "8bit" if offered else "base64"
        assert text["Content-Transfer-Encoding"] == html["Content-Transfer-Encoding"] == encoding
        edition = langs[received.recipient]
        expected_text = composed(site, edition, "text", token)
        assert text.get_content() == expected_text.replace("\n", "\r\n")
        expected_html = composed(site, edition, "html", token)
        if offered:
            assert same_but_line_breaks(html.get_content(), expected_html)
            assert max(map(len, received.raw.split(b"\r\n"))) <= 998
        else:
            assert html.get_content() == expected_html.replace("\n", "\r\n")
            assert received.raw.isascii()


def test_a_server_that_stops_offering_8bitmime_gets_base64(
    workspace: Path, server: SmtpServer
) -> None:
    """The first session decides 8-bit; the connection drops, and the server the
    reconnect reaches does not offer 8BITMIME: every later message goes base64."""
    server.handler.eightbit_sessions, server.handler.drop_after = 1, 1
    site = make_site(workspace, server.port, THREE, connections=1)
    report = send(load_config())
    assert (report.sent, report.complete) == (3, True)
    first, *later = server.handler.received
    assert first.mail_options == ["BODY=8BITMIME"] and not first.raw.isascii()
    assert first.raw == as_built(site, first, True)
    assert len(later) == 2
    for received in later:
        assert received.mail_options == [] and received.raw.isascii()
        assert received.raw == as_built(site, received, False)
        assert b"Content-Transfer-Encoding: 8bit" not in received.raw


def test_lines_that_start_with_a_dot_arrive_intact(server: SmtpServer) -> None:
    html = ".starts with a dot<br>\n..two\n.\n<a href='%%UNSUBSCRIBE_URL%%'>退订</a>\n"
    text = ".NET 论文\n.\n..\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n.\n"
    template = MessageTemplate(NewsletterSettings(), 1, "Dots", html, text)
    mail = template.mail(READER)
    built = template.build(READER, parse_message(mail.wire)["Date"])
    assert for_data(built) == mail.wire and mail.seven_bit
    assert b"\r\n.\r\n" in built and b"\r\n..two\r\n" in built
    session = SmtpSession(SmtpSettings(host="127.0.0.1", port=server.port, timeout=5), "")
    assert session.send("digest@example.org", READER.email, mail).status == "sent"
    session.close()
    [received] = server.handler.received
    assert received.raw == built
    message = parse_message(received.raw)
    link = unsubscribe_url(NewsletterSettings(), READER.token)
    plain, rich = message.iter_parts()
    assert plain.get_content() == text.replace("%%UNSUBSCRIBE_URL%%", link).replace("\n", "\r\n")
    assert rich.get_content() == html.replace("%%UNSUBSCRIBE_URL%%", link).replace("\n", "\r\n")


def _one_paper_edition(summary: str) -> tuple[MessageTemplate, str]:
    """The zh edition of an issue with one paper, and its HTML as composed."""
    paper = Paper(
        "2401.00001", "Long", "长", "https://arxiv.org/abs/2401.00001", summary, None, "d.md", 1
    )
    issue = IssueInfo(3, dt.date(2024, 7, 15), "0003-2024-07-15", [paper])
    edition = Renderer(NewsletterSettings()).edition(issue, "zh")
    settings = NewsletterSettings()
    template = MessageTemplate(settings, 3, edition.subject, edition.html, edition.text)
    return template, edition.html


def test_a_summary_on_one_long_line_goes_8bit_in_lines_within_998(server: SmtpServer) -> None:
    summary = (
        "我们提出了一种新的视觉语言模型训练方法，" * 150
    ) + "代码见 https://github.com/x/y 。"
    template, composed_html = _one_paper_edition(summary)
    assert max(map(len, composed_html.encode().split(b"\n"))) > 4000
    assert template.htmls[True].part.encoding == template.texts[True].part.encoding == b"8bit"
    mail = template.mail(READER)
    built = template.build(READER, parse_message(mail.wire)["Date"])
    assert for_data(built) == mail.wire
    assert b"<wbr\r\n>" in built  # Chinese with no space: broken between two ideographs
    assert max(map(len, built.split(b"\r\n"))) <= 998
    session = SmtpSession(SmtpSettings(host="127.0.0.1", port=server.port, timeout=5), "")
    assert session.send("digest@example.org", READER.email, mail).status == "sent"
    session.close()
    [received] = server.handler.received  # aiosmtpd refuses a line over 1000 with its CRLF
    assert received.raw == built
    html = parse_message(received.raw).get_body(("html",))
    assert html is not None
    assert same_but_line_breaks(html.get_content(), personalised(composed_html, READER.token))


def test_a_10_mb_paragraph_goes_in_base64() -> None:
    """No line of it can be broken: both parts go base64, and the message is 7-bit."""
    template, _ = _one_paper_edition("a" * 10_200_000)
    assert template.htmls[True].part.encoding == template.texts[True].part.encoding == b"base64"
    built = template.build(READER)
    assert template.mail(READER).seven_bit is None and built.isascii()
    assert max(map(len, built.split(b"\r\n"))) <= 998
    assert check(template, built, READER) == []
