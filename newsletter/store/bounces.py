"""The return path's records: bounce and complaint events, and the handled mails.

`inbox` reads a mailbox; each mail it acts on leaves one row in `inbox_seen` (a
SHA-256 of its bytes), and each bounce, complaint or unsubscribe reply one row in
`bounce_events`, which `status` counts per issue and the soft-bounce rule reads.
"""

from __future__ import annotations

import sqlite3

KINDS = ("hard", "soft", "complaint", "unsubscribe")


def seen(db: sqlite3.Connection, message_sha256: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM inbox_seen WHERE message_sha256 = ?", (message_sha256,)
    ).fetchone()
    return row is not None


def mark_seen(db: sqlite3.Connection, message_sha256: str, outcome: str) -> None:
    db.execute(
        "INSERT OR IGNORE INTO inbox_seen (message_sha256, outcome) VALUES (?, ?)",
        (message_sha256, outcome),
    )


def was_sent(db: sqlite3.Connection, subscriber: int, issue: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM deliveries WHERE subscriber = ? AND issue = ? AND status = 'sent'",
        (subscriber, issue),
    ).fetchone()
    return row is not None


def last_sent_issue(db: sqlite3.Connection, subscriber: int) -> int | None:
    """The latest issue the server accepted for this subscriber (what a bounce that
    names no issue is most likely about)."""
    row = db.execute(
        "SELECT max(issue) FROM deliveries WHERE subscriber = ? AND status = 'sent'",
        (subscriber,),
    ).fetchone()
    return int(row[0]) if row[0] is not None else None


def record(
    db: sqlite3.Connection, subscriber: int, issue: int | None, kind: str, status: str,
    diagnostic: str, message_sha256: str,
) -> None:  # fmt: skip
    db.execute(
        "INSERT INTO bounce_events (subscriber, issue, kind, status, diagnostic, "
        "message_sha256) VALUES (?, ?, ?, ?, ?, ?)",
        (subscriber, issue, kind, status, diagnostic[:1000], message_sha256),
    )


def soft_streak(db: sqlite3.Connection, subscriber: int, issue: int | None) -> int:
    """Soft bounces in a row, the one just recorded for `issue` included.

    One per issue (an MTA warns several times about one message), counted after
    the last issue before `issue` that the server accepted and that no bounce came
    back for: a delivery that went through resets the count. An issue sent after
    `issue` does not, as its bounces may be on their way. Soft bounces that name no
    issue count one each, after the last clean issue of all.
    """
    row = db.execute(
        """
        SELECT count(DISTINCT coalesce(issue, -id)) FROM bounce_events
        WHERE subscriber = :s AND kind = 'soft' AND (issue IS NULL OR issue > coalesce((
            SELECT max(d.issue) FROM deliveries d
            WHERE d.subscriber = :s AND d.status = 'sent'
                AND (:issue IS NULL OR d.issue < :issue)
                AND NOT EXISTS (SELECT 1 FROM bounce_events b
                                WHERE b.subscriber = :s AND b.issue = d.issue)
        ), 0))
        """,
        {"s": subscriber, "issue": issue},
    ).fetchone()
    return int(row[0])


def issue_counts(db: sqlite3.Connection, issue: int) -> dict[str, int]:
    """How many subscribers bounced (hard, soft) or complained about `issue`."""
    found = dict(db.execute(
        "SELECT kind, count(DISTINCT coalesce(subscriber, -id)) FROM bounce_events "
        "WHERE issue = ? GROUP BY kind", (issue,),
    ).fetchall())  # fmt: skip
    return {kind: found.get(kind, 0) for kind in ("hard", "soft", "complaint")}


def outcome(db: sqlite3.Connection, message_sha256: str) -> str | None:
    """What became of a mail the inbox has read before (`mark_seen`), if it has."""
    row = db.execute(
        "SELECT outcome FROM inbox_seen WHERE message_sha256 = ?", (message_sha256,)
    ).fetchone()
    return str(row[0]) if row is not None else None
