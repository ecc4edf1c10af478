"""Forms used from another site: through `newsletter serve` over real HTTP, a POST
that a page elsewhere made a browser send is refused (403, the neutral error page),
changes nothing and mails no one; curl, which says nothing of where it comes from,
and a mail provider's RFC 8058 one-click unsubscribe are let through."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from newsletter.config import load_config
from newsletter.send import send
from newsletter.web.origin import is_cross_site, site_origin
from tests.helpers import ledger, tokens
from tests.web.conftest import Web
from tests.web.helpers import confirmation_to, form_token, link_in, subscribe

EVIL = "https://evil.example"
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def person(web: Web, email: str) -> tuple[object, ...]:
    [row] = ledger(web.site, "SELECT status, name, lang FROM subscribers WHERE email = ?", email)
    return row


def nothing_queued(web: Web) -> bool:
    pending = ledger(web.site, "SELECT email FROM pending_subscriptions")
    return pending == [] and ledger(web.site, "SELECT recipient FROM outbox") == []


def refused(answer: object, error_page: str) -> None:
    assert getattr(answer, "status_code", None) == 403
    assert getattr(answer, "text", None) == error_page


@pytest.fixture
def error_page(web: Web) -> str:
    """The neutral page a refused POST gets (the site's error page for 403)."""
    with web.client() as client:
        got = client.post("/subscribe", data={}, headers={"Origin": EVIL})
    assert got.status_code == 403 and "That did not work (403)" in got.text
    return got.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Referer": f"{EVIL}/a-page-that-submits-itself"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},  # a sandboxed frame, or a page with no referrer
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1.evil.example"},
    ],
    ids=["origin", "origin-and-fetch", "referer", "fetch-site", "null", "null-cross", "lookalike"],
)
def test_a_subscribe_form_sent_from_another_site_is_refused_and_mails_no_one(
    web: Web, error_page: str, headers: dict[str, str]
) -> None:
    with web.client() as client:
        data = {
            "csrf": form_token(client),
            "email": "victim@example.org",
            "name": "",
            "lang": "en",
            "website": "",
        }
        refused(client.post("/subscribe", data=data, headers=headers), error_page)
    assert nothing_queued(web)


def test_a_subscribe_form_from_our_page_or_from_curl_is_taken(web: Web) -> None:
    ours = {"Origin": web.base, "Sec-Fetch-Site": "same-origin"}
    with web.client() as client:
        answers = [
            subscribe(client, "origin@example.org", headers=ours),
            subscribe(client, "referer@example.org", headers={"Referer": f"{web.base}/subscribe"}),
            subscribe(
                client,
                "null@example.org",
                headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
            ),
            subscribe(client, "curl@example.org"),  # no Origin, no Referer
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    for email in ("origin", "referer", "null", "curl"):
        confirmation_to(web, f"{email}@example.org")


def test_preferences_cannot_be_changed_from_another_site(web: Web, error_page: str) -> None:
    preferences = f"/preferences/{tokens(web.site)['li.wei@example.org']}"
    with web.client() as client:
        for headers in (
            {"Origin": EVIL},
            {"Sec-Fetch-Site": "cross-site"},
            {"Referer": f"{EVIL}/x"},
        ):
            answer = client.post(
                preferences, data={"action": "save", "name": "Pwned", "lang": "en"}, headers=headers
            )
            refused(answer, error_page)
            answer = client.post(preferences, data={"action": "unsubscribe"}, headers=headers)
            refused(answer, error_page)
        assert person(web, "li.wei@example.org") == ("active", "Li Wei", "zh")
        ours = client.post(
            preferences,
            data={"action": "save", "name": "Wei", "lang": "en"},
            headers={"Origin": web.base},
        )
    assert ours.status_code == 200
    assert person(web, "li.wei@example.org") == ("active", "Wei", "en")


def test_a_confirmation_cannot_be_pressed_from_another_site(web: Web, error_page: str) -> None:
    with web.client() as client:
        subscribe(client, "reader@example.org")
    link = link_in(confirmation_to(web, "reader@example.org"))
    with web.client() as client:
        refused(client.post(link, headers={"Origin": EVIL}), error_page)
        assert ledger(web.site, "SELECT email FROM subscribers WHERE email LIKE 'reader%'") == []
        assert client.post(link, headers={"Origin": web.base}).status_code == 200
    assert person(web, "reader@example.org")[0] == "active"


def test_one_click_unsubscribe_works_from_anywhere_the_pages_button_only_from_ours(
    web: Web, error_page: str
) -> None:
    assert send(load_config()).complete
    people = tokens(web.site)
    with web.client() as client:
        button = client.post(
            f"/unsubscribe/{people['ann@example.org']}", data={}, headers={"Origin": EVIL}
        )
        refused(button, error_page)
        assert person(web, "ann@example.org")[0] == "active"
        for email, headers in (
            ("ann@example.org", {"Origin": "https://mail.google.com"}),
            ("bob@example.org", {}),
        ):
            answer = client.post(
                f"/unsubscribe/{people[email]}", content=ONE_CLICK, headers={**FORM, **headers}
            )
            assert (answer.status_code, answer.text) == (200, "Unsubscribed. · 已退订。\n")
    assert [person(web, email)[0] for email in ("ann@example.org", "bob@example.org")] == [
        "unsubscribed",
        "unsubscribed",
    ]


OURS = "https://digest.example.org:443"


@pytest.mark.parametrize(
    ("headers", "cross"),
    [
        ({}, False),
        ({"Origin": "https://digest.example.org"}, False),
        ({"Origin": "HTTPS://Digest.Example.org:443"}, False),
        ({"Origin": "http://digest.example.org"}, True),  # another scheme
        ({"Origin": "https://digest.example.org:8443"}, True),  # another port
        ({"Origin": "https://sub.digest.example.org", "Sec-Fetch-Site": "same-site"}, True),
        ({"Origin": "https://digest.example.org", "Sec-Fetch-Site": "cross-site"}, True),
        ({"Origin": "null"}, True),
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, False),
        ({"Origin": "not a url"}, True),
        ({"Referer": "https://digest.example.org/preferences/x"}, False),
        ({"Referer": "https://evil.example/digest.example.org"}, True),
        ({"Sec-Fetch-Site": "none"}, False),  # typed in or a bookmark: the person's own
    ],
)
def test_what_counts_as_another_site(headers: dict[str, str], cross: bool) -> None:
    assert site_origin("https://digest.example.org/weekly/") == OURS
    assert is_cross_site(OURS, Headers(headers)) is cross


def test_a_site_under_a_path_compares_by_origin_alone() -> None:
    assert site_origin("http://127.0.0.1:8080/news") == site_origin("http://127.0.0.1:8080")
    assert site_origin("https://bücher.example") == "https://xn--bcher-kva.example:443"
    assert site_origin("mailto:x@example.org") == ""
