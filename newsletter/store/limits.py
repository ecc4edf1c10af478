"""What keeps the public forms from abuse: counters per clock hour, and the key that
signs form tokens.

Both live in the database so that every `newsletter serve` worker process shares
them. A counter is one row per name and hour (`unix time // 3600`), bumped and
read in one statement; rows of past hours are deleted as new ones are made.
"""

from __future__ import annotations

import sqlite3


def bump(db: sqlite3.Connection, name: str, hour: int) -> int:
    """Count one more for `name` in `hour`; the count so far, this one included."""
    db.execute("DELETE FROM rate_counters WHERE hour < ?", (hour,))
    row = db.execute(
        "INSERT INTO rate_counters (name, hour, count) VALUES (?, ?, 1) "
        "ON CONFLICT (name, hour) DO UPDATE SET count = count + 1 RETURNING count",
        (name, hour),
    ).fetchone()
    return int(row[0])


def counted(db: sqlite3.Connection, name: str, hour: int) -> int:
    """How many `name` counted in `hour`."""
    row = db.execute(
        "SELECT count FROM rate_counters WHERE name = ? AND hour = ?", (name, hour)
    ).fetchone()
    return int(row[0]) if row else 0


def secret(db: sqlite3.Connection, name: str, fresh: str) -> str:
    """The secret called `name` (the migration makes the form key); `fresh` becomes it
    if there is none (the first process to ask wins, and every other one reads it)."""
    row = db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
    if row is None:
        db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, fresh))
        row = db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
    return str(row[0])
