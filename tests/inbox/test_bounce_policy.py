"""The bounce policy across issues: which issue a bounce is about, the soft-bounce
count and what resets it, and a refusal at send time counted as a bounce.

Every issue here is composed and sent for real (aiosmtpd on 127.0.0.1); the bounces
are our fixture mails read from a Maildir by `newsletter inbox`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.compose import compose
from newsletter.config import load_config
from tests.helpers import add_digest, ledger, make_site, message_id_for, tokens
from tests.inbox.mails import fixture_mail, status_of
from tests.inbox.test_inbox import maildir, run
from tests.smtpd import SmtpServer

ANN, BOB = "ann@example.org", "bob@example.org"
PEOPLE = [(ANN, "Ann", "en"), (BOB, "Bob", "zh")]


def send_issues(site: Path, last: int) -> None:
    """Compose and send issues 2..`last` (issue 1, the sample, is composed already)."""
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    for number in range(2, last + 1):
        add_digest(site, f"week-{number}.md", f"2501.{number:05d}")
        compose(load_config(), date=dt.date(2024, 7, 15) + dt.timedelta(weeks=number - 1))
        result = CliRunner().invoke(cli, ["send"])
        assert result.exit_code == 0, result.output


def soft_limit_of_two(workspace: Path, server: SmtpServer) -> Path:
    """ann and Bob on the list, and two soft bounces in a row marking an address bounced."""
    site = make_site(workspace, server.port, PEOPLE)
    with (site / "newsletter.toml").open("a") as config:
        config.write("[bounces]\nsoft_limit = 2\n")
    return site


def bounce_for(site: Path, name: str, issue: int, n: int = 1) -> dict[str, object]:
    """`newsletter inbox` on one fixture mail about ann that quotes the Message-ID of
    her copy of `issue` (or, for an issue she was never sent, a made-up one)."""
    sent = ledger(site, "SELECT 1 FROM deliveries WHERE issue = ?", issue)
    message_id = message_id_for(site, issue, ANN) if sent else "<made0up0tag@example.org>"
    mail = fixture_mail(name, tokens(site)[ANN], ANN, n=n, message_id=message_id)
    return run("--maildir", str(maildir(site / f"Maildir-{issue}-{n}", mail)))


def events(site: Path) -> list[tuple[object, ...]]:
    return ledger(site, "SELECT issue, kind, status FROM bounce_events ORDER BY id")


@pytest.mark.parametrize("name", ["dsn-hard-5.1.1.eml", "qmail-hard.eml", "arf-abuse.eml"])
def test_a_bounce_counts_against_the_issue_its_message_id_names(
    workspace: Path, server: SmtpServer, name: str
) -> None:
    site = make_site(workspace, server.port, PEOPLE)
    send_issues(site, 3)
    bounce_for(site, name, issue=2)
    [(issue, _, _)] = events(site)
    assert issue == 2  # not 3, the latest ann was sent
    issues = json.loads(CliRunner().invoke(cli, ["status", "--json"]).stdout)["issues"]
    returned = {i["number"]: sum(i["returns"][k] for k in ("hard", "complaint")) for i in issues}
    assert returned == {1: 0, 2: 1, 3: 0}


def test_a_message_id_of_an_issue_never_sent_to_them_falls_back_to_their_latest(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, PEOPLE)
    send_issues(site, 2)
    bounce_for(site, "dsn-hard-5.1.1.eml", issue=9)
    assert events(site) == [(2, "hard", "5.1.1")]


def test_a_clean_issue_in_between_resets_the_soft_bounce_count(
    workspace: Path, server: SmtpServer
) -> None:
    site = soft_limit_of_two(workspace, server)
    send_issues(site, 4)
    [first] = bounce_for(site, "dsn-soft-4.2.2.eml", issue=1)["actions"]  # type: ignore[misc]
    assert first["effect"] == "soft bounce 1 of 2 in a row"
    # Issue 2 went through with no bounce back: issue 3's soft bounce starts again at 1.
    [third] = bounce_for(site, "dsn-soft-4.2.2.eml", issue=3)["actions"]  # type: ignore[misc]
    assert third["effect"] == "soft bounce 1 of 2 in a row"
    assert status_of(site)[ANN] == "active"
    # A second warning about issue 3 is the same bounce, not another in the row.
    [again] = bounce_for(site, "dsn-soft-4.2.2.eml", issue=3, n=2)["actions"]  # type: ignore[misc]
    assert again["effect"] == "soft bounce 1 of 2 in a row"
    [fourth] = bounce_for(site, "dsn-soft-4.2.2.eml", issue=4)["actions"]  # type: ignore[misc]
    assert fourth["effect"] == "soft bounce 2 of 2 in a row: marked bounced"
    assert status_of(site) == {ANN: "bounced", BOB: "active"}


def test_a_later_issue_already_sent_does_not_reset_a_late_soft_bounce(
    workspace: Path, server: SmtpServer
) -> None:
    """Issue 3 went out before issue 2's warning came back: its own bounce may be on
    its way, so it is no proof that the mailbox works again."""
    site = soft_limit_of_two(workspace, server)
    send_issues(site, 3)
    bounce_for(site, "dsn-soft-4.2.2.eml", issue=1)
    [late] = bounce_for(site, "dsn-soft-4.2.2.eml", issue=2)["actions"]  # type: ignore[misc]
    assert late["effect"] == "soft bounce 2 of 2 in a row: marked bounced"


def test_a_mailbox_refused_at_send_time_is_a_hard_bounce(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, PEOPLE)
    server.handler.replies[ANN] = ["550 5.1.1 <ann@example.org>: no such user"]
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output  # list hygiene, not an operator error
    assert status_of(site) == {ANN: "bounced", BOB: "active"}
    [(issue, kind, status)] = events(site)
    assert (issue, kind, status) == (1, "hard", "5.1.1")
    [(diagnostic,)] = ledger(site, "SELECT diagnostic FROM bounce_events")
    assert diagnostic == "at send time: 550 5.1.1 <ann@example.org>: no such user"
    add_digest(site, "week-2.md", "2501.00002")
    compose(load_config(), date=dt.date(2024, 7, 22))
    server.handler.received.clear()
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    assert {r.recipient for r in server.handler.received} == {BOB}
    text = CliRunner().invoke(cli, ["status"]).stdout
    assert "bounced 1 hard, 0 soft (50.0%)" in text


def test_a_full_mailbox_at_send_time_is_a_soft_bounce_in_the_row(
    workspace: Path, server: SmtpServer
) -> None:
    site = soft_limit_of_two(workspace, server)
    server.handler.replies[ANN] = ["552 5.2.2 mailbox full"]
    send_issues(site, 2)
    assert events(site) == [(1, "soft", "5.2.2"), (2, "soft", "5.2.2")]
    assert status_of(site) == {ANN: "bounced", BOB: "active"}


def test_a_refusal_about_us_at_send_time_counts_against_no_one(
    workspace: Path, server: SmtpServer
) -> None:
    """A blocklisted sending IP refused at RCPT: the server's problem with us, not ann's
    mailbox. She stays on the list, and status names the domain and why."""
    site = make_site(workspace, server.port, PEOPLE)
    server.handler.replies[ANN] = [
        "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"
    ]
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    assert status_of(site) == {ANN: "active", BOB: "active"}
    assert ledger(site, "SELECT kind, reason, domain FROM bounce_events") == [
        ("refused", "blocked", "example.org")
    ]
    state = json.loads(CliRunner().invoke(cli, ["status", "--json"]).stdout)
    assert state["refusals"] == [
        {"domain": "example.org", "count": 1, "reason": "blocked", "status": "5.7.1"}
    ]
    text = CliRunner().invoke(cli, ["status"]).stdout
    assert (
        "  example.org: 1 refusal, your sending IP or domain is on a blocklist or has a bad "
        "reputation (5.7.1)"
    ) in text


def test_inbox_reports_refusals_by_receiving_domain(workspace: Path, server: SmtpServer) -> None:
    """Two receivers refused us for a blocklist: one line for their domain, after the
    line of each mail, and no one taken off the list."""
    site = make_site(workspace, server.port, PEOPLE)
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    said = b"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"
    mails = [
        fixture_mail("dsn-hard-5.1.1.eml", tokens(site)[who], who, n=n)
        .replace(b"550 5.1.1", said)
        .replace(b"Status: 5.1.1", b"Status: 5.7.1")
        for n, who in enumerate((ANN, BOB))
    ]
    result = CliRunner().invoke(cli, ["inbox", "--maildir", str(maildir(site / "Maildir", *mails))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{ANN}: blocked 5.7.1 (refused, by verp): counted a refusal")
    assert lines[-1] == (
        "example.org: 2 refusals, your sending IP or domain is on a blocklist or has a bad "
        "reputation (5.7.1)"
    )
    assert result.stderr == "handled: 2 refused us\n"
    assert status_of(site) == {ANN: "active", BOB: "active"}


def test_a_mail_to_her_verp_address_that_says_nothing_usable_is_left_naming_her(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, PEOPLE)
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    odd = (
        f"From: robot@mx.example.net\r\nTo: bounces+{tokens(site)[ANN]}@example.org\r\n"
        "Subject: your mail\r\n\r\nWe got something from you. Regards.\r\n"
    ).encode()
    [action] = run("--maildir", str(maildir(site / "Maildir", odd)))["actions"]  # type: ignore[misc]
    assert (action["subscriber"], action["proof"]) == (ANN, "verp")
    assert (action["reason"], action["effect"]) == ("unrecognised", "left for a person")
    assert status_of(site) == {ANN: "active", BOB: "active"}
