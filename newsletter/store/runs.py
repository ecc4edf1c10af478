"""The history of the weekly job: when each run started and ended, and what it did
(for `status`, and to catch up a run missed while the machine was off)."""

from __future__ import annotations

import sqlite3
from typing import Any


def start(db: sqlite3.Connection, started_at: str) -> int:
    cursor = db.execute("INSERT INTO runs (started_at) VALUES (?)", (started_at,))
    return int(cursor.lastrowid or 0)


def finish(
    db: sqlite3.Connection,
    run: int,
    finished_at: str,
    outcome: str,
    issue: int | None,
    papers: int,
    sent: int,
    failed: int,
    note: str | None = None,
) -> None:
    db.execute(
        "UPDATE runs SET finished_at = ?, outcome = ?, issue = ?, papers = ?, sent = ?, "
        "failed = ?, note = ? WHERE id = ?",
        (finished_at, outcome, issue, papers, sent, failed, note, run),
    )


def last_started(db: sqlite3.Connection) -> str | None:
    """When the job last started (`2024-07-15T00:00:00Z`), if ever."""
    row = db.execute("SELECT max(started_at) FROM runs").fetchone()
    return str(row[0]) if row and row[0] else None


def last(db: sqlite3.Connection) -> dict[str, Any] | None:
    """The newest run, as `status` shows it."""
    row = db.execute(
        "SELECT started_at, finished_at, outcome, issue, sent, failed, note FROM runs "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return dict(row) if row else None
