"""`newsletter backup FILE`: a consistent copy of the store while `serve` and `send` run.

SQLite's online backup API copies the database in one step, under one read
transaction: in WAL mode a reader never blocks a writer, so `send` and `serve` go
on writing while the copy is made, and the copy is the database as it stood at
one instant (a delivery is in it with its ledger row, or not at all). The copy is
written to a temporary file beside FILE, mode 600 (it holds the list), checked
(`PRAGMA quick_check`), made a self-contained file (rollback journal, no `-wal`
beside it), flushed to disk and only then renamed into place: FILE is the old
backup or the new one, never half of one.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from newsletter.core.errors import StoreError


@dataclass(frozen=True)
class Backup:
    """What `backup` wrote."""

    path: Path
    size: int
    subscribers: int
    issues: int


def backup(database: Path, target: Path, force: bool = False) -> Backup:
    """Copy the store at `database` to `target` (mode 600); refuse to overwrite an
    existing `target` unless `force`."""
    if not database.is_file():
        raise StoreError(f"{database}: no database here to back up")
    if target.exists() and not force:
        raise StoreError(f"{target} exists: choose another name, or --force to replace it")
    if target.exists() and target.resolve() == database.resolve():
        raise StoreError(f"{target} is the database itself: back it up to another file")
    if not target.parent.is_dir():
        raise StoreError(f"{target.parent}: no such folder for the backup")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        _copy(database, temporary)
        counts = _counts(temporary)
        os.replace(temporary, target)
        _sync_folder(target.parent)
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"{target}: the backup failed: {error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return Backup(target, target.stat().st_size, *counts)


def _copy(database: Path, temporary: Path) -> None:
    """The online backup of `database` into `temporary` (made here, mode 600), checked
    and flushed to disk."""
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(temporary, isolation_level=None)
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one instant
            copy.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal to carry along
            problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StoreError(f"the copy does not check out: {'; '.join(problems[:3])}")
        finally:
            copy.close()
    finally:
        source.close()
    with temporary.open("rb+") as written:
        os.fsync(written.fileno())


def _counts(path: Path) -> tuple[int, int]:
    """The subscribers and issues in the copy at `path`."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as copy:
        (subscribers,) = copy.execute("SELECT count(*) FROM subscribers").fetchone()
        (issues,) = copy.execute("SELECT count(*) FROM issues").fetchone()
    copy.close()
    return int(subscribers), int(issues)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
