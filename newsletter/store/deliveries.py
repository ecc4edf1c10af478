"""The send ledger: one delivery per (issue, subscriber), made when a send starts.

A delivery is `pending` until the server has accepted (`sent`) or refused for
good (`failed`) its message, or its subscriber left (`skipped`). The audience of an
issue is fixed when its deliveries are made, so a subscriber gets it once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from newsletter.core.clock import SQL_NOW
from newsletter.store import issues, message_ids

STATUSES = ("sent", "failed", "pending", "skipped")


@dataclass(frozen=True)
class Delivery:
    """One pending delivery, with what its message needs of the subscriber."""

    subscriber: int
    email: str
    name: str
    token: str
    edition: str
    message_tag: str  # the left part of its Message-ID (message_ids.py)


def start(db: sqlite3.Connection, issue: int) -> None:
    """Fix the audience (one pending delivery per active subscriber) and mark the
    issue sending: from now on its papers are fixed."""
    message_ids.register(db)
    db.execute(
        "INSERT OR IGNORE INTO deliveries (issue, subscriber, edition, message_tag) "
        "SELECT ?1, id, lang, message_tag(?1, id) FROM subscribers WHERE status = 'active'",
        (issue,),
    )
    issues.mark_sending(db, issue)


def skip_inactive(db: sqlite3.Connection, issue: int) -> int:
    """Pending deliveries to people who unsubscribed since the send started: skipped."""
    cursor = db.execute(
        f"UPDATE deliveries SET status = 'skipped', done_at = {SQL_NOW} "
        "WHERE issue = ? AND status = 'pending' AND subscriber IN "
        "(SELECT id FROM subscribers WHERE status != 'active')",
        (issue,),
    )
    return cursor.rowcount


def count(db: sqlite3.Connection, issue: int, status: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM deliveries WHERE issue = ? AND status = ?", (issue, status)
    ).fetchone()
    return int(row[0])


def counts(db: sqlite3.Connection, issue: int) -> dict[str, int]:
    """How many deliveries of `issue` are in each status (every status named)."""
    found = dict(
        db.execute(
            "SELECT status, count(*) FROM deliveries WHERE issue = ? GROUP BY status", (issue,)
        ).fetchall()
    )
    return {status: found.get(status, 0) for status in STATUSES}


def pending_page(db: sqlite3.Connection, issue: int, after: int, limit: int) -> list[Delivery]:
    """The next `limit` pending deliveries after subscriber id `after` (keyset paging:
    no long read holds the database while the workers write)."""
    rows = db.execute(
        "SELECT d.subscriber, s.email, s.name, s.token, d.edition, d.message_tag "
        "FROM deliveries d "
        "JOIN subscribers s ON s.id = d.subscriber "
        "WHERE d.issue = ? AND d.status = 'pending' AND d.subscriber > ? "
        "ORDER BY d.subscriber LIMIT ?",
        (issue, after, limit),
    ).fetchall()
    return [Delivery(*row) for row in rows]


def pending_active(db: sqlite3.Connection, issue: int) -> list[Delivery]:
    """What a resumed send would still mail: pending, to subscribers still active."""
    rows = db.execute(
        "SELECT s.id, s.email, s.name, s.token, d.edition, d.message_tag FROM deliveries d "
        "JOIN subscribers s ON s.id = d.subscriber WHERE d.issue = ? "
        "AND d.status = 'pending' AND s.status = 'active' ORDER BY s.id",
        (issue,),
    ).fetchall()
    return [Delivery(*row) for row in rows]


def find_by_message_id(db: sqlite3.Connection, message_id: str) -> tuple[int, int] | None:
    """(subscriber, issue) of the delivery whose message had this Message-ID; None for
    anything else (a made-up tag, the old guessable `<issue-N.ID@…>` form, a removed
    subscriber's delivery)."""
    tag = message_ids.tag_of(message_id)
    if tag is None:
        return None
    row = db.execute(
        "SELECT subscriber, issue FROM deliveries WHERE message_tag = ? AND subscriber IS NOT NULL",
        (tag,),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def mark(
    db: sqlite3.Connection,
    issue: int,
    subscriber: int,
    status: str,
    attempts: int,
    error: str | None,
) -> None:
    """Record what became of one pending delivery (`pending` again: deferred)."""
    db.execute(
        "UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ?, "
        f"done_at = CASE WHEN ? != 'pending' THEN {SQL_NOW} END "
        "WHERE issue = ? AND subscriber = ? AND status = 'pending'",
        (status, attempts, error, status, issue, subscriber),
    )


def finish(db: sqlite3.Connection, issue: int) -> bool:
    """Mark the issue sent when every delivery is final; say whether it is."""
    if count(db, issue, "pending"):
        return False
    issues.mark_sent(db, issue)
    return True
