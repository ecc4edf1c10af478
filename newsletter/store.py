"""The SQLite store: papers now; issues, subscribers and deliveries as they come.

One file, in WAL mode so a reader (`status`) never blocks a writer (`send`),
created readable by its owner only because it will hold subscribers' addresses.
Opening it applies any pending migration.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.digest import DigestWarning, Paper
from newsletter.errors import StoreError
from newsletter.migrations import migrate


@dataclass
class IngestResult:
    """What ingesting digests changed in the store."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    warnings: list[DigestWarning] = field(default_factory=list)


@dataclass(frozen=True)
class Issue:
    """An issue as the store knows it; its files are in `issues_dir / folder`."""

    number: int
    date: str
    subject: str
    folder: str
    papers: tuple[str, ...]
    status: str = "composed"


class Store:
    """A connection to the store, with the operations the commands need."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating if needed, mode 600) and migrate the database at `path`."""
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
        except sqlite3.Error as error:
            db.close()
            raise StoreError(f"{path}: cannot open the database: {error}") from None
        except BaseException:
            db.close()
            raise
        return cls(db, path)

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
        the real work and then leaves the database as it was.
        """
        if self.db.in_transaction:  # nested: a savepoint inside the outer transaction
            begin, undo, done = "SAVEPOINT nested", "ROLLBACK TO nested", "RELEASE nested"
        else:
            begin, undo, done = "BEGIN IMMEDIATE", "ROLLBACK", "COMMIT" if commit else "ROLLBACK"
        self.db.execute(begin)
        try:
            yield self.db
        except BaseException:
            self.db.execute(undo)
            if begin.startswith("SAVEPOINT"):
                self.db.execute(done)  # a savepoint rolled back to is still open
            raise
        self.db.execute(done)

    def ingest(self, papers: Iterable[Paper]) -> IngestResult:
        """Store papers by arXiv id, in one transaction.

        The first digest that names a paper keeps it; the same digest may edit it
        (a typo fixed in the summary) until its issue starts sending; another digest
        naming it again is a warning and never a second row.
        """
        result = IngestResult()
        with self.transaction() as db:
            for paper in papers:
                source_file, source_line = _split_source(paper.source)
                row = db.execute(
                    "SELECT source_file, source_line, title_en, title_zh, summary_zh, summary_en "
                    "FROM papers WHERE arxiv_id = ?",
                    (paper.arxiv_id,),
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO papers (arxiv_id, title_en, title_zh, url, summary_zh, "
                        "summary_en, source_file, source_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (*_content(paper), source_file, source_line),
                    )
                    result.added.append(paper.arxiv_id)
                elif row["source_file"] != source_file:
                    result.warnings.append(
                        DigestWarning(
                            source_file,
                            source_line,
                            f"paper {paper.arxiv_id} was first given in "
                            f"{row['source_file']}:{row['source_line']}; that entry is kept",
                        )
                    )
                elif _changed(row, paper, source_line) and not self._is_mailed(paper.arxiv_id):
                    db.execute(
                        "UPDATE papers SET title_en = ?, title_zh = ?, url = ?, summary_zh = ?, "
                        "summary_en = ?, source_line = ? WHERE arxiv_id = ?",
                        (*_content(paper)[1:], source_line, paper.arxiv_id),
                    )
                    result.updated.append(paper.arxiv_id)
        return result

    def _is_mailed(self, arxiv_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM papers JOIN issue_papers ON issue_papers.paper = papers.id "
            "JOIN issues ON issues.number = issue_papers.issue "
            "WHERE papers.arxiv_id = ? AND issues.status != 'composed'",
            (arxiv_id,),
        ).fetchone()
        return row is not None

    def unsent_papers(self, limit: int, releasing: int | None = None) -> list[Paper]:
        """Papers in no issue (or only in issue `releasing`), oldest first."""
        rows = self.db.execute(
            "SELECT papers.* FROM papers LEFT JOIN issue_papers ON issue_papers.paper = papers.id "
            "WHERE issue_papers.issue IS NULL OR issue_papers.issue = ? "
            "ORDER BY papers.id LIMIT ?",
            (releasing, limit),
        ).fetchall()
        return [_paper(row) for row in rows]

    def unsent_count(self) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM papers WHERE id NOT IN (SELECT paper FROM issue_papers)"
            ).fetchone()[0]
        )

    def waiting_issue(self) -> Issue | None:
        """The issue composed and not yet being sent, if there is one."""
        row = self.db.execute(
            "SELECT * FROM issues WHERE status = 'composed' ORDER BY number DESC LIMIT 1"
        ).fetchone()
        return self._issue(row) if row else None

    def issue(self, number: int) -> Issue | None:
        row = self.db.execute("SELECT * FROM issues WHERE number = ?", (number,)).fetchone()
        return self._issue(row) if row else None

    def issues(self) -> list[Issue]:
        rows = self.db.execute("SELECT * FROM issues ORDER BY number").fetchall()
        return [self._issue(row) for row in rows]

    def next_issue_number(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues").fetchone()[0])

    def save_issue(self, issue: Issue) -> None:
        """Record a composed issue, replacing the waiting issue of the same number."""
        self.db.execute("DELETE FROM issue_papers WHERE issue = ?", (issue.number,))
        self.db.execute(
            "INSERT INTO issues (number, date, subject, folder) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (number) DO UPDATE SET date = excluded.date, "
            "subject = excluded.subject, folder = excluded.folder, "
            "composed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (issue.number, issue.date, issue.subject, issue.folder),
        )
        self.db.executemany(
            "INSERT INTO issue_papers (issue, position, paper) "
            "SELECT ?, ?, id FROM papers WHERE arxiv_id = ?",
            [(issue.number, position, arxiv_id) for position, arxiv_id in enumerate(issue.papers)],
        )

    def _issue(self, row: sqlite3.Row) -> Issue:
        papers = self.db.execute(
            "SELECT papers.arxiv_id FROM issue_papers "
            "JOIN papers ON papers.id = issue_papers.paper "
            "WHERE issue_papers.issue = ? ORDER BY issue_papers.position",
            (row["number"],),
        ).fetchall()
        return Issue(
            number=row["number"],
            date=row["date"],
            subject=row["subject"],
            folder=row["folder"],
            status=row["status"],
            papers=tuple(paper[0] for paper in papers),
        )

    def see_digests(self, hashes: Mapping[str, str]) -> set[str]:
        """Record each digest's content hash (by name); return the names whose content
        is new: never seen, or changed since. Call it inside the caller's transaction,
        so that a dry run (rolled back) records nothing."""
        fresh = set()
        for name, sha256 in hashes.items():
            row = self.db.execute("SELECT sha256 FROM digests WHERE path = ?", (name,)).fetchone()
            if row is not None and row[0] == sha256:
                continue
            fresh.add(name)
            self.db.execute(
                "INSERT INTO digests (path, sha256) VALUES (?, ?) ON CONFLICT (path) DO UPDATE "
                "SET sha256 = excluded.sha256, seen_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                (name, sha256),
            )
        return fresh

    def papers(self) -> list[Paper]:
        """Every stored paper, oldest first."""
        rows = self.db.execute("SELECT * FROM papers ORDER BY id").fetchall()
        return [_paper(row) for row in rows]

    def paper_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM papers").fetchone()[0])


def _split_source(source: str) -> tuple[str, int]:
    path, _, line = source.rpartition(":")
    return path, int(line)


def _content(paper: Paper) -> tuple[str, str, str, str, str, str | None]:
    return (
        paper.arxiv_id,
        paper.title_en,
        paper.title_zh,
        paper.url,
        paper.summary_zh,
        paper.summary_en,
    )


def _changed(row: sqlite3.Row, paper: Paper, source_line: int) -> bool:
    return (row["title_en"], row["title_zh"], row["summary_zh"], row["summary_en"]) != (
        paper.title_en,
        paper.title_zh,
        paper.summary_zh,
        paper.summary_en,
    ) or row["source_line"] != source_line


def _paper(row: sqlite3.Row) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        title_en=row["title_en"],
        title_zh=row["title_zh"],
        url=row["url"],
        summary_zh=row["summary_zh"],
        summary_en=row["summary_en"],
        source=f"{row['source_file']}:{row['source_line']}",
    )
