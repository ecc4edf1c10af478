"""Message-ID tags: unguessable, stable, and found again from a bounce's copy.

Real SQLite files: two stores made apart, the ledger's own `start`, and a store
made at schema version 10 (before the tags) upgraded in place.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from newsletter.audience import subscribers
from newsletter.store import Store, deliveries, message_ids
from newsletter.store.db import migrate, schema_version
from newsletter.store.deliveries import find_by_message_id
from newsletter.store.message_ids import message_tag, read_key
from newsletter.store.migrations import MIGRATIONS

PEOPLE = ["ann@example.org", "bob@example.org", "cy@example.org"]


def started(path: Path, issues: int = 1) -> Store:
    """A store with PEOPLE subscribed and `issues` issues started (deliveries made)."""
    store = Store.open(path)
    for address in PEOPLE:
        subscribers.add(store, address)
    with store.transaction() as db:
        for number in range(1, issues + 1):
            db.execute(
                "INSERT INTO issues (number, date, subject, folder) VALUES (?, '', '', '')",
                (number,),
            )
            deliveries.start(db, number)
    return store


def tags(store: Store) -> dict[tuple[int, int], str]:
    rows = store.db.execute("SELECT issue, subscriber, message_tag FROM deliveries")
    return {(row[0], row[1]): row[2] for row in rows}


def test_each_delivery_has_its_own_tag_of_26_base32_letters(workspace: Path) -> None:
    with started(workspace / "newsletter.db", issues=2) as store:
        found = tags(store)
        key = read_key(store.db)
    assert len(found) == 6 and len(set(found.values())) == 6  # per subscriber and per issue
    for (issue, subscriber), tag in found.items():
        assert re.fullmatch(r"[a-z2-7]{26}", tag)
        assert tag == message_tag(key, issue, subscriber)  # the same on every retry


def test_two_databases_tag_the_same_issue_and_subscriber_differently(workspace: Path) -> None:
    """The tag is no function of (issue, subscriber) alone: without the key it cannot
    be made, and the ids it hides cannot be read out of it."""
    with started(workspace / "a.db") as one, started(workspace / "b.db") as other:
        first, second = tags(one), tags(other)
        assert read_key(one.db) != read_key(other.db)
    assert first.keys() == second.keys()
    assert all(first[key] != second[key] for key in first)


def test_the_tag_is_a_keyed_hash_of_issue_and_subscriber() -> None:
    key = "00" * 32
    assert message_tag(key, 1, 2) == message_tag(key, 1, 2)
    assert (
        len(
            {
                message_tag(key, 1, 2),
                message_tag(key, 2, 1),
                message_tag(key, 1, 3),
                message_tag("01" * 32, 1, 2),
            }
        )
        == 4
    )
    assert message_ids.random_tag() != message_ids.random_tag()
    assert re.fullmatch(r"[a-z2-7]{26}", message_ids.random_tag())


@pytest.mark.parametrize(
    "form",
    [
        "<{tag}@example.org>",
        "{tag}@example.org",
        "  <{tag}@EXAMPLE.Org>\r\n",
        "<{upper}@example.org>",
    ],
)
def test_a_message_id_finds_its_delivery_in_any_usual_form(workspace: Path, form: str) -> None:
    with started(workspace / "newsletter.db") as store:
        ann = subscribers.find(store, "ann@example.org")
        assert ann is not None
        tag = tags(store)[(1, ann.id)]
        message_id = form.format(tag=tag, upper=tag.upper())
        assert find_by_message_id(store.db, message_id) == (ann.id, 1)


@pytest.mark.parametrize(
    "message_id",
    [
        "<issue-1.1@example.org>",
        "<issue-1.2@example.org>",
        f"<{'a' * 26}@example.org>",
        "",
        "<>",
        "<@example.org>",
        "not a message id",
    ],
)
def test_anything_else_finds_nothing(workspace: Path, message_id: str) -> None:
    """The old `<issue-N.ID@…>` form is no proof any more; nor is a made-up tag."""
    with started(workspace / "newsletter.db") as store:
        assert find_by_message_id(store.db, message_id) is None


def test_a_removed_subscribers_message_id_finds_nobody(workspace: Path) -> None:
    with started(workspace / "newsletter.db") as store:
        ann = subscribers.find(store, "ann@example.org")
        assert ann is not None
        tag = tags(store)[(1, ann.id)]
        subscribers.remove(store, "ann@example.org")
        assert find_by_message_id(store.db, f"<{tag}@example.org>") is None


def test_migration_11_tags_the_deliveries_made_before_it(workspace: Path) -> None:
    path = workspace / "newsletter.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db, MIGRATIONS[:10])
    db.execute("INSERT INTO issues (number, date, subject, folder) VALUES (1, '', '', '')")
    db.executemany(
        "INSERT INTO subscribers (id, email, token) VALUES (?, ?, ?)",
        [(1, "ann@example.org", "legacy1"), (2, "bob@example.org", "legacy2")],
    )
    db.execute(
        "INSERT INTO deliveries (issue, subscriber, edition, status) "
        "VALUES (1, 1, 'en', 'sent'), (1, 2, 'zh', 'pending'), (1, NULL, 'en', 'sent')"
    )
    assert schema_version(db) == 10
    db.close()
    with Store.open(path) as store:
        assert schema_version(store.db) == len(MIGRATIONS) >= 11
        key = read_key(store.db)
        rows = store.db.execute(
            "SELECT issue, subscriber, message_tag FROM deliveries ORDER BY id"
        ).fetchall()
        assert [tuple(row) for row in rows] == [
            (1, 1, message_tag(key, 1, 1)),
            (1, 2, message_tag(key, 1, 2)),
            (1, None, None),
        ]
        assert find_by_message_id(store.db, f"<{message_tag(key, 1, 2)}@x.org>") == (2, 1)
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store.db.execute(
                "UPDATE deliveries SET message_tag = ? WHERE subscriber = 2",
                (message_tag(key, 1, 1),),
            )
        [pending] = deliveries.pending_active(store.db, 1)
        assert pending.message_tag == message_tag(key, 1, 2)  # a resumed send mails this tag
