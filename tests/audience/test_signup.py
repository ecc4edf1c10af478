"""Subscribing with double opt-in, the library: what a request does for each kind of
address, confirming, expiry, form tokens and the limits (real SQLite in tmp_path)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.audience import signup, subscribers
from newsletter.cli import cli
from newsletter.config import Config, load_config
from newsletter.store import Store, bounces, pending
from newsletter.store import subscribers as subscriber_rows
from newsletter.store.deliveries import start
from newsletter.store.pending import Pending
from tests.helpers import write_config

T0 = dt.datetime(2024, 7, 15, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def config(workspace: Path) -> Config:
    write_config(workspace, "[web]\nconfirmations_per_hour = 50\nsignups_per_client_per_hour = 3\n")
    return load_config()


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.database_path) as opened:
        yield opened


def queued(store: Store) -> list[tuple[str, str, str]]:
    """(recipient, kind, text) of every outbox row, oldest first."""
    rows = store.db.execute("SELECT recipient, kind, text_body FROM outbox ORDER BY id")
    return [tuple(row) for row in rows]  # type: ignore[misc]


def link_token(text: str) -> str:
    found = re.search(r"/confirm/([A-Za-z0-9]+)", text)
    assert found is not None
    return found.group(1)


def ask(store: Store, config: Config, email: str, at: dt.datetime = T0, **form: str) -> str:
    address, name, lang = signup.clean(email, form.get("name", ""), form.get("lang", ""))
    return signup.request(store, config, address, name, lang, at=at).status


def test_a_new_address_is_pending_and_mailed_a_bilingual_link(store: Store, config: Config) -> None:
    assert ask(store, config, " New.Reader@Example.org ", name="新读者", lang="zh") == "mailed"
    assert subscribers.find(store, "new.reader@example.org") is None  # not on the list
    [waiting] = _pending_at(store, T0)
    assert (waiting.email, waiting.name, waiting.lang, waiting.mails) == (
        "New.Reader@example.org",
        "新读者",
        "zh",
        1,
    )
    assert waiting.expires_at == "2024-07-22T08:30:00Z"  # web.confirm_days = 7
    [(recipient, kind, text)] = queued(store)
    assert (recipient, kind) == ("New.Reader@example.org", "confirm")
    assert "https://digest.example.org/confirm/" in text
    assert "Please confirm your subscription" in text and "请确认您的订阅" in text
    token = link_token(text)
    stored = store.db.execute("SELECT token_sha256 FROM pending_subscriptions").fetchone()[0]
    assert token not in stored and len(stored) == 64  # only a hash of the token is kept


def _pending_at(store: Store, at: dt.datetime) -> list[Pending]:
    return pending.listing(store.db, at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_confirming_puts_the_address_on_the_list_with_its_name_and_edition(
    store: Store, config: Config
) -> None:
    ask(store, config, "li@example.org", name="Li", lang="en")
    token = link_token(queued(store)[0][2])
    assert signup.confirmation(store, token, at=T0) is not None  # looking changes nothing
    assert signup.confirmation(store, token, at=T0) is not None
    assert subscribers.find(store, "li@example.org") is None
    joined = signup.confirm(store, token, at=T0 + dt.timedelta(days=6))
    assert joined is not None
    assert (joined.email, joined.name, joined.lang, joined.status) == (
        "li@example.org",
        "Li",
        "en",
        "active",
    )
    assert _pending_at(store, T0) == []
    with pytest.raises(signup.AlreadyConfirmed):  # used: known as such until it expires
        signup.confirm(store, token, at=T0 + dt.timedelta(days=6))
    used = signup.confirmation(store, token, at=T0)
    assert used is not None and used.status == "confirmed"
    assert signup.confirmation(store, token, at=T0 + dt.timedelta(days=8)) is None  # expired
    with store.transaction() as db:  # the next send's audience includes them
        start(db, _an_issue(db))
    assert store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1


def _an_issue(db: sqlite3.Connection) -> int:
    db.execute("INSERT INTO issues (number, date, subject, folder) VALUES (1, 'd', 's', 'f')")
    return 1


def test_a_pending_address_gets_no_issue(store: Store, config: Config) -> None:
    subscribers.add(store, "reader@example.org")
    ask(store, config, "waiting@example.org")
    with store.transaction() as db:
        start(db, _an_issue(db))
    rows = store.db.execute(
        "SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber"
    ).fetchall()
    assert [row[0] for row in rows] == ["reader@example.org"]


def test_each_kind_of_address_and_what_is_mailed(store: Store, config: Config) -> None:
    subscribers.add(store, "active@example.org")
    gone = subscribers.add(store, "left@example.org", lang="en")
    subscribers.unsubscribe(store, gone.token)
    subscribers.add(store, "removed@example.org")
    subscribers.remove(store, "removed@example.org")
    dead = subscribers.add(store, "dead@example.org")
    with store.transaction() as db:
        subscriber_rows.set_bounced(db, dead.id)
    ask(store, config, "pending@example.org")
    expected = {
        "new@example.org": "mailed",
        "pending@example.org": "pending",
        "active@example.org": "active",
        "left@example.org": "mailed",
        "removed@example.org": "suppressed",
        "dead@example.org": "mailed",
    }
    later = T0 + dt.timedelta(minutes=1)
    assert {email: ask(store, config, email, at=later) for email in expected} == expected
    mailed = ["pending@example.org", "new@example.org", "left@example.org", "dead@example.org"]
    assert [row[0] for row in queued(store)] == mailed
    # What was not mailed left no row behind: its writes were undone.
    assert [p.email for p in _pending_at(store, T0)] == mailed
    assert _pending_at(store, T0)[0].mails == 1
    # Who unsubscribed stays unsubscribed until they confirm; then they are back.
    assert subscribers.find(store, "left@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    back = signup.confirm(store, link_token(queued(store)[2][2]), at=T0)
    assert back is not None and (back.status, back.lang) == ("active", "bilingual")


def test_a_pending_address_is_mailed_again_later_with_a_new_link_and_not_too_often(
    store: Store, config: Config
) -> None:
    ask(store, config, "p@example.org", lang="en")
    assert ask(store, config, "p@example.org", at=T0 + dt.timedelta(minutes=5)) == "pending"
    later = T0 + signup.RESEND_AFTER
    assert ask(store, config, "p@example.org", at=later, lang="zh") == "mailed"
    first, second = (link_token(text) for _, _, text in queued(store))
    assert signup.confirmation(store, first, at=later) is None  # only the newest link works
    waiting = signup.confirmation(store, second, at=later)
    assert waiting is not None and (waiting.lang, waiting.mails) == ("zh", 2)
    assert ask(store, config, "p@example.org", at=later + signup.RESEND_AFTER) == "mailed"
    assert ask(store, config, "p@example.org", at=T0 + dt.timedelta(days=1)) == "pending"
    assert len(queued(store)) == signup.MAX_MAILS


def test_an_expired_subscription_cannot_be_confirmed_and_is_forgotten(
    store: Store, config: Config
) -> None:
    ask(store, config, "slow@example.org")
    token = link_token(queued(store)[0][2])
    late = T0 + dt.timedelta(days=config.web.confirm_days, seconds=1)
    assert signup.confirmation(store, token, at=late) is None
    assert signup.confirm(store, token, at=late) is None
    assert subscribers.find(store, "slow@example.org") is None
    assert signup.purge_expired(store, at=late) == 1
    assert store.db.execute("SELECT count(*) FROM pending_subscriptions").fetchone()[0] == 0
    assert ask(store, config, "slow@example.org", at=late) == "mailed"  # asking again works


def test_an_address_removed_while_pending_cannot_confirm(store: Store, config: Config) -> None:
    subscribers.add(store, "x@example.org")
    subscribers.unsubscribe(store, subscribers.find(store, "x@example.org").token)  # type: ignore[union-attr]
    ask(store, config, "x@example.org")
    token = link_token(queued(store)[0][2])
    subscribers.remove(store, "x@example.org")
    assert queued(store) == []  # the confirmation, link and address, is gone too
    assert signup.confirm(store, token, at=T0) is None
    assert subscribers.find(store, "x@example.org") is None
    assert _pending_at(store, T0) == []


@pytest.mark.parametrize("token", ["", "short", "a" * 200, "../../etc", "abc def ghi jkl mno pq"])
def test_malformed_confirmation_tokens_are_unknown(store: Store, token: str) -> None:
    assert signup.confirmation(store, token) is None
    assert signup.confirm(store, token) is None


@pytest.mark.parametrize(
    ("email", "name", "lang", "field"),
    [
        ("", "", "", "email"),
        ("not-an-address", "", "", "email"),
        ("a" * 250 + "@example.org", "", "", "email"),
        ("a@example.org", "x" * 101, "", "name"),
        ("a@example.org", "Eve\r\nBcc: all@example.org", "", "name"),
        ("a@example.org", "", "fr", "lang"),
    ],
)
def test_bad_fields_are_named(email: str, name: str, lang: str, field: str) -> None:
    with pytest.raises(signup.SignupProblem) as caught:
        signup.clean(email, name, lang)
    assert caught.value.field == field
    assert "·" in str(caught.value)  # both languages


def test_form_tokens_are_signed_and_expire(store: Store) -> None:
    assert signup.FORM_MAX_AGE <= 2 * 3600  # one visit to the form, not a day of use
    now = T0.timestamp()
    token = signup.form_token(store, at=now)
    assert signup.form_token_valid(store, token, at=now + 60)
    assert signup.form_token_valid(store, token, at=now + signup.FORM_MAX_AGE)
    assert not signup.form_token_valid(store, token, at=now + signup.FORM_MAX_AGE + 1)
    assert not signup.form_token_valid(store, token, at=now - 3600)  # from the future
    issued, _, mac = token.partition(".")
    forged = [
        f"{int(issued) + 1}.{mac}",
        f"{issued}.{'0' * len(mac)}",
        issued,
        "",
        "x.y",
        f"{issued}.{mac}{mac}",
        "１２３.abc",
    ]
    for bad in forged:
        assert not signup.form_token_valid(store, bad, at=now), bad


def test_another_install_does_not_accept_our_tokens(store: Store, tmp_path: Path) -> None:
    token = signup.form_token(store)
    with Store.open(tmp_path / "other" / "newsletter.db") as other:
        assert not signup.form_token_valid(other, token)


def test_the_limit_per_client_counts_per_hour_and_an_ipv6_client_by_its_64(
    store: Store, config: Config
) -> None:
    for _ in range(3):
        signup.count_client(store, config, "203.0.113.7", at=T0)
    with pytest.raises(signup.Limited) as caught:
        signup.count_client(store, config, "203.0.113.7", at=T0)
    assert caught.value.reason == "client" and caught.value.retry_after == 30 * 60
    signup.count_client(store, config, "203.0.113.8", at=T0)  # another client
    signup.count_client(store, config, "203.0.113.7", at=T0 + dt.timedelta(minutes=30))  # next hour
    for suffix in ("1", "2", "ffff:1"):
        signup.count_client(store, config, f"2001:db8:1:2::{suffix}", at=T0)
    with pytest.raises(signup.Limited):
        signup.count_client(store, config, "2001:db8:1:2:aaaa::9", at=T0)
    names = [row[0] for row in store.db.execute("SELECT name FROM rate_counters")]
    assert not any("203.0.113" in name or "2001" in name for name in names)  # hashed


def test_the_hourly_confirmation_limit_answers_alike_for_every_address(
    workspace: Path,
) -> None:
    write_config(workspace, "[web]\nconfirmations_per_hour = 3\n")
    config = load_config()
    with Store.open(config.database_path) as store:
        subscribers.add(store, "active@example.org")
        assert ask(store, config, "a@example.org") == "mailed"
        assert ask(store, config, "b@example.org") == "mailed"
        assert ask(store, config, "active@example.org") == "active"  # counted all the same
        for email in ("c@example.org", "active@example.org", "a@example.org"):
            with pytest.raises(signup.Limited) as caught:
                ask(store, config, email)
            assert caught.value.reason == "busy"
        assert ask(store, config, "c@example.org", at=T0 + dt.timedelta(hours=1)) == "mailed"
        assert len(queued(store)) == 3


def test_after_a_bounce_or_a_complaint_coming_back_needs_a_confirmation(
    store: Store, config: Config
) -> None:
    left, dead, loud = (
        subscribers.add(store, f"{who}@example.org") for who in ("left", "dead", "loud")
    )
    subscribers.unsubscribe(store, left.token)
    with store.transaction() as db:
        subscriber_rows.set_bounced(db, dead.id)
        bounces.record(
            db, bounces.Event(loud.id, None, "complaint", "abuse", "example.org", "verp", "", "")
        )
        subscriber_rows.set_unsubscribed(db, loud.id)
    found = {who.email: subscribers.find(store, who.email) for who in (left, dead, loud)}
    assert {
        email: signup.needs_confirmation(store, who)
        for email, who in found.items()
        if who is not None
    } == {"left@example.org": False, "dead@example.org": True, "loud@example.org": True}


def test_subscribers_list_and_status_show_pending_sign_ups(store: Store, config: Config) -> None:
    subscribers.add(store, "on@example.org")
    signup.request(store, config, "waiting@example.org", "W", "en")
    runner = CliRunner()
    result = runner.invoke(cli, ["subscribers", "list", "--status", "pending", "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert (entry["email"], entry["status"], entry["lang"]) == (
        "waiting@example.org",
        "pending",
        "en",
    )
    assert "expires_at" in entry
    everyone = runner.invoke(cli, ["subscribers", "list"])
    assert everyone.exit_code == 0, everyone.output
    lines = everyone.stdout.splitlines()
    assert lines[0].startswith("on@example.org") and "active" in lines[0]
    assert lines[1].startswith("waiting@example.org") and "pending" in lines[1]
    active = runner.invoke(cli, ["subscribers", "list", "--status", "active"])
    assert "waiting@example.org" not in active.stdout
    state = json.loads(runner.invoke(cli, ["status", "--json"]).stdout)
    assert state["pending_confirmation"] == 1
    assert state["outbox"]["queued"] == 1
    assert state["subscribers"]["total"] == 1  # pending is not on the list
    text = runner.invoke(cli, ["status"]).stdout
    assert "Pending confirmation: 1" in text and "Outbox: queued 1" in text


def test_removing_a_pending_sign_up_deletes_its_link_and_keeps_the_address_off(
    workspace: Path,
) -> None:
    config = load_config()
    with Store.open(config.database_path) as store:
        signup.request(store, config, "later@example.org", "", "en")
        assert [p.email for p in signup.pending_listing(store)] == ["later@example.org"]
        assert subscribers.remove(store, "later@example.org") == "later@example.org"
        assert signup.pending_listing(store) == []
        assert subscribers.is_suppressed(store, "later@example.org")
        assert signup.request(store, config, "later@example.org", "", "en").status == "suppressed"
