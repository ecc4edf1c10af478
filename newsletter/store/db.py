"""The connection to the SQLite store, and its transactions.

One file, in WAL mode so a reader (`status`) never blocks a writer (`send`),
created readable by its owner only because it holds subscribers' addresses.
Opening it applies any pending migration (`migrations.py`). The queries are in
the modules beside this one, each a function that takes the connection, so a
caller puts several in one transaction: `with store.transaction() as db: ...`.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from newsletter.core.errors import StoreError
from newsletter.store.migrations import MIGRATIONS, Migration


class Store:
    """A connection to the store (`db`) and its transactions."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path, busy_timeout: float = 30.0) -> Store:
        """Open (creating if needed, mode 600) and migrate the database at `path`.

        `busy_timeout`: how long a statement waits for another connection's write
        lock (SQLite's own back-off, up to 100 ms a try). The web side uses 0 and
        `retrying`, whose short pauses keep the slowest requests fast under load.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"{path}: cannot open the database: {error}") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = NORMAL")
            migrate(db)
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")  # after set-up
        except sqlite3.Error as error:
            db.close()
            raise StoreError(f"{path}: cannot open the database: {error}") from None
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    @classmethod
    def open_existing(cls, path: Path) -> Store | None:
        """The store at `path` if there is one yet (readers that must not create it)."""
        return cls.open(path) if path.exists() else None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def open_in_memory(cls) -> Store:
        """A throw-away store, for dry runs where no database exists yet."""
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
        return cls(db, Path(":memory:"))

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it.

        With `commit=False` it is rolled back even when it succeeds: a dry run does
        the real work and then leaves the database as it was (nested, the work since
        the savepoint is undone and the outer transaction goes on).
        """
        nested = self.db.in_transaction  # nested: a savepoint inside the outer transaction
        if nested:
            begin, undo, done = "SAVEPOINT nested", "ROLLBACK TO nested", "RELEASE nested"
        else:
            begin, undo, done = "BEGIN IMMEDIATE", "ROLLBACK", "COMMIT" if commit else "ROLLBACK"
        self.db.execute(begin)
        try:
            yield self.db
        except BaseException:
            self.db.execute(undo)
            if nested:
                self.db.execute(done)  # a savepoint rolled back to is still open
            raise
        if nested and not commit:
            self.db.execute(undo)
        self.db.execute(done)


T = TypeVar("T")
RETRY_FOR = 10.0
"""Seconds `retrying` keeps trying before the lock error goes through."""


def retrying(work: Callable[[], T]) -> T:
    """`work()`, tried again after a pause of 0.2 to 1 ms while the database is
    locked by another writer (for connections opened with `busy_timeout=0`)."""
    deadline = time.monotonic() + RETRY_FOR
    while True:
        try:
            return work()
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error) or "busy" in str(error)
            if not locked or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.0002, 0.001))


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the pending migrations in order; return how many ran.

    `db` must be in autocommit mode (`isolation_level=None`): each migration takes
    its own write lock, so two processes opening a new database at once do not both
    run it. A current database (every open but the first after an upgrade) is only
    read: opening the store never waits on a writer such as a send in progress.
    """
    if schema_version(db) == len(migrations):
        return 0
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
