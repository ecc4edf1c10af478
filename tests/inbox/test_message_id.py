"""A bounce's copy of our message: its genuine Message-ID (tests.helpers.message_id_for)
finds the delivery it is about, for each fixture mail that quotes one; the old
guessable form finds nothing."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.store import Store
from newsletter.store.deliveries import find_by_message_id
from tests.helpers import THREE, ledger, make_site, message_id_for, tokens
from tests.inbox.mails import fixture_mail
from tests.smtpd import SmtpServer

ANN = "ann@example.org"
QUOTED = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)


def quoted_ids(raw: bytes) -> list[str]:
    """The Message-IDs a bounce quotes, in its enclosed copy or its text."""
    found = []
    for part in email.message_from_bytes(raw, policy=email.policy.compat32).walk():
        if part.get_content_type() == "message/rfc822":
            found += [str(inner["Message-ID"]) for inner in part.get_payload()]
        elif part.get_content_maintype() == "text":
            text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
            found += QUOTED.findall(text)
    return found


@pytest.mark.parametrize(
    "name", ["dsn-hard-5.1.1.eml", "dsn-soft-4.2.2.eml", "qmail-hard.eml", "arf-abuse.eml"]
)
def test_a_bounce_quoting_our_message_id_finds_the_delivery(
    workspace: Path, server: SmtpServer, name: str
) -> None:
    site = make_site(workspace, server.port, THREE)
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    genuine = message_id_for(site, 1, ANN)
    [(ann,)] = ledger(site, "SELECT id FROM subscribers WHERE email = ?", ANN)
    with Store.open(site / "newsletter.db") as store:
        [quoted] = quoted_ids(fixture_mail(name, tokens(site)[ANN], ANN, message_id=genuine))
        assert quoted == genuine and find_by_message_id(store.db, quoted) == (ann, 1)
        [old] = quoted_ids(fixture_mail(name, tokens(site)[ANN], ANN, issue=1))
        assert old == "<issue-1.abc@example.org>" and find_by_message_id(store.db, old) is None
