"""Forged return mail changes nobody: a bounce or complaint acts only with proof
that it answers a message we sent that subscriber (their VERP token, the Message-ID
of their copy, their token in the enclosed copy), never on an address it names.

Each forgery is what anyone who knows an address could send; each genuine mail
beside it carries the proof only we and the subscriber's server could have.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.helpers import ledger, make_site, tokens
from tests.inbox.mails import fixture_mail, status_of
from tests.inbox.test_inbox import maildir
from tests.smtpd import SmtpServer

ANN = "ann@example.org"
MADE_UP = "Zz9Zz9Zz9Zz9Zz9Zz9Zz9Z"


def inbox(site: Path, *mails: bytes) -> list[dict[str, str]]:
    box = maildir(site / "Maildir", *mails)
    result = CliRunner().invoke(cli, ["inbox", "--maildir", str(box), "--json"])
    assert result.exit_code == 0, result.output
    actions: list[dict[str, str]] = json.loads(result.stdout)["actions"]
    return actions


def to_the_from_address(raw: bytes) -> bytes:
    """The same bounce, sent back to the plain From address: no VERP token in it."""
    return raw.replace(b"bounces+" + MADE_UP.encode() + b"@", b"digest@")


FORGERIES = {
    "a DSN to the From address naming her": lambda: to_the_from_address(
        fixture_mail("dsn-hard-5.1.1.eml", MADE_UP, ANN)
    ),
    "a DSN to a VERP address with a made-up token": lambda: fixture_mail(
        "dsn-hard-5.1.1.eml", MADE_UP, ANN
    ),
    "a qmail-style text bounce naming her": lambda: fixture_mail("qmail-hard.eml", MADE_UP, ANN),
    "an ARF report whose enclosed copy names her": lambda: fixture_mail(
        "arf-abuse.eml", MADE_UP, ANN
    ).replace(b"To: redacted@isp.example.net", b"To: " + ANN.encode()),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_mail_changes_nobody(
    workspace: Path, people: dict[str, str], forge: Callable[[], bytes]
) -> None:
    [action] = inbox(workspace, forge())
    assert action["effect"] == "unverified: left for a person"
    assert ANN in action["named"]  # a person reading it sees whom it claims to be about
    assert status_of(workspace) == {ANN: "active", "bob@example.org": "active"}
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert len(list((workspace / "Maildir" / "new").iterdir())) == 1  # left for a person


def test_a_forged_message_id_of_the_old_sequential_form_is_no_proof(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, [(ANN, "Ann", "en")])
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    forged = fixture_mail("qmail-hard.eml", MADE_UP, ANN, issue=1)  # <issue-1.…@…>
    [action] = inbox(site, forged)
    assert action["effect"] == "unverified: left for a person"
    assert status_of(site) == {ANN: "active"}


@pytest.mark.parametrize(
    ("name", "proof", "status"),
    [
        ("dsn-hard-5.1.1.eml", "verp", "bounced"),
        ("qmail-hard.eml", "message_id", "bounced"),
        ("arf-abuse.eml", "verp", "unsubscribed"),  # its Original-Mail-From
        ("unsubscribe-reply.eml", "token", "unsubscribed"),
    ],
)
def test_genuine_mail_with_each_kind_of_proof_takes_effect(
    workspace: Path, server: SmtpServer, name: str, proof: str, status: str
) -> None:
    site = make_site(workspace, server.port, [(ANN, "Ann", "en")])
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    [sent] = server.handler.received
    message_id = str(sent.message["Message-ID"])
    token = tokens(site)[ANN] if proof != "message_id" else MADE_UP
    raw = fixture_mail(name, token, ANN, message_id=message_id)
    [action] = inbox(site, raw)
    assert (action["subscriber"], action["proof"]) == (ANN, proof)
    assert status_of(site) == {ANN: status}
