"""The return path on the corpus of tests/data/bounces/ (real formats from many MTAs
and providers, each fixture with the reason and verdict a correct reader finds).

Each fixture is read twice: by `classify` alone (its reason, verdict and status),
and by `newsletter inbox` against a store that really sent issue 1 to every
subscriber the corpus names (aiosmtpd on 127.0.0.1), with the fixture carrying the
subscriber's real token and the real Message-ID of their copy: the fixture's
proof must tie it to them, and its verdict must do what it says to them. The same
fixture with its token and Message-ID made up must change nobody.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.inbox.classify import classify
from tests.helpers import ledger, make_site, tokens
from tests.inbox.corpus import Fixture, fixtures
from tests.smtpd import SmtpServer

FIXTURES = fixtures()
STATUS_AFTER = {"dead": "bounced", "complaint": "unsubscribed", "unsubscribe": "unsubscribed"}
MADE_UP_TOKEN = "Zz9Zz9Zz9Zz9Zz9Zz9Zz9Z"
MADE_UP_MESSAGE_ID = "<0f1e2d3c4b5a69788796a5b4c3d2e1f0@news.example.org>"


@dataclass(frozen=True)
class SentSite:
    """A workspace that sent issue 1 to every corpus address."""

    folder: Path
    tokens: dict[str, str]
    message_ids: dict[str, str]


@pytest.fixture(scope="module")
def sent_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentSite]:
    folder = tmp_path_factory.mktemp("corpus-site")
    people = sorted({(f.address.lower(), "", "en") for f in FIXTURES})
    with pytest.MonkeyPatch.context() as patch, SmtpServer() as server:
        patch.chdir(folder)
        patch.setenv("NEWSLETTER_ARXIV_ENRICH", "0")
        patch.delenv("NEWSLETTER_CONFIG", raising=False)
        make_site(folder, server.port, people)
        with (folder / "newsletter.toml").open("a") as config:
            config.write('[bounces]\naddress = "bounces+{token}@news.example.org"\n')
        result = CliRunner().invoke(cli, ["send"])
        assert result.exit_code == 0, result.output
        ids = {item.recipient: str(item.message["Message-ID"]) for item in server.handler.received}
        yield SentSite(folder, tokens(folder), ids)


def copy_site(site: SentSite, workspace: Path) -> None:
    for name in ("newsletter.toml", "newsletter.db"):
        shutil.copy(site.folder / name, workspace / name)


def inbox_on(workspace: Path, raw: bytes) -> dict[str, object]:
    box = mailbox.Maildir(workspace / "Maildir")
    box.add(raw)
    result = CliRunner().invoke(cli, ["inbox", "--maildir", str(workspace / "Maildir"), "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.file for f in FIXTURES])
def test_each_fixture_gets_its_reason_and_verdict(fixture: Fixture) -> None:
    raw = fixture.mail(MADE_UP_TOKEN, MADE_UP_MESSAGE_ID)
    reading = classify(email.message_from_bytes(raw, policy=email.policy.compat32))
    assert (reading.reason, reading.verdict) == (fixture.reason, fixture.verdict)
    if fixture.status:
        assert reading.status == fixture.status


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.file for f in FIXTURES])
def test_each_fixture_acts_on_its_proven_subscriber(
    sent_site: SentSite, workspace: Path, fixture: Fixture
) -> None:
    copy_site(sent_site, workspace)
    address = fixture.address.lower()
    raw = fixture.mail(sent_site.tokens[address], sent_site.message_ids[address])
    [action] = inbox_on(workspace, raw)["actions"]  # type: ignore[misc]
    assert (action["reason"], action["verdict"]) == (fixture.reason, fixture.verdict)
    [(status,)] = ledger(workspace, "SELECT status FROM subscribers WHERE email = ?", address)
    if fixture.proof == "none" or fixture.verdict in ("none", "unknown"):
        assert status == "active"
        return
    assert (action["subscriber"], action["proof"]) == (address, fixture.proof)
    assert status == STATUS_AFTER.get(fixture.verdict, "active")


@pytest.mark.parametrize(
    "fixture",
    [f for f in FIXTURES if f.verdict not in ("none", "unknown")],
    ids=lambda f: f.file,
)
def test_the_same_mail_with_made_up_proof_changes_nobody(
    sent_site: SentSite, workspace: Path, fixture: Fixture
) -> None:
    copy_site(sent_site, workspace)
    [action] = inbox_on(workspace, fixture.mail(MADE_UP_TOKEN, MADE_UP_MESSAGE_ID))["actions"]  # type: ignore[misc]
    assert action["effect"] == "unverified: left for a person"
    assert action["subscriber"] == ""
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert ledger(workspace, "SELECT DISTINCT status FROM subscribers") == [("active",)]
