"""Subscribers, and the suppression list of addresses removed from it.

Addresses compare case-insensitively (`COLLATE NOCASE`). A removed address leaves
only its SHA-256 behind, in `suppressions`, so that it is not added back by mistake.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from newsletter.core.clock import SQL_NOW
from newsletter.core.model import Subscriber


def find(db: sqlite3.Connection, email: str) -> Subscriber | None:
    row = db.execute(
        "SELECT * FROM subscribers WHERE email = ? COLLATE NOCASE", (email.strip(),)
    ).fetchone()
    return _subscriber(row) if row else None


def by_id(db: sqlite3.Connection, subscriber: int) -> Subscriber | None:
    row = db.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber,)).fetchone()
    return _subscriber(row) if row else None


def find_by_token(db: sqlite3.Connection, token: str) -> Subscriber | None:
    row = db.execute("SELECT * FROM subscribers WHERE token = ?", (token,)).fetchone()
    return _subscriber(row) if row else None


def listing(db: sqlite3.Connection, status: str | None = None) -> list[Subscriber]:
    """Everyone (or everyone with `status`), in the order they joined."""
    if status:
        rows = db.execute("SELECT * FROM subscribers WHERE status = ? ORDER BY id", (status,))
    else:
        rows = db.execute("SELECT * FROM subscribers ORDER BY id")
    return [_subscriber(row) for row in rows]


def active(db: sqlite3.Connection) -> Iterator[Subscriber]:
    """The active subscribers, in the order they joined (read as they are used)."""
    for row in db.execute("SELECT * FROM subscribers WHERE status = 'active' ORDER BY id"):
        yield _subscriber(row)


def count_active(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM subscribers WHERE status = 'active'").fetchone()[0])


def counts(db: sqlite3.Connection) -> tuple[dict[str, int], dict[str, int]]:
    """How many subscribers there are by status, and by language."""
    by_status = dict(
        db.execute(
            "SELECT status, count(*) FROM subscribers GROUP BY status ORDER BY status"
        ).fetchall()
    )
    by_lang = dict(
        db.execute("SELECT lang, count(*) FROM subscribers GROUP BY lang ORDER BY lang").fetchall()
    )
    return by_status, by_lang


def insert(db: sqlite3.Connection, email: str, name: str, lang: str, token: str) -> None:
    db.execute(
        "INSERT INTO subscribers (email, name, lang, token) VALUES (?, ?, ?, ?)",
        (email, name, lang, token),
    )


def unsubscribe_token(db: sqlite3.Connection, token: str) -> bool:
    """Unsubscribe the holder of `token` in one statement (the one-click path: the
    write lock is held for that statement only); False if no one holds it."""
    changed = db.execute(
        f"UPDATE subscribers SET status = 'unsubscribed', changed_at = {SQL_NOW} "
        "WHERE token = ? AND status != 'unsubscribed' RETURNING id",
        (token,),
    ).fetchall()  # all of it: the statement (and its write lock) ends only then
    if changed:
        return True
    return db.execute("SELECT 1 FROM subscribers WHERE token = ?", (token,)).fetchone() is not None


def is_active(db: sqlite3.Connection, subscriber: int) -> bool:
    """Whether `subscriber` is still on the list: `send` asks right before each
    message, so whoever left since the send started is skipped (one lookup by key)."""
    row = db.execute("SELECT status FROM subscribers WHERE id = ?", (subscriber,)).fetchone()
    return row is not None and row[0] == "active"


def set_unsubscribed(db: sqlite3.Connection, subscriber: int) -> None:
    """Unsubscribe; doing it twice changes nothing (not even the time)."""
    db.execute(
        f"UPDATE subscribers SET status = 'unsubscribed', changed_at = {SQL_NOW} "
        "WHERE id = ? AND status != 'unsubscribed'",
        (subscriber,),
    )


def set_bounced(db: sqlite3.Connection, subscriber: int) -> bool:
    """Mark an active subscriber's address dead; False if they were not active."""
    changed = db.execute(
        f"UPDATE subscribers SET status = 'bounced', changed_at = {SQL_NOW} "
        "WHERE id = ? AND status = 'active' RETURNING id",
        (subscriber,),
    ).fetchall()
    return bool(changed)


def set_active(db: sqlite3.Connection, subscriber: int, name: str, lang: str) -> None:
    """Back on the list (confirmed again), with the name and language just given."""
    db.execute(
        f"UPDATE subscribers SET status = 'active', name = ?, lang = ?, changed_at = {SQL_NOW} "
        "WHERE id = ?",
        (name, lang, subscriber),
    )


def set_preferences(db: sqlite3.Connection, subscriber: int, name: str, lang: str) -> None:
    """A new name or edition, effective for the next issue; the time is recorded."""
    db.execute(
        f"UPDATE subscribers SET name = ?, lang = ?, changed_at = {SQL_NOW} WHERE id = ?",
        (name, lang, subscriber),
    )


def delete(db: sqlite3.Connection, subscriber: int) -> None:
    """Erase a subscriber's row; their delivery rows stay, without them (the schema's
    ON DELETE SET NULL), stripped of server replies that may quote the address, and
    a delivery still pending is skipped."""
    db.execute(
        "UPDATE deliveries SET error = NULL, status = CASE status WHEN 'pending' "
        f"THEN 'skipped' ELSE status END, done_at = coalesce(done_at, {SQL_NOW}) "
        "WHERE subscriber = ?",
        (subscriber,),
    )
    db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber,))


def is_suppressed(db: sqlite3.Connection, address_sha256: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM suppressions WHERE address_sha256 = ?", (address_sha256,)
    ).fetchone()
    return row is not None


def suppress(db: sqlite3.Connection, address_sha256: str) -> None:
    db.execute("INSERT OR IGNORE INTO suppressions (address_sha256) VALUES (?)", (address_sha256,))


def lift_suppression(db: sqlite3.Connection, address_sha256: str) -> None:
    db.execute("DELETE FROM suppressions WHERE address_sha256 = ?", (address_sha256,))


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        row["id"],
        row["email"],
        row["name"],
        row["lang"],
        row["status"],
        row["token"],
        row["created_at"],
    )
