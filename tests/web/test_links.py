"""The links a reader gets by mail are the links the web pages show, to the letter,
and they work against `newsletter serve` (one builder, `core.links`)."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest

from newsletter.config import load_config
from newsletter.core import links
from newsletter.send import send
from tests.helpers import tokens
from tests.web.conftest import Web
from tests.web.helpers import confirmation_to, link_in, subscribe

ACTION = re.compile(r'<form method="post" action="([^"]+)"')
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def status_of(web: Web, email: str) -> str:
    with sqlite3.connect(web.site / "newsletter.db") as db:
        [(status,)] = db.execute("SELECT status FROM subscribers WHERE email = ?", (email,))
    return str(status)


def test_the_unsubscribe_link_in_the_message_is_the_one_on_the_page_and_it_works(
    web: Web,
) -> None:
    assert send(load_config()).sent == 3
    [message] = [r.message for r in web.smtp.handler.received if r.recipient == "ann@example.org"]
    expected = links.unsubscribe(web.base, tokens(web.site)["ann@example.org"])
    header = re.findall(r"<(http[^>]+)>", str(message["List-Unsubscribe"]))
    rich, plain = message.get_body(("html",)), message.get_body(("plain",))
    assert rich is not None and plain is not None
    footer = re.findall(r'href="([^"]+/unsubscribe/[^"]+)"', rich.get_content())
    text = re.findall(r"(http\S+/unsubscribe/\S+)", plain.get_content())
    with web.client() as client:
        page = client.get(expected)
        assert page.status_code == 200
        [action] = [html.unescape(a) for a in ACTION.findall(page.text)]
        assert header == [html.unescape(f) for f in footer] == text == [action] == [expected]
        one_click = client.post(action, data=ONE_CLICK)
    assert one_click.status_code == 200
    assert status_of(web, "ann@example.org") == "unsubscribed"


@pytest.mark.parametrize("eightbit", [True, False], ids=["8bit", "base64"])
def test_every_message_carries_its_readers_own_preferences_link_and_it_opens_their_page(
    web: Web, eightbit: bool
) -> None:
    web.smtp.handler.eightbit = eightbit
    assert send(load_config()).sent == 3
    people = tokens(web.site)
    found = {}
    with web.client() as client:
        for received in web.smtp.handler.received:
            expected = links.preferences(web.base, people[received.recipient])
            rich = received.message.get_body(("html",))
            plain = received.message.get_body(("plain",))
            assert rich is not None and plain is not None
            assert rich["Content-Transfer-Encoding"] == ("8bit" if eightbit else "base64")
            footer = re.findall(r'href="([^"]+/preferences/[^"]+)"', rich.get_content())
            text = re.findall(r"(http\S+/preferences/\S+)", plain.get_content())
            assert [html.unescape(f) for f in footer] == text == [expected]
            page = client.get(expected)
            assert page.status_code == 200
            assert html.escape(received.recipient) in page.text  # their own page
            assert 'name="lang"' in page.text  # where the edition is changed
            assert [html.unescape(a) for a in ACTION.findall(page.text)] == [expected] * 2
            found[received.recipient] = expected
    assert sorted(found) == sorted(people) and len(set(found.values())) == len(people)
    assert {status_of(web, email) for email in people} == {"active"}  # a GET changes nothing


def test_the_confirmation_link_in_the_mail_is_the_one_its_page_posts_to(web: Web) -> None:
    with web.client() as client:
        assert subscribe(client, "dana@example.org", "Dana").status_code == 200
        link = link_in(confirmation_to(web, "dana@example.org"))
        assert link.startswith(web.base + links.prefix("confirm"))
        page = client.get(link)
        assert page.status_code == 200
        [action] = [html.unescape(a) for a in ACTION.findall(page.text)]
        assert action == link
        done = client.post(action, headers={"Origin": web.base})
    assert done.status_code == 200
    assert status_of(web, "dana@example.org") == "active"
