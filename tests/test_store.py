"""The SQLite store: its file, its migrations, and ingesting digests into it."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.digest import Paper, parse_files
from newsletter.errors import StoreError
from newsletter.migrations import MIGRATIONS, migrate, schema_version
from newsletter.store import Store
from tests.conftest import SAMPLE_DIGEST


@pytest.fixture
def store(workspace: Path) -> Iterator[Store]:
    with Store.open(workspace / "newsletter.db") as opened:
        yield opened


def make_paper(arxiv_id: str, source: str, summary: str = "摘要。") -> Paper:
    return Paper(arxiv_id, f"Title {arxiv_id}", f"标题 {arxiv_id}",
                 f"https://arxiv.org/abs/{arxiv_id}", summary, None, source)  # fmt: skip


def test_a_new_database_is_private_in_wal_mode_and_current(store: Store) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(store.db) == len(MIGRATIONS)


def test_ingesting_the_sample_stores_13_papers_oldest_first(store: Store) -> None:
    papers = parse_files([SAMPLE_DIGEST]).papers
    result = store.ingest(papers)
    assert len(result.added) == 13 and result.updated == [] and result.warnings == []
    assert store.papers() == papers


def test_ingesting_again_changes_nothing(store: Store) -> None:
    papers = parse_files([SAMPLE_DIGEST]).papers
    store.ingest(papers)
    again = store.ingest(papers)
    assert (again.added, again.updated, again.warnings) == ([], [], [])
    assert store.paper_count() == 13


def test_a_later_digest_naming_a_paper_again_is_a_warning_not_a_row(store: Store) -> None:
    store.ingest([make_paper("2401.00001", "digests/week1.md:1", "第一周。")])
    result = store.ingest(
        [
            make_paper("2401.00002", "digests/week2.md:1"),
            make_paper("2401.00001", "digests/week2.md:5", "第二周。"),
        ]
    )
    assert result.added == ["2401.00002"]
    [warning] = result.warnings
    assert str(warning) == (
        "digests/week2.md:5: paper 2401.00001 was first given in digests/week1.md:1; "
        "that entry is kept"
    )
    assert [(p.arxiv_id, p.summary_zh) for p in store.papers()] == [
        ("2401.00001", "第一周。"),
        ("2401.00002", "摘要。"),
    ]


def test_editing_the_digest_that_first_named_a_paper_updates_it(store: Store) -> None:
    store.ingest([make_paper("2401.00001", "digests/week1.md:1", "有错字。")])
    result = store.ingest([make_paper("2401.00001", "digests/week1.md:3", "改好了。")])
    assert result.updated == ["2401.00001"]
    [stored] = store.papers()
    assert (stored.summary_zh, stored.source) == ("改好了。", "digests/week1.md:3")


def test_ingest_is_one_transaction(store: Store) -> None:
    def papers_then_failure() -> Iterator[Paper]:
        yield make_paper("2401.00001", "d.md:1")
        yield make_paper("2401.00002", "d.md:5")
        raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError):
        store.ingest(papers_then_failure())
    assert store.paper_count() == 0


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
    with Store.open(path) as store:
        store.ingest([make_paper("2401.00001", "d.md:1")])
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
