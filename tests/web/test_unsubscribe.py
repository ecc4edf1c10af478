"""One-click unsubscribe and preferences, through `newsletter serve` over real HTTP,
starting from the links in a message the subscriber really received."""

from __future__ import annotations

import re
import sqlite3
from email.message import EmailMessage

import pytest

from newsletter.config import load_config
from newsletter.send import send
from newsletter.store import Store, bounces
from newsletter.store import subscribers as rows
from tests.helpers import add_digest, tokens
from tests.smtpd import wait_until
from tests.web.conftest import Web, stop_serve
from tests.web.helpers import link_in

ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
}


def person(web: Web, email: str) -> tuple[str, str, str, str | None]:
    """(status, lang, name, changed_at) of a subscriber, from the store."""
    with sqlite3.connect(web.site / "newsletter.db") as db:
        row = db.execute(
            "SELECT status, lang, name, changed_at FROM subscribers WHERE email = ?", (email,)
        ).fetchone()
    assert row is not None
    return row


def received_links(web: Web, email: str) -> tuple[str, str]:
    """The https `List-Unsubscribe` link of the message `email` got, and the footer's."""
    [message] = [r.message for r in web.smtp.handler.received if r.recipient == email]
    header = re.search(r"<(http[^>]+)>", str(message["List-Unsubscribe"]))
    html = message.get_body(("html",))
    assert header is not None and html is not None
    footer = re.search(r'href="([^"]+/unsubscribe/[^"]+)"', html.get_content())
    assert footer is not None
    return header.group(1), footer.group(1)


@pytest.fixture
def sent(web: Web) -> Web:
    """Issue 1 delivered to the three subscribers, through the site's SMTP server."""
    report = send(load_config())
    assert (report.sent, report.complete) == (3, True)
    return web


def test_one_click_from_the_message_header_unsubscribes_and_the_next_issue_skips_them(
    sent: Web,
) -> None:
    link, _ = received_links(sent, "ann@example.org")
    assert link.startswith(sent.base + "/unsubscribe/")
    with sent.client() as client:
        first = client.post(link, **ONE_CLICK)  # type: ignore[arg-type]
        again = client.post(link, **ONE_CLICK)  # type: ignore[arg-type]
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.text == again.text == "Unsubscribed. · 已退订。\n"  # for a mail provider
    assert person(sent, "ann@example.org")[0] == "unsubscribed"
    add_digest(sent.site, "2024-07-22.md", "2407.99001")
    from newsletter.compose import compose

    compose(load_config())
    before = len(sent.smtp.handler.received)
    assert send(load_config()).sent == 2
    later = [r.recipient for r in sent.smtp.handler.received[before:]]
    assert sorted(later) == ["bob@example.org", "li.wei@example.org"]


def test_get_shows_a_button_and_changes_nothing(sent: Web) -> None:
    _, footer = received_links(sent, "li.wei@example.org")
    with sent.client() as client:
        page = client.get(footer)
        head = client.head(footer)
    assert page.status_code == head.status_code == 200
    assert '<form method="post"' in page.text and "Unsubscribe · 退订" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert person(sent, "li.wei@example.org")[0] == "active"


def test_the_pages_button_unsubscribes_and_offers_to_come_back(sent: Web) -> None:
    _, footer = received_links(sent, "bob@example.org")
    with sent.client() as client:
        done = client.post(footer, data={})
        assert done.status_code == 200 and "Subscribe again" in done.text
        back = client.post(
            footer.replace("/unsubscribe/", "/preferences/"), data={"action": "resubscribe"}
        )
    assert back.status_code == 200 and "Welcome back" in back.text
    assert person(sent, "bob@example.org")[0] == "active"


@pytest.mark.parametrize(
    "token", ["n0tAReal7okenAtAllButLongEnough", "short", "bad%20chars!!!!!!!!!!!", "-" * 80]
)
def test_an_unknown_or_malformed_token_is_the_neutral_404(web: Web, token: str) -> None:
    with web.client() as client:
        unknown_page = client.get("/no/such/page").text
        for path in (f"/unsubscribe/{token}", f"/preferences/{token}"):
            got = client.get(path)
            assert (got.status_code, got.text) == (404, unknown_page)
            posted = client.post(path, **ONE_CLICK)  # type: ignore[arg-type]
            assert (posted.status_code, posted.text) == (404, unknown_page)


def test_preferences_change_the_edition_and_name_for_the_next_issue(sent: Web) -> None:
    link, _ = received_links(sent, "li.wei@example.org")
    preferences = link.replace("/unsubscribe/", "/preferences/")
    with sent.client() as client:
        form = client.get(preferences)
        assert form.status_code == 200 and 'name="lang"' in form.text
        saved = client.post(preferences, data={"action": "save", "name": "Wei", "lang": "en"})
    assert saved.status_code == 200 and "已保存" in saved.text
    status, lang, name, changed_at = person(sent, "li.wei@example.org")
    assert (status, lang, name) == ("active", "en", "Wei") and changed_at
    add_digest(sent.site, "2024-07-22.md", "2407.99002")
    from newsletter.compose import compose

    compose(load_config())
    before = len(sent.smtp.handler.received)
    send(load_config())
    [message] = [
        r.message
        for r in sent.smtp.handler.received[before:]
        if r.recipient == "li.wei@example.org"
    ]
    assert message["Subject"] == "AI Paper Digest #2"  # the English edition now
    assert message["To"].addresses[0].display_name == "Wei"


def test_a_bad_preference_is_shown_on_the_page_and_changes_nothing(sent: Web) -> None:
    link, _ = received_links(sent, "ann@example.org")
    preferences = link.replace("/unsubscribe/", "/preferences/")
    with sent.client() as client:
        bad = client.post(preferences, data={"action": "save", "name": "A\r\nB", "lang": "fr"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert person(sent, "ann@example.org")[:3] == ("active", "en", "Ann")


def test_tokens_never_reach_the_log(sent: Web) -> None:
    link, _ = received_links(sent, "ann@example.org")
    token = link.rsplit("/", 1)[1]
    with sent.client() as client:
        assert client.get(link).status_code == 200
        assert client.post(link, **ONE_CLICK).status_code == 200  # type: ignore[arg-type]
    log = stop_serve(sent.process, sent.site)
    assert '"POST /unsubscribe/… HTTP/1.1" 200' in log  # the access log is there,
    assert token not in log  # without the token
    assert "Finished server process" in log  # and SIGTERM ended it cleanly


def test_head_requests_change_nothing(sent: Web) -> None:
    """Link checkers send HEAD: it must be as harmless as GET, on every page."""
    link, _ = received_links(sent, "ann@example.org")
    with sent.client() as client:
        for path in (link, link.replace("/unsubscribe/", "/preferences/")):
            assert client.head(path).status_code == 200
    assert person(sent, "ann@example.org")[:3] == ("active", "en", "Ann")


def _confirmation(web: Web, email: str) -> EmailMessage:
    """The confirmation message `email` received after the issue (waiting for it)."""

    def confirmations() -> list[EmailMessage]:
        return [
            r.message
            for r in web.smtp.handler.received
            if r.recipient == email and r.message["Auto-Submitted"]
        ]

    wait_until(lambda: len(confirmations()) > 0, timeout=20)
    [message] = confirmations()
    return message


def _bounced_and_complained(web: Web) -> dict[str, str]:
    """Bob's mail bounced; Ann's mail provider reported her complaint (both as the
    inbox records them); their preferences links."""
    with Store.open(web.site / "newsletter.db") as store, store.transaction() as db:
        bob, ann = (rows.find(db, email) for email in ("bob@example.org", "ann@example.org"))
        assert bob is not None and ann is not None
        rows.set_bounced(db, bob.id)
        bounces.record(
            db, bounces.Event(ann.id, 1, "complaint", "abuse", "example.org", "verp", "", "")
        )
        rows.set_unsubscribed(db, ann.id)
    people = tokens(web.site)
    return {
        email: f"/preferences/{people[email]}" for email in ("bob@example.org", "ann@example.org")
    }


def test_after_a_bounce_or_a_complaint_coming_back_takes_a_confirmation_by_mail(
    sent: Web,
) -> None:
    links = _bounced_and_complained(sent)
    with sent.client() as client:
        answers = {
            email: client.post(link, data={"action": "resubscribe"})
            for email, link in links.items()
        }
    for answer in answers.values():
        assert answer.status_code == 200
        assert "Welcome back" not in answer.text
        assert "To come back, please confirm" in answer.text and "请确认" in answer.text
    assert person(sent, "bob@example.org")[0] == "bounced"  # not back by the token alone
    assert person(sent, "ann@example.org")[0] == "unsubscribed"
    link = link_in(_confirmation(sent, "ann@example.org"))
    _confirmation(sent, "bob@example.org")
    with sent.client() as client:
        assert client.post(link).status_code == 200  # she opens it: her consent
    assert person(sent, "ann@example.org")[0] == "active"
    assert person(sent, "bob@example.org")[0] == "bounced"
