"""Removal against the ledger: who is removed stays gone, and history keeps its counts.

Real SQLite files, sends to the real test SMTP server, `status --json` as the user
reads the counts.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.audience.subscribers import address_hash, find, remove
from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.send import send
from newsletter.store import Store, bounces, outbox
from newsletter.store import deliveries as ledger_rows
from newsletter.store.db import migrate, schema_version
from newsletter.store.migrations import MIGRATIONS
from tests.helpers import THREE, ledger, make_site
from tests.smtpd import SmtpServer


def delivery_counts(issue: int = 1) -> dict[str, int]:
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    [found] = [i for i in json.loads(result.stdout)["issues"] if i["number"] == issue]
    return dict(found["deliveries"])


def test_removing_someone_keeps_the_counts_of_issues_they_were_sent(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    assert send(load_config()).sent == 3
    removed = CliRunner().invoke(cli, ["subscribers", "remove", "ann@example.org"])
    assert removed.exit_code == 0, removed.output
    assert delivery_counts() == {"sent": 3, "failed": 0, "pending": 0, "skipped": 0}
    assert ledger(site, "SELECT count(*) FROM deliveries WHERE subscriber IS NULL") == [(1,)]
    assert ledger(site, "SELECT count(*) FROM subscribers") == [(2,)]


def test_removing_someone_during_a_send_skips_them_and_the_send_completes(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    config = load_config()
    with Store.open(config.database_path) as store:
        with store.transaction() as db:
            ledger_rows.start(db, 1)  # the audience is fixed: three pending
        remove(store, "bob@example.org")
    report = send(config)
    assert (report.sent, report.complete) == (2, True)
    assert server.handler.count() == {"li.wei@example.org": 1, "ann@example.org": 1}
    assert delivery_counts() == {"sent": 2, "failed": 0, "pending": 0, "skipped": 1}
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]


def test_a_failed_delivery_forgets_the_reply_that_quoted_the_address(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    server.handler.replies["bob@example.org"] = ["550 5.1.1 <bob@example.org>: no such user"]
    assert send(load_config()).failed == 1
    CliRunner().invoke(cli, ["subscribers", "remove", "bob@example.org"])
    assert delivery_counts() == {"sent": 2, "failed": 1, "pending": 0, "skipped": 0}
    assert ledger(site, "SELECT error FROM deliveries WHERE subscriber IS NULL") == [(None,)]


def test_removing_someone_erases_the_address_from_bounce_diagnostics(workspace: Path) -> None:
    """Their events stay (an issue's counts do not change) with no diagnostic; another
    event that quotes the address, in any case, loses its diagnostic too."""
    site = make_site(workspace, 1, THREE)
    events = [
        ("bob@example.org", "hard", "5.1.1", "smtp; 550 5.1.1 <bob@example.org>: no such user"),
        ("ann@example.org", "soft", "4.2.2", "forwarded to BOB@Example.org: mailbox full"),
        ("li.wei@example.org", "soft", "4.2.2", "smtp; 452 4.2.2 mailbox full"),
    ]
    with Store.open(load_config().database_path) as store:
        with store.transaction() as db:
            for n, (address, kind, status, diagnostic) in enumerate(events):
                person = find(store, address)
                assert person is not None
                event = bounces.Event(
                    person.id, 1, kind, "", "example.org", "verp", status, diagnostic, f"sha{n}"
                )
                bounces.record(db, event)
        remove(store, "Bob@example.org")
    rows = "SELECT subscriber IS NULL, kind, status, diagnostic FROM bounce_events ORDER BY id"
    assert ledger(site, rows) == [
        (1, "hard", "5.1.1", ""),
        (0, "soft", "4.2.2", ""),
        (0, "soft", "4.2.2", "smtp; 452 4.2.2 mailbox full"),
    ]


def test_removing_someone_deletes_their_outbox_messages(workspace: Path) -> None:
    """Sent or queued, a row to the address (any case) goes; others' rows stay."""
    site = make_site(workspace, 1, THREE)
    recipients = ["ANN@example.org", "bob@example.org", "ann@example.org"]
    with Store.open(load_config().database_path) as store:
        with store.transaction() as db:
            for n, recipient in enumerate(recipients):
                message = {
                    "kind": "confirm",
                    "recipient": recipient,
                    "recipient_name": "",
                    "subject": "s",
                    "text": "t",
                    "html": None,
                    "headers": {},
                    "message_id": f"<{n}@example.org>",
                    "give_up_at": None,
                }
                outbox.insert(db, now=0.0, **message)
            db.execute("UPDATE outbox SET status = 'sent', text_body = NULL WHERE id = 1")
        remove(store, "ann@example.org")
    assert ledger(site, "SELECT recipient FROM outbox") == [("bob@example.org",)]


def test_a_delivery_without_a_subscriber_can_never_be_pending(workspace: Path) -> None:
    with Store.open(workspace / "newsletter.db") as store:
        store.db.execute(
            "INSERT INTO issues (number, date, subject, folder) VALUES (1, '', '', '')"
        )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            store.db.execute(
                "INSERT INTO deliveries (issue, subscriber, edition) VALUES (1, NULL, 'en')"
            )


def test_migration_5_keeps_the_ledger_and_its_guarantees(workspace: Path) -> None:
    path = workspace / "newsletter.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db, MIGRATIONS[:4])
    db.execute("INSERT INTO issues (number, date, subject, folder) VALUES (1, '', '', '')")
    db.executemany(
        "INSERT INTO subscribers (id, email, token) VALUES (?, ?, ?)",
        [(1, "ann@example.org", "-legacy1"), (2, "bob@example.org", "legacy2")],
    )
    db.execute(
        "INSERT INTO deliveries (issue, subscriber, edition, status, attempts, done_at) "
        "VALUES (1, 1, 'en', 'sent', 1, 'T1'), (1, 2, 'zh', 'failed', 2, 'T2')"
    )
    db.close()
    with Store.open(path) as store:
        assert schema_version(store.db) == len(MIGRATIONS) >= 5
        rows = "SELECT issue, subscriber, edition, status, attempts, done_at FROM deliveries"
        assert [tuple(row) for row in store.db.execute(rows)] == [
            (1, 1, "en", "sent", 1, "T1"),
            (1, 2, "zh", "failed", 2, "T2"),
        ]
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store.db.execute(
                "INSERT INTO deliveries (issue, subscriber, edition) VALUES (1, 1, 'en')"
            )
        remove(store, "ann@example.org")
        counts = "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status"
        assert [tuple(row) for row in store.db.execute(counts)] == [("failed", 1), ("sent", 1)]
        found = store.db.execute("SELECT address_sha256 FROM suppressions").fetchall()
        assert [tuple(row) for row in found] == [(address_hash("ANN@example.org"),)]


def test_a_name_stored_with_cr_lf_is_sent_without_an_extra_header(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE[:1])
    with sqlite3.connect(site / "newsletter.db") as db:  # as an older release let in
        db.execute("UPDATE subscribers SET name = 'Evil' || char(13, 10) || 'Bcc: x@evil.example'")
    assert send(load_config()).sent == 1
    [received] = server.handler.received
    assert received.message["Bcc"] is None
    assert received.message["To"] == '"Evil Bcc: x@evil.example" <li.wei@example.org>'
