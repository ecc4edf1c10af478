"""Subscriptions waiting for their confirmation (double opt-in).

A pending subscription is not a subscriber: it lives in its own table, so no send
can reach it. It holds a SHA-256 of the token its confirmation link carries (the
token itself is only in the message), how many confirmation messages it was sent,
and when it expires. Once confirmed, the row stays until then, marked
`confirmed_at` (status `confirmed`), so that its link opened again can say so; it
is no longer pending for anything else. Times are UTC, `2024-07-15T08:00:00Z`,
compared as text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pending:
    """An address that asked to subscribe and has not confirmed yet."""

    id: int
    email: str
    name: str
    lang: str
    mails: int  # confirmation messages queued for it
    created_at: str
    mailed_at: str
    expires_at: str
    status: str = "pending"  # or `confirmed`: its link was used

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "lang": self.lang,
            "status": self.status,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True)
class Standing:
    """What the list knows of an address someone asks to subscribe."""

    suppressed: bool  # removed from the list
    status: str | None  # its subscriber row's status, if it has one
    mails: int | None  # confirmation messages of its live pending subscription, if any
    mailed_at: str | None  # when the last of them was queued


def standing(db: sqlite3.Connection, email: str, address_sha256: str, now: str) -> Standing:
    """What the list knows of `email`, in one statement that reads the same rows and
    returns the same shape whatever it finds: a sign-up must take as long for an
    address on the list as for one that is not."""
    row = db.execute(
        """
        SELECT EXISTS (SELECT 1 FROM suppressions WHERE address_sha256 = :hash),
            (SELECT status FROM subscribers WHERE email = :email COLLATE NOCASE),
            (SELECT mails FROM pending_subscriptions WHERE email = :email COLLATE NOCASE
                AND expires_at > :now AND confirmed_at IS NULL),
            (SELECT mailed_at FROM pending_subscriptions WHERE email = :email COLLATE NOCASE
                AND expires_at > :now AND confirmed_at IS NULL)
        """,
        {"hash": address_sha256, "email": email, "now": now},
    ).fetchone()
    return Standing(bool(row[0]), row[1], row[2], row[3])


def find(db: sqlite3.Connection, email: str, now: str) -> Pending | None:
    """The live (not expired, not confirmed) pending subscription of `email`."""
    row = db.execute(
        "SELECT * FROM pending_subscriptions WHERE email = ? COLLATE NOCASE AND expires_at > ? "
        "AND confirmed_at IS NULL",
        (email, now),
    ).fetchone()
    return _pending(row) if row else None


def find_by_token(db: sqlite3.Connection, token_sha256: str, now: str) -> Pending | None:
    """The live subscription whose confirmation token hashes to `token_sha256`,
    pending or `confirmed` already."""
    row = db.execute(
        "SELECT * FROM pending_subscriptions WHERE token_sha256 = ? AND expires_at > ?",
        (token_sha256, now),
    ).fetchone()
    return _pending(row) if row else None


def upsert(
    db: sqlite3.Connection,
    email: str,
    name: str,
    lang: str,
    token_sha256: str,
    now: str,
    expires_at: str,
) -> None:
    """A new pending subscription, or a live one with a new token (the old link stops
    working), the latest name and language, one more message counted and a new expiry
    (a confirmed row starts over). Purge the expired rows first, so that an expired
    row never counts its old messages."""
    db.execute(
        "INSERT INTO pending_subscriptions (email, name, lang, token_sha256, created_at, "
        "mailed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE "
        "SET name = excluded.name, lang = excluded.lang, token_sha256 = excluded.token_sha256, "
        "mails = CASE WHEN confirmed_at IS NULL THEN mails + 1 ELSE 1 END, "
        "created_at = CASE WHEN confirmed_at IS NULL THEN created_at "
        "ELSE excluded.created_at END, confirmed_at = NULL, "
        "mailed_at = excluded.mailed_at, expires_at = excluded.expires_at",
        (email, name, lang, token_sha256, now, now, expires_at),
    )


def delete(db: sqlite3.Connection, pending: int) -> None:
    db.execute("DELETE FROM pending_subscriptions WHERE id = ?", (pending,))


def mark_confirmed(db: sqlite3.Connection, pending: int, now: str) -> None:
    """Its link was used: kept (for that link alone) until it expires."""
    db.execute("UPDATE pending_subscriptions SET confirmed_at = ? WHERE id = ?", (now, pending))


def forget(db: sqlite3.Connection, email: str) -> int:
    """Delete every row of `email` (any case), pending or confirmed: it was removed."""
    return db.execute(
        "DELETE FROM pending_subscriptions WHERE email = ? COLLATE NOCASE", (email,)
    ).rowcount


def purge_expired(db: sqlite3.Connection, now: str) -> int:
    """Forget every pending subscription whose confirmation time is over."""
    return db.execute("DELETE FROM pending_subscriptions WHERE expires_at <= ?", (now,)).rowcount


def listing(db: sqlite3.Connection, now: str) -> list[Pending]:
    """The live pending subscriptions, oldest first."""
    rows = db.execute(
        "SELECT * FROM pending_subscriptions WHERE expires_at > ? AND confirmed_at IS NULL "
        "ORDER BY id",
        (now,),
    ).fetchall()
    return [_pending(row) for row in rows]


def count(db: sqlite3.Connection, now: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM pending_subscriptions WHERE expires_at > ? AND confirmed_at IS NULL",
        (now,),
    ).fetchone()
    return int(row[0])


def _pending(row: sqlite3.Row) -> Pending:
    status = "confirmed" if row["confirmed_at"] else "pending"
    return Pending(
        row["id"],
        row["email"],
        row["name"],
        row["lang"],
        row["mails"],
        row["created_at"],
        row["mailed_at"],
        row["expires_at"],
        status,
    )
