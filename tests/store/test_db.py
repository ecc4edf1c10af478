"""The SQLite store: its file, its transactions and its migrations."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.core.errors import StoreError
from newsletter.store import Store, papers
from newsletter.store.db import migrate, schema_version
from newsletter.store.migrations import MIGRATIONS
from tests.helpers import make_paper


@pytest.fixture
def store(workspace: Path) -> Iterator[Store]:
    with Store.open(workspace / "newsletter.db") as opened:
        yield opened


def test_a_transaction_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        papers.ingest(db, [make_paper("2401.00001", "d.md:1")])
        raise RuntimeError("the disk went away")
    assert papers.unsent(store.db, 10) == []


def test_a_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction() as db:
        papers.ingest(db, [make_paper("2401.00001", "d.md:1")])
        with pytest.raises(RuntimeError), store.transaction() as inner:
            papers.ingest(inner, [make_paper("2401.00002", "d.md:5")])
            raise RuntimeError("only the inner part fails")
    assert [paper.arxiv_id for paper in papers.unsent(store.db, 10)] == ["2401.00001"]


def test_a_new_database_is_private_in_wal_mode_and_current(store: Store) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(store.db) == len(MIGRATIONS)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_failing_migration_rolls_back_and_stays_pending(workspace: Path) -> None:
    db = _connect(workspace / "x.db")

    def m002_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("boom")

    def m002_fixed(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE done (x)")

    with pytest.raises(sqlite3.OperationalError):
        migrate(db, [*MIGRATIONS, m002_broken])
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables and "papers" in tables
    assert schema_version(db) == len(MIGRATIONS)
    assert migrate(db, [*MIGRATIONS, m002_fixed]) == 1
    assert schema_version(db) == len(MIGRATIONS) + 1


def test_an_old_database_is_upgraded_in_place(workspace: Path) -> None:
    path = workspace / "old.db"
    with Store.open(path) as store, store.transaction() as db:
        papers.ingest(db, [make_paper("2401.00001", "d.md:1")])
    db = _connect(path)

    def m_next(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE papers ADD COLUMN note TEXT")

    assert migrate(db, [*MIGRATIONS, m_next]) == 1
    assert db.execute("SELECT arxiv_id, note FROM papers").fetchall() == [("2401.00001", None)]


def test_a_database_from_a_newer_release_is_refused(workspace: Path) -> None:
    path = workspace / "newer.db"
    _connect(path).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StoreError, match="newer than this release knows"):
        Store.open(path)


def test_a_file_that_is_not_a_database_is_one_clear_error(workspace: Path) -> None:
    path = workspace / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=f"{path}: cannot open the database"):
        Store.open(path)
