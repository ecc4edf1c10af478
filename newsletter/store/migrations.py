"""The schema of the store, as an ordered list of migrations (run by `db.migrate`).

`PRAGMA user_version` records how many have run. Each migration runs in its own
transaction together with the version bump, so a failing one rolls back whole and
stays pending, and a later release upgrades an old database in place. Append new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from newsletter.store.message_ids import register as register_message_tag

Migration = Callable[[sqlite3.Connection], None]


def m001_papers(db: sqlite3.Connection) -> None:
    """Papers by arXiv id; `id` keeps the order they were first seen (oldest first)."""
    db.execute(
        """
        CREATE TABLE papers (
            id INTEGER PRIMARY KEY,
            arxiv_id TEXT NOT NULL UNIQUE,
            title_en TEXT NOT NULL,
            title_zh TEXT NOT NULL,
            url TEXT NOT NULL,
            summary_zh TEXT NOT NULL,
            summary_en TEXT,
            source_file TEXT NOT NULL,
            source_line INTEGER NOT NULL,
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )


def m002_issues(db: sqlite3.Connection) -> None:
    """Issues and their papers in order. A paper belongs to at most one issue (UNIQUE),
    so the schema itself guarantees a paper is never sent in two issues."""
    db.execute(
        """
        CREATE TABLE issues (
            number INTEGER PRIMARY KEY,
            date TEXT NOT NULL,
            subject TEXT NOT NULL,
            folder TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'composed'
                CHECK (status IN ('composed', 'sending', 'sent')),
            composed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            sent_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE issue_papers (
            issue INTEGER NOT NULL REFERENCES issues (number) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            paper INTEGER NOT NULL UNIQUE REFERENCES papers (id),
            PRIMARY KEY (issue, position)
        )
        """
    )


def m003_subscribers_and_deliveries(db: sqlite3.Connection) -> None:
    """Subscribers, and the delivery ledger: one row per (issue, subscriber), made when
    a send starts, so the audience is fixed and a subscriber gets an issue once."""
    db.execute(
        """
        CREATE TABLE subscribers (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL DEFAULT '',
            lang TEXT NOT NULL DEFAULT 'bilingual' CHECK (lang IN ('bilingual', 'en', 'zh')),
            status TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'unsubscribed', 'bounced')),
            token TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            changed_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE deliveries (
            issue INTEGER NOT NULL REFERENCES issues (number),
            subscriber INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
            edition TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            done_at TEXT,
            PRIMARY KEY (issue, subscriber)
        )
        """
    )
    db.execute("CREATE INDEX deliveries_pending ON deliveries (issue, status)")
    db.execute("CREATE INDEX deliveries_subscriber ON deliveries (subscriber)")


def m004_runs(db: sqlite3.Connection) -> None:
    """The history of the weekly job: when it ran, what it did (for status and for
    catching up a run missed while the machine was off)."""
    db.execute(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            issue INTEGER,
            papers INTEGER NOT NULL DEFAULT 0,
            sent INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0
        )
        """
    )


def m005_suppressions_and_kept_deliveries(db: sqlite3.Connection) -> None:
    """Removing someone erases them but not the history, and keeps them off the list.

    `suppressions` holds a SHA-256 of each removed address (case-folded), nothing
    else: enough for `add` and `import` to recognise the address and refuse to bring
    it back, not enough to mail it. (An unsalted hash of an address can be confirmed
    by someone who already knows the address; that is all it gives away.)

    `deliveries` is rebuilt so that a removed subscriber's rows stay, without them:
    `subscriber` becomes nullable and `ON DELETE SET NULL` (was `ON DELETE CASCADE`,
    which made an issue sent to 5 people count 4 after one removal), with a surrogate
    key since the old key `(issue, subscriber)` cannot hold a NULL. `UNIQUE (issue,
    subscriber)` still allows one row per issue and real subscriber (SQLite's UNIQUE
    treats NULLs as distinct, so several removed people's rows can share an issue) and
    serves the ledger's keyset paging as the old key did. A row without a subscriber
    can never be pending (CHECK): removal finishes a person's pending rows first, so
    `send`, which joins pending rows to `subscribers`, could not pick one up anyway.
    The index on `subscriber` lets a removal find that person's rows without reading
    the whole ledger.
    """
    db.execute(
        """
        CREATE TABLE suppressions (
            address_sha256 TEXT PRIMARY KEY,
            reason TEXT NOT NULL DEFAULT 'removed',
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )
    db.execute(
        """
        CREATE TABLE deliveries_new (
            id INTEGER PRIMARY KEY,
            issue INTEGER NOT NULL REFERENCES issues (number),
            subscriber INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
            edition TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            done_at TEXT,
            UNIQUE (issue, subscriber),
            CHECK (subscriber IS NOT NULL OR status != 'pending')
        )
        """
    )
    db.execute(
        "INSERT INTO deliveries_new (issue, subscriber, edition, status, attempts, error, "
        "done_at) SELECT issue, subscriber, edition, status, attempts, error, done_at "
        "FROM deliveries ORDER BY issue, subscriber"
    )
    db.execute("DROP TABLE deliveries")
    db.execute("ALTER TABLE deliveries_new RENAME TO deliveries")
    db.execute("CREATE INDEX deliveries_pending ON deliveries (issue, status)")
    db.execute("CREATE INDEX deliveries_subscriber ON deliveries (subscriber)")


def m006_digests(db: sqlite3.Connection) -> None:
    """The content of each digest file as compose last read it (a SHA-256): a digest's
    warnings are shown when its content is first seen, not every week after."""
    db.execute(
        """
        CREATE TABLE digests (
            path TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )


def m007_signup(db: sqlite3.Connection) -> None:
    """Subscriptions waiting for their confirmation, and what keeps the public forms
    from abuse.

    `pending_subscriptions` is apart from `subscribers` so that no send can reach an
    address that has not confirmed; it keeps a SHA-256 of the confirmation token, not
    the token, and each row expires. `rate_counters` counts per name and clock hour
    across every worker process; `secrets` holds the key that signs form tokens
    (random, made here).
    """
    db.execute(
        """
        CREATE TABLE pending_subscriptions (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL DEFAULT '',
            lang TEXT NOT NULL DEFAULT 'bilingual' CHECK (lang IN ('bilingual', 'en', 'zh')),
            token_sha256 TEXT NOT NULL UNIQUE,
            mails INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            mailed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX pending_expiry ON pending_subscriptions (expires_at)")
    db.execute(
        """
        CREATE TABLE rate_counters (
            name TEXT NOT NULL,
            hour INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (name, hour)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    # Made here, so that showing a form (a GET) never writes to the database.
    db.execute("INSERT INTO secrets (name, value) VALUES ('form_key', lower(hex(randomblob(32))))")


def m008_outbox(db: sqlite3.Connection) -> None:
    """Messages that are not issues (confirmations; later the replies of the return
    path), each sent at most once: claimed atomically, marked at once when the server
    accepted it, its bodies (which hold the confirmation link) erased then."""
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            recipient_name TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL,
            text_body TEXT,
            html_body TEXT,
            headers TEXT NOT NULL DEFAULT '{}',
            message_id TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            give_up_at REAL,
            claim TEXT,
            claimed_until REAL,
            error TEXT,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            done_at TEXT,
            CHECK (status IN ('sent', 'failed') OR text_body IS NOT NULL)
        )
        """
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)")


def m009_bounces(db: sqlite3.Connection) -> None:
    """The return path: what each bounce, complaint or unsubscribe reply said, and
    which mails the inbox has already handled (by a SHA-256 of the whole message,
    so a second run over the same mailbox changes nothing).

    `bounce_events` keeps its rows when a subscriber is removed (`ON DELETE SET
    NULL`), like the ledger, so an issue's bounce count does not change later.
    """
    db.execute(
        """
        CREATE TABLE bounce_events (
            id INTEGER PRIMARY KEY,
            subscriber INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
            issue INTEGER REFERENCES issues (number),
            kind TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'unsubscribe')),
            status TEXT NOT NULL DEFAULT '',
            diagnostic TEXT NOT NULL DEFAULT '',
            message_sha256 TEXT NOT NULL,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )
    db.execute("CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber, kind)")
    db.execute("CREATE INDEX bounce_events_issue ON bounce_events (issue, kind)")
    db.execute(
        """
        CREATE TABLE inbox_seen (
            message_sha256 TEXT PRIMARY KEY,
            outcome TEXT NOT NULL,
            seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )


def m010_arxiv_metadata(db: sqlite3.Connection) -> None:
    """What arXiv says about each paper (`PaperMeta`), fetched once and kept: compose
    asks the API only for papers missing here. Keyed by our arXiv id, not tied to
    `papers`: compose fetches for the papers it is about to store, before its write
    transaction. Lists are JSON arrays; times are UTC, `2024-07-04T17:59:21Z`."""
    db.execute(
        """
        CREATE TABLE arxiv_metadata (
            arxiv_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            title TEXT NOT NULL,
            authors TEXT NOT NULL,
            abstract TEXT NOT NULL,
            primary_category TEXT NOT NULL,
            categories TEXT NOT NULL,
            published TEXT NOT NULL,
            updated TEXT NOT NULL,
            pdf_url TEXT NOT NULL,
            fetched_at TEXT NOT NULL
        )
        """
    )


def m011_message_id_tags(db: sqlite3.Connection) -> None:
    """Message-IDs that prove a copy is ours and reveal nothing (message_ids.py).

    A key, random, made here (`message_id_key`), and each delivery's tag, kept with it
    so that a bounce's Message-ID finds its delivery by one index lookup (UNIQUE).
    Deliveries made before get their tag here too, so that a resumed send mails the
    rest with tags; the messages already sent went out with the old guessable
    `<issue-N.ID@…>` form, which proves nothing and finds nothing. A removed
    subscriber's rows get no tag: there is nobody to find.
    """
    db.execute(
        "INSERT INTO secrets (name, value) VALUES ('message_id_key', lower(hex(randomblob(32))))"
    )
    db.execute("ALTER TABLE deliveries ADD COLUMN message_tag TEXT")
    register_message_tag(db)
    db.execute(
        "UPDATE deliveries SET message_tag = message_tag(issue, subscriber) "
        "WHERE subscriber IS NOT NULL"
    )
    db.execute("CREATE UNIQUE INDEX deliveries_message_tag ON deliveries (message_tag)")


def m012_bounce_reasons(db: sqlite3.Connection) -> None:
    """Each return-path event gets its reason (sisimai's taxonomy: `user_unknown`,
    `blocked`…), the receiving domain, and how the mail was proven to answer our
    message; a new kind, `refused`, is a refusal about the sending side (a blocklist,
    DMARC, spam content), which counts against no subscriber. SQLite cannot widen a
    CHECK in place: the table is made anew and its rows copied."""
    db.execute(
        """
        CREATE TABLE bounce_events_new (
            id INTEGER PRIMARY KEY,
            subscriber INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
            issue INTEGER REFERENCES issues (number),
            kind TEXT NOT NULL
                CHECK (kind IN ('hard', 'soft', 'complaint', 'unsubscribe', 'refused')),
            reason TEXT NOT NULL DEFAULT '',
            domain TEXT NOT NULL DEFAULT '',
            proof TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT '',
            diagnostic TEXT NOT NULL DEFAULT '',
            message_sha256 TEXT NOT NULL,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        )
        """
    )
    db.execute(
        "INSERT INTO bounce_events_new (id, subscriber, issue, kind, status, diagnostic, "
        "message_sha256, at) SELECT id, subscriber, issue, kind, status, diagnostic, "
        "message_sha256, at FROM bounce_events"
    )
    db.execute("DROP TABLE bounce_events")
    db.execute("ALTER TABLE bounce_events_new RENAME TO bounce_events")
    db.execute("CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber, kind)")
    db.execute("CREATE INDEX bounce_events_issue ON bounce_events (issue, kind)")
    db.execute("CREATE INDEX bounce_events_domain ON bounce_events (kind, domain)")


def m013_confirmed_links(db: sqlite3.Connection) -> None:
    """A confirmation link opened again after it was used says that the address is
    confirmed, not that the link is unknown: its pending row stays, marked
    `confirmed_at`, until it would have expired."""
    db.execute("ALTER TABLE pending_subscriptions ADD COLUMN confirmed_at TEXT")


def m014_run_notes(db: sqlite3.Connection) -> None:
    """What a run of the weekly job has to say beyond its counts (an issue composed
    without some of arXiv's abstracts), for `status`."""
    db.execute("ALTER TABLE runs ADD COLUMN note TEXT")


MIGRATIONS: Sequence[Migration] = (
    m001_papers,
    m002_issues,
    m003_subscribers_and_deliveries,
    m004_runs,
    m005_suppressions_and_kept_deliveries,
    m006_digests,
    m007_signup,
    m008_outbox,
    m009_bounces,
    m010_arxiv_metadata,
    m011_message_id_tags,
    m012_bounce_reasons,
    m013_confirmed_links,
    m014_run_notes,
)
