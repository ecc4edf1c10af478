"""Read-only queries for the public archive: the issues that went out, with their papers.

An issue is public once its send has started (`sending` or `sent`); a composed issue
waiting for its day is not. The web archive (`newsletter/web/archive.py`) keeps one
connection open for the life of a worker and asks `data_version` on each request, so
it reads the issues again only after someone else has written to the database.
Nothing here writes, and `connect` never creates the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from newsletter.core.model import Issue
from newsletter.store.db import schema_version

PUBLIC = ("sending", "sent")
"""The statuses of an issue anyone may read on the web."""

_ISSUES_TABLE_VERSION = 2  # the migration that created `issues` and `issue_papers`


@dataclass(frozen=True)
class ArchivedPaper:
    """A paper as the archive lists it: its titles and where to read it."""

    arxiv_id: str
    title_en: str
    title_zh: str
    url: str


@dataclass(frozen=True)
class ArchivedIssue:
    """A public issue, its papers in the order the issue gives them."""

    number: int
    date: str
    subject: str
    folder: str
    status: str
    sent_at: str | None
    papers: tuple[ArchivedPaper, ...]

    def as_issue(self) -> Issue:
        """The issue as `compose.folder.read_folder` checks its folder against."""
        ids = tuple(paper.arxiv_id for paper in self.papers)
        return Issue(self.number, self.date, self.subject, self.folder, ids, self.status)


def connect(path: Path) -> sqlite3.Connection | None:
    """A connection to read from, or None while there is no database yet.

    No migration runs and no lock is taken (`Store.open` takes the write lock to check
    the schema, which would queue a page view behind a send's ledger writes).
    """
    if not path.is_file():
        return None
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def data_version(db: sqlite3.Connection) -> int:
    """A number that changes whenever another connection commits to the database."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def public_issues(db: sqlite3.Connection) -> list[ArchivedIssue]:
    """Every public issue, newest first, with its papers (one statement: one moment)."""
    if schema_version(db) < _ISSUES_TABLE_VERSION:
        return []
    rows = db.execute(
        "SELECT issues.number, issues.date, issues.subject, issues.folder, issues.status, "
        "issues.sent_at, papers.arxiv_id, papers.title_en, papers.title_zh, papers.url "
        "FROM issues LEFT JOIN issue_papers ON issue_papers.issue = issues.number "
        "LEFT JOIN papers ON papers.id = issue_papers.paper "
        f"WHERE issues.status IN ({', '.join('?' for _ in PUBLIC)}) "
        "ORDER BY issues.number DESC, issue_papers.position",
        PUBLIC,
    ).fetchall()
    issues: dict[int, ArchivedIssue] = {}
    papers: dict[int, list[ArchivedPaper]] = {}
    for row in rows:
        number = row["number"]
        if number not in issues:
            issues[number] = ArchivedIssue(
                number,
                row["date"],
                row["subject"],
                row["folder"],
                row["status"],
                row["sent_at"],
                papers=(),
            )
            papers[number] = []
        if row["arxiv_id"] is not None:
            papers[number].append(
                ArchivedPaper(row["arxiv_id"], row["title_en"], row["title_zh"], row["url"])
            )
    return [replace(issue, papers=tuple(papers[number])) for number, issue in issues.items()]
