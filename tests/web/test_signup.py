"""Subscribe and confirm, through `newsletter serve` over real HTTP: the form, the
confirmation message its outbox loop delivers to the site's SMTP server, the
confirmation page, the next issue; and every refusal (token, honeypot, limits),
with the same answer for every kind of address, counted the same toward the limit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsletter.audience import signup, subscribers
from newsletter.config import load_config
from newsletter.send import send
from newsletter.store import Store
from newsletter.store import subscribers as subscriber_rows
from tests.helpers import SUBJECTS, THREE, ledger, make_site
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.conftest import Web, start_serve
from tests.web.helpers import CSRF, confirmation_to, form_token, link_in, subscribe


@contextmanager
def serving(workspace: Path, server: SmtpServer, web: str, workers: int = 1) -> Iterator[Web]:
    """A site like the `web` fixture's, with `[web]` settings of its own."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(workspace, server.port, THREE, base_url=base)
    with (site / "newsletter.toml").open("a", encoding="utf-8") as file:
        file.write(f"[web]\n{web}\n")
    process = start_serve(site, port, "--workers", str(workers))
    try:
        yield Web(base, site, server, process)
    finally:
        process.terminate()
        process.communicate(timeout=30)  # waits, and closes a pipe if output goes to one


@pytest.fixture
def roomy(workspace: Path, server: SmtpServer) -> Iterator[Web]:
    """Every test client is 127.0.0.1: a per-client limit out of the way."""
    with serving(workspace, server, "signups_per_client_per_hour = 100") as web:
        yield web


def pending_emails(web: Web) -> list[object]:
    """The addresses waiting for their confirmation (not those confirmed already)."""
    sql = "SELECT email FROM pending_subscriptions WHERE confirmed_at IS NULL"
    return [row[0] for row in ledger(web.site, sql)]


def outbox_recipients(web: Web) -> list[object]:
    return [row[0] for row in ledger(web.site, "SELECT recipient FROM outbox ORDER BY id")]


def outbox_done(web: Web) -> bool:
    """Nothing queued or in flight: every message the outbox holds was sent or failed."""
    return not ledger(web.site, "SELECT id FROM outbox WHERE status IN ('queued', 'sending')")


def dump(site: Path) -> list[str]:
    with sqlite3.connect(site / "newsletter.db") as db:
        return list(db.iterdump())


def test_subscribe_confirm_by_mail_and_receive_the_next_issue(web: Web) -> None:
    with web.client() as client:
        form = client.get("/subscribe")
        assert (form.status_code, form.headers["cache-control"]) == (200, "no-store")
        assert 'name="website"' in form.text and "Subscribe · 订阅" in form.text
        done = subscribe(client, "New.Reader@example.org", "新读者", "zh")
    assert done.status_code == 200, done.text
    assert "Check your inbox" in done.text and "请查收邮件" in done.text
    assert pending_emails(web) == ["New.Reader@example.org"]
    assert ledger(web.site, "SELECT 1 FROM subscribers WHERE email LIKE 'new.%'") == []

    message = confirmation_to(web, "New.Reader@example.org")
    subject = str(message["Subject"])
    assert "Confirm your subscription" in subject and "请确认订阅" in subject
    assert message["From"].addresses[0].addr_spec == "digest@example.org"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Please confirm your subscription" in text and "请确认您的订阅" in text
    link = link_in(message)
    assert link.startswith(web.base + "/confirm/")
    assert f'href="{link}"' in message.get_body(("html",)).get_content()  # type: ignore[union-attr]

    with web.client() as client:
        page = client.get(link)
        assert page.status_code == 200
        assert f'<form method="post" action="{link}">' in page.text
        assert "New.Reader@example.org" in page.text and "仅中文" in page.text
        assert pending_emails(web) == ["New.Reader@example.org"]  # looking changed nothing
        confirmed = client.post(link)
        again, opened_again = client.post(link), client.get(link)
    assert confirmed.status_code == 200
    assert "You are subscribed" in confirmed.text and "订阅成功" in confirmed.text
    assert again.status_code == opened_again.status_code == 200  # used: it says so
    assert again.text == opened_again.text
    assert "Already confirmed" in again.text and "已确认" in again.text
    assert "not valid" not in again.text
    assert "New.Reader" not in again.text and "/preferences/" not in again.text  # nothing more
    assert ledger(
        web.site,
        "SELECT status, lang, name FROM subscribers WHERE email = ?",
        "New.Reader@example.org",
    ) == [("active", "zh", "新读者")]
    assert pending_emails(web) == []

    report = send(load_config())
    assert (report.sent, report.complete) == (4, True)
    [issue] = [
        r.message
        for r in web.smtp.handler.received
        if r.recipient == "new.reader@example.org" and r.message["List-Id"]
    ]
    assert str(issue["Subject"]) == SUBJECTS["zh"]


def test_an_unconfirmed_address_gets_no_issue(web: Web) -> None:
    with web.client() as client:
        assert subscribe(client, "maybe@example.org").status_code == 200
    confirmation_to(web, "maybe@example.org")
    report = send(load_config())
    assert (report.sent, report.complete) == (3, True)
    assert web.smtp.handler.count()["maybe@example.org"] == 1  # the confirmation only


def test_get_never_changes_anything(web: Web) -> None:
    with web.client() as client:
        subscribe(client, "reader@example.org")
    link = link_in(confirmation_to(web, "reader@example.org"))
    wait_until(lambda: ledger(web.site, "SELECT status FROM outbox") == [("sent",)])
    before = dump(web.site)
    with web.client() as client:
        for _ in range(3):
            assert client.get(link).status_code == 200
            assert client.head(link).status_code == 200
            assert client.get("/subscribe").status_code == 200
            assert client.get("/confirm/" + "A" * 33).status_code == 404
    assert dump(web.site) == before


def test_unknown_and_expired_links_get_one_neutral_404(web: Web) -> None:
    with web.client() as client:
        subscribe(client, "late@example.org")
        link = link_in(confirmation_to(web, "late@example.org"))
        unknown = client.get("/confirm/" + "A" * 33)
        malformed = client.get("/confirm/..%2F..%2Fetc")
        with sqlite3.connect(web.site / "newsletter.db") as db:
            db.execute("UPDATE pending_subscriptions SET expires_at = '2020-01-01T00:00:00Z'")
        expired = client.get(link)
        expired_post = client.post(link)
        subscribe(client, "someone.else@example.org")  # a request forgets what expired
    answers = [unknown, malformed, expired, expired_post]
    assert {answer.status_code for answer in answers} == {404}
    assert len({answer.text for answer in [unknown, expired, expired_post]}) == 1
    assert "This link is not valid" in unknown.text and "此链接无效" in unknown.text
    assert ledger(web.site, "SELECT 1 FROM subscribers WHERE email = 'late@example.org'") == []
    assert pending_emails(web) == ["someone.else@example.org"]


def test_a_form_without_a_good_token_is_refused_and_nothing_is_sent(web: Web) -> None:
    with web.client() as client:
        token = form_token(client)
        issued, _, signature = token.partition(".")
        data = {"email": "victim@example.org", "name": "", "lang": "en", "website": ""}
        missing = client.post("/subscribe", data=data)
        forged = client.post("/subscribe", data={**data, "csrf": f"{issued}.{'0' * 40}"})
        redated = client.post("/subscribe", data={**data, "csrf": f"{int(issued) - 9}.{signature}"})
        with Store.open(web.site / "newsletter.db") as store:  # made here, 2 h and 1 min ago
            stale = signup.form_token(store, at=time.time() - signup.FORM_MAX_AGE - 60)
        old = client.post("/subscribe", data={**data, "csrf": stale})
    for refused in (missing, forged, redated, old):
        assert refused.status_code == 400
        assert "Please fill in the form again" in refused.text and "请重新填写表单" in refused.text
        assert f'href="{web.base}/subscribe"' in refused.text
    assert (pending_emails(web), outbox_recipients(web)) == ([], [])


def test_a_filled_honeypot_gets_the_usual_answer_and_no_mail(web: Web) -> None:
    with web.client() as client:
        bot = subscribe(client, "bot@example.org", website="https://spam.example")
        person = subscribe(client, "person@example.org")
    assert (bot.status_code, bot.text) == (person.status_code, person.text)
    confirmation_to(web, "person@example.org")
    assert outbox_recipients(web) == ["person@example.org"]
    assert pending_emails(web) == ["person@example.org"]


def test_bad_fields_show_the_form_again_with_what_to_fix(web: Web) -> None:
    with web.client() as client:
        bad = subscribe(client, "not an address", "Li", "zh")
        long_name = subscribe(client, "ok@example.org", "x" * 101)
        long_address = subscribe(client, "a" * 300 + "@example.org")
    assert [r.status_code for r in (bad, long_name, long_address)] == [400, 400, 400]
    assert "not a valid email address" in bad.text and "不是有效的邮箱地址" in bad.text
    assert 'value="not an address"' in bad.text and 'value="Li"' in bad.text
    assert '<option value="zh" selected>' in bad.text and CSRF.search(bad.text)
    assert "at most 100 characters" in long_name.text
    assert "Please enter your email address" in long_address.text
    assert (pending_emails(web), outbox_recipients(web)) == ([], [])


def test_the_limit_per_client_holds_across_worker_processes(
    workspace: Path, server: SmtpServer
) -> None:
    with serving(workspace, server, "signups_per_client_per_hour = 3", workers=2) as web:
        answers = []
        for number in range(5):
            with web.client() as client:  # a new connection each time: any worker answers
                answers.append(subscribe(client, f"reader{number}@example.org"))
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    limited = answers[-1]
    assert "Too many requests" in limited.text and "请求过于频繁" in limited.text
    assert "try again in" in limited.text and limited.headers["cache-control"] == "no-store"
    assert 0 < int(limited.headers["retry-after"]) <= 3600
    assert pending_emails(web) == [f"reader{number}@example.org" for number in range(3)]


def test_the_hourly_confirmation_limit_answers_alike_for_every_address(
    workspace: Path, server: SmtpServer
) -> None:
    settings = "signups_per_client_per_hour = 100\nconfirmations_per_hour = 2"
    with serving(workspace, server, settings) as web, web.client() as client:
        first = [subscribe(client, email) for email in ("a@example.org", "b@example.org")]
        new = subscribe(client, "c@example.org")
        active = subscribe(client, "li.wei@example.org")
        confirmation_to(web, "b@example.org")
    assert [answer.status_code for answer in first] == [200, 200]
    assert (new.status_code, new.text) == (active.status_code, active.text)
    assert new.status_code == 429 and "Too many sign-ups right now" in new.text
    assert outbox_recipients(web) == ["a@example.org", "b@example.org"]


def test_the_hourly_limit_counts_every_request_so_it_tells_nothing_of_an_address(
    workspace: Path, server: SmtpServer
) -> None:
    """The probe: fill the limit to one short, ask for an address, then for a fresh
    one. Were only the requests that mailed counted, the last answer would say
    whether the address was mailed; every request counts, so it is 429 for any."""
    settings = "signups_per_client_per_hour = 100\nconfirmations_per_hour = 3"
    with serving(workspace, server, settings) as web, web.client() as client:
        filler = [subscribe(client, f"filler{n}@example.org") for n in range(2)]
        probe = subscribe(client, "li.wei@example.org")  # active: nobody is mailed
        fresh = subscribe(client, "fresh@example.org")
        confirmation_to(web, "filler1@example.org")
    assert [answer.status_code for answer in (*filler, probe)] == [200, 200, 200]
    assert fresh.status_code == 429 and "Too many sign-ups right now" in fresh.text
    assert outbox_recipients(web) == ["filler0@example.org", "filler1@example.org"]
    assert pending_emails(web) == ["filler0@example.org", "filler1@example.org"]


def test_every_kind_of_address_gets_the_same_answer(roomy: Web) -> None:
    web = roomy
    with Store.open(web.site / "newsletter.db") as store:
        ann = subscribers.find(store, "ann@example.org")
        assert ann is not None
        subscribers.unsubscribe(store, ann.token)
        subscribers.remove(store, "bob@example.org")
        dead = subscribers.add(store, "dead@example.org")
        with store.transaction() as db:
            subscriber_rows.set_bounced(db, dead.id)
    with web.client() as client:
        subscribe(client, "waiting@example.org")
        kinds = {
            "new": "new@example.org",
            "pending": "waiting@example.org",
            "active": "li.wei@example.org",
            "unsubscribed": "ann@example.org",
            "bounced": "dead@example.org",
            "removed": "bob@example.org",
        }
        answers = {kind: subscribe(client, email, "X", "en") for kind, email in kinds.items()}
    assert {answer.status_code for answer in answers.values()} == {200}
    assert len({answer.text for answer in answers.values()}) == 1
    heads = [{k: v for k, v in a.headers.items() if k != "date"} for a in answers.values()]
    assert all(head == heads[0] for head in heads)
    confirmation_to(web, "new@example.org")
    confirmation_to(web, "dead@example.org")  # back only by confirming, as a new address
    back = link_in(confirmation_to(web, "ann@example.org"))
    wait_until(lambda: outbox_done(web), timeout=20)  # so no other message is on its way
    assert outbox_recipients(web) == [
        "waiting@example.org",
        "new@example.org",
        "ann@example.org",
        "dead@example.org",
    ]
    assert web.smtp.handler.count() == {
        "waiting@example.org": 1,
        "new@example.org": 1,
        "ann@example.org": 1,
        "dead@example.org": 1,
    }
    assert pending_emails(web) == [
        "waiting@example.org",
        "new@example.org",
        "ann@example.org",
        "dead@example.org",
    ]
    status = "SELECT status, lang FROM subscribers WHERE email = 'ann@example.org'"
    assert ledger(web.site, status) == [("unsubscribed", "en")]  # until she confirms
    with web.client() as client:
        assert client.post(back).status_code == 200
    assert ledger(web.site, status) == [("active", "en")]
    assert ledger(web.site, "SELECT 1 FROM subscribers WHERE email = 'bob@example.org'") == []
