"""The outbox: single messages that are not issues (confirmations, and later the
return path's replies), queued by whoever makes them and sent by one loop.

A row is `queued` until a loop claims it (`sending`, with a random claim and a
lease), then `sent` once the server accepted it or `failed` for good; a retry puts
it back to `queued` with a later `next_attempt_at`. Claiming is one statement in a
write transaction, so two loops never hold the same row; a claim whose lease ran
out (its loop was killed mid-message) can be taken again, as a killed `send`
resumes its ledger. Times for the loop are unix seconds (REAL); a done row keeps
its address and subject for `status`, and its bodies (which may hold a link that
acts, such as a confirmation) are erased.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from newsletter.core.clock import SQL_NOW

STATUSES = ("queued", "sending", "sent", "failed")


@dataclass(frozen=True)
class OutboxMessage:
    """A claimed row: what its message is made of, and the claim that holds it."""

    id: int
    kind: str
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]
    message_id: str
    attempts: int  # this one included
    give_up_at: float | None
    claim: str


def insert(
    db: sqlite3.Connection,
    *,
    kind: str,
    recipient: str,
    recipient_name: str,
    subject: str,
    text: str,
    html: str | None,
    headers: dict[str, str],
    message_id: str,
    now: float,
    give_up_at: float | None,
) -> int:
    cursor = db.execute(
        "INSERT INTO outbox (kind, recipient, recipient_name, subject, text_body, html_body, "
        "headers, message_id, next_attempt_at, give_up_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            recipient,
            recipient_name,
            subject,
            text,
            html,
            json.dumps(headers),
            message_id,
            now,
            give_up_at,
        ),
    )
    return int(cursor.lastrowid or 0)


def claim(db: sqlite3.Connection, claim: str, now: float, lease: float) -> OutboxMessage | None:
    """Take the oldest due row (queued and due, or sending with its lease run out) for
    `lease` seconds under `claim`; call it in a write transaction."""
    row = db.execute(
        "UPDATE outbox SET status = 'sending', claim = ?, claimed_until = ?, "
        "attempts = attempts + 1 WHERE id = (SELECT id FROM outbox "
        "WHERE (status = 'queued' AND next_attempt_at <= ?) "
        "OR (status = 'sending' AND claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT 1) "
        "RETURNING *",
        (claim, now + lease, now, now),
    ).fetchone()
    return _message(row) if row else None


def mark_sent(db: sqlite3.Connection, message: int, claim: str) -> bool:
    """The server accepted it: sent, its bodies erased. False if the claim was lost."""
    cursor = db.execute(
        f"UPDATE outbox SET status = 'sent', done_at = {SQL_NOW}, text_body = NULL, "
        "html_body = NULL, error = NULL, claim = NULL, claimed_until = NULL "
        "WHERE id = ? AND claim = ? AND status = 'sending'",
        (message, claim),
    )
    return cursor.rowcount == 1


def mark_failed(db: sqlite3.Connection, message: int, claim: str, error: str) -> bool:
    """Refused for good (or given up on): failed, with why, its bodies erased."""
    cursor = db.execute(
        f"UPDATE outbox SET status = 'failed', done_at = {SQL_NOW}, error = ?, text_body = NULL, "
        "html_body = NULL, claim = NULL, claimed_until = NULL "
        "WHERE id = ? AND claim = ? AND status = 'sending'",
        (error, message, claim),
    )
    return cursor.rowcount == 1


def release(db: sqlite3.Connection, message: int, claim: str, retry_at: float, error: str) -> bool:
    """Not sent this time: queued again, to be tried at `retry_at`."""
    cursor = db.execute(
        "UPDATE outbox SET status = 'queued', next_attempt_at = ?, error = ?, claim = NULL, "
        "claimed_until = NULL WHERE id = ? AND claim = ? AND status = 'sending'",
        (retry_at, error, message, claim),
    )
    return cursor.rowcount == 1


def counts(db: sqlite3.Connection) -> dict[str, int]:
    """How many rows are in each status (every status named)."""
    found = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    return {status: found.get(status, 0) for status in STATUSES}


def status_of(db: sqlite3.Connection, message: int) -> dict[str, Any] | None:
    """One row's status, attempts and error (for tests and the curious)."""
    row = db.execute(
        "SELECT status, attempts, error, text_body IS NOT NULL AS has_body FROM outbox "
        "WHERE id = ?",
        (message,),
    ).fetchone()
    return dict(row) if row else None


def purge_done(db: sqlite3.Connection, before: str) -> int:
    """Forget the sent and failed rows done before `before` (ISO time): they hold an
    address, and `status` only needs the recent ones."""
    return db.execute(
        "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND done_at < ?", (before,)
    ).rowcount


def forget(db: sqlite3.Connection, address: str) -> int:
    """Delete every message to `address` (any case), sent or not: its subscriber was
    removed, and a row keeps the address and may hold a link that acts."""
    return db.execute("DELETE FROM outbox WHERE recipient = ? COLLATE NOCASE", (address,)).rowcount


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        kind=row["kind"],
        recipient=row["recipient"],
        recipient_name=row["recipient_name"],
        subject=row["subject"],
        text=row["text_body"],
        html=row["html_body"],
        headers=json.loads(row["headers"]),
        message_id=row["message_id"],
        attempts=row["attempts"],
        give_up_at=row["give_up_at"],
        claim=row["claim"],
    )
