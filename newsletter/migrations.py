"""The schema of the store, as an ordered list of migrations.

`PRAGMA user_version` records how many have run. Each migration runs in its own
transaction together with the version bump, so a failing one rolls back whole and
stays pending, and a later release upgrades an old database in place. Append new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from newsletter.errors import StoreError

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


MIGRATIONS: Sequence[Migration] = (
    m001_papers,
    m002_issues,
    m003_subscribers_and_deliveries,
    m004_runs,
    m006_digests,  # m005 comes from another branch; they are put in order when merged
)


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the pending migrations in order; return how many ran.

    `db` must be in autocommit mode (`isolation_level=None`): each migration takes
    its own write lock, so two processes opening a new database at once do not both
    run it.
    """
    applied = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)
            if version > len(migrations):
                raise StoreError(
                    f"the database is at schema version {version}, newer than this "
                    f"release knows ({len(migrations)}): upgrade newsletter"
                )
            if version == len(migrations):
                db.execute("COMMIT")
                return applied
            migrations[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
            applied += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise
