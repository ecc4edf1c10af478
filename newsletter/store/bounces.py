"""The return path's records: bounce and complaint events, and the handled mails.

`inbox` reads a mailbox; each mail it acts on leaves one row in `inbox_seen` (a
SHA-256 of its bytes), and each bounce, refusal, complaint or unsubscribe reply
one row in `bounce_events`, with its reason and the receiving domain, which
`status` counts per issue and per domain, and the soft-bounce rule reads.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

KINDS = ("hard", "soft", "complaint", "unsubscribe", "refused")


@dataclass(frozen=True)
class Event:
    """One bounce, refusal, complaint or unsubscribe reply about a subscriber.
    `proof`: how the mail was tied to them (`verp`, `message_id`, `token`, `send`)."""

    subscriber: int
    issue: int | None
    kind: str
    reason: str
    domain: str
    proof: str
    status: str
    diagnostic: str
    message_sha256: str = ""


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


def complained(db: sqlite3.Connection, subscriber: int) -> bool:
    """Whether a complaint about our mail to `subscriber` was ever recorded."""
    row = db.execute(
        "SELECT 1 FROM bounce_events WHERE subscriber = ? AND kind = 'complaint' LIMIT 1",
        (subscriber,),
    ).fetchone()
    return row is not None


def record(db: sqlite3.Connection, event: Event) -> None:
    db.execute(
        "INSERT INTO bounce_events (subscriber, issue, kind, reason, domain, proof, status, "
        "diagnostic, message_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.subscriber,
            event.issue,
            event.kind,
            event.reason,
            event.domain,
            event.proof,
            event.status,
            event.diagnostic[:1000],
            event.message_sha256,
        ),
    )


def forget(db: sqlite3.Connection, subscriber: int | None, address: str) -> int:
    """Erase the diagnostics of a removed subscriber's events, and of any event whose
    diagnostic quotes `address` (any case): a server's reply often names the mailbox.
    The events stay, so an issue's counts do not change."""
    return db.execute(
        "UPDATE bounce_events SET diagnostic = '' WHERE diagnostic != '' "
        "AND (subscriber = ? OR instr(lower(diagnostic), lower(?)) > 0)",
        (subscriber, address),
    ).rowcount


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
    found = dict(
        db.execute(
            "SELECT kind, count(DISTINCT coalesce(subscriber, -id)) FROM bounce_events "
            "WHERE issue = ? GROUP BY kind",
            (issue,),
        ).fetchall()
    )
    return {kind: found.get(kind, 0) for kind in ("hard", "soft", "complaint", "refused")}


def reasons(db: sqlite3.Connection, issue: int) -> dict[str, int]:
    """How many events of each reason came back for `issue` (refusals included)."""
    rows = db.execute(
        "SELECT reason, count(*) FROM bounce_events WHERE issue = ? AND reason != '' "
        "GROUP BY reason ORDER BY count(*) DESC, reason",
        (issue,),
    ).fetchall()
    return {str(reason): int(n) for reason, n in rows}


@dataclass(frozen=True)
class Refusals:
    """A receiving domain's refusals of our mail: how many, the commonest reason and
    the status code it came with."""

    domain: str
    count: int
    reason: str
    status: str


def refusals_by_domain(db: sqlite3.Connection, since_issue: int = 0) -> list[Refusals]:
    """The sending side's problems, by receiving domain, most refusals first."""
    rows = db.execute(
        "SELECT domain, reason, status, count(*) FROM bounce_events "
        "WHERE kind = 'refused' AND coalesce(issue, 0) >= ? "
        "GROUP BY domain, reason, status ORDER BY count(*) DESC, reason, status",
        (since_issue,),
    ).fetchall()
    found: dict[str, Refusals] = {}
    for domain, reason, status, n in rows:
        top = found.get(domain)  # the first row of a domain is its commonest
        if top is None:
            found[domain] = Refusals(domain, n, reason, status)
        else:
            found[domain] = Refusals(domain, top.count + n, top.reason, top.status)
    return sorted(found.values(), key=lambda r: (-r.count, r.domain))


def outcome(db: sqlite3.Connection, message_sha256: str) -> str | None:
    """What became of a mail the inbox has read before (`mark_seen`), if it has."""
    row = db.execute(
        "SELECT outcome FROM inbox_seen WHERE message_sha256 = ?", (message_sha256,)
    ).fetchone()
    return str(row[0]) if row is not None else None
