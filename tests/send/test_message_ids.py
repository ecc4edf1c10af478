"""Message-IDs as a real SMTP server (aiosmtpd on 127.0.0.1) receives them: each
finds its delivery in the ledger, stays the same when the ledger sends it again,
and names neither the issue nor the subscriber."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.send import send
from newsletter.send.preview import dry_run
from newsletter.store import Store
from newsletter.store.deliveries import find_by_message_id
from tests.helpers import THREE, ledger, make_site, message_id_for
from tests.smtpd import SmtpServer

OURS = re.compile(r"<[a-z2-7]{26}@example\.org>")


def received_ids(server: SmtpServer) -> dict[str, str]:
    return {r.recipient: str(r.message["Message-ID"]) for r in server.handler.received}


def test_a_sent_message_id_finds_its_delivery(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, THREE)
    assert send(load_config()).sent == 3
    ids = dict(ledger(site, "SELECT email, id FROM subscribers"))
    found = received_ids(server)
    assert len(found) == 3 and len(set(found.values())) == 3
    with Store.open(load_config().database_path) as store:
        for address, message_id in found.items():
            assert OURS.fullmatch(message_id), message_id
            assert find_by_message_id(store.db, message_id) == (ids[address], 1)
            assert message_id_for(site, 1, address) == message_id


def test_a_message_sent_again_keeps_its_message_id(workspace: Path, server: SmtpServer) -> None:
    """What the ledger sends again after a crash (pending again, the issue sending)."""
    site = make_site(workspace, server.port, THREE)
    assert send(load_config()).sent == 3
    first = received_ids(server)
    server.handler.received.clear()
    with Store.open(site / "newsletter.db") as store, store.transaction() as db:
        db.execute("UPDATE deliveries SET status = 'pending', done_at = NULL")
        db.execute("UPDATE issues SET status = 'sending'")
    assert send(load_config()).sent == 3
    assert received_ids(server) == first


def test_the_samples_and_test_sends_carry_tags_that_find_nothing(
    workspace: Path, server: SmtpServer
) -> None:
    """The dry run's samples share one tag per issue (they are no one's); each test send
    (`send --to`, outside the ledger) gets a tag of its own."""
    site = make_site(workspace, server.port, THREE)
    samples = [Path(path).read_text() for path in dry_run(load_config()).samples]
    sample_ids = {re.search(r"^Message-ID: (\S+)", text, re.M).group(1) for text in samples}  # type: ignore[union-attr]
    for _ in range(2):
        result = CliRunner().invoke(cli, ["send", "--to", "editor@example.org"])
        assert result.exit_code == 0, result.output
    test_ids = {str(r.message["Message-ID"]) for r in server.handler.received}
    assert len(samples) == 3 and len(sample_ids) == 1 and len(test_ids) == 2
    with Store.open(site / "newsletter.db") as store:
        for message_id in sample_ids | test_ids:
            assert OURS.fullmatch(message_id), message_id
            assert find_by_message_id(store.db, message_id) is None
