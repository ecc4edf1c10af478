"""Issues and their papers, in order: composed, then sending, then sent.

A paper belongs to at most one issue (`issue_papers.paper` is UNIQUE), so the
schema itself keeps a paper from going out twice.
"""

from __future__ import annotations

import sqlite3

from newsletter.core.clock import SQL_NOW
from newsletter.core.model import Issue


def get(db: sqlite3.Connection, number: int) -> Issue | None:
    row = db.execute("SELECT * FROM issues WHERE number = ?", (number,)).fetchone()
    return _issue(db, row) if row else None


def listing(db: sqlite3.Connection) -> list[Issue]:
    """Every issue, oldest first."""
    rows = db.execute("SELECT * FROM issues ORDER BY number").fetchall()
    return [_issue(db, row) for row in rows]


def waiting(db: sqlite3.Connection) -> Issue | None:
    """The issue composed and not yet being sent, if there is one."""
    row = db.execute(
        "SELECT * FROM issues WHERE status = 'composed' ORDER BY number DESC LIMIT 1"
    ).fetchone()
    return _issue(db, row) if row else None


def next_number(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(number), 0) + 1 FROM issues").fetchone()[0])


def save(db: sqlite3.Connection, issue: Issue) -> None:
    """Record a composed issue, replacing the waiting issue of the same number."""
    db.execute("DELETE FROM issue_papers WHERE issue = ?", (issue.number,))
    db.execute(
        "INSERT INTO issues (number, date, subject, folder) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (number) DO UPDATE SET date = excluded.date, "
        "subject = excluded.subject, folder = excluded.folder, "
        f"composed_at = {SQL_NOW}",
        (issue.number, issue.date, issue.subject, issue.folder),
    )
    db.executemany(
        "INSERT INTO issue_papers (issue, position, paper) "
        "SELECT ?, ?, id FROM papers WHERE arxiv_id = ?",
        [(issue.number, position, arxiv_id) for position, arxiv_id in enumerate(issue.papers)],
    )


def mark_sending(db: sqlite3.Connection, number: int) -> None:
    """Its papers are fixed from now on; compose will not touch it again."""
    db.execute("UPDATE issues SET status = 'sending' WHERE number = ?", (number,))


def mark_sent(db: sqlite3.Connection, number: int) -> None:
    db.execute(
        "UPDATE issues SET status = 'sent', "
        f"sent_at = coalesce(sent_at, {SQL_NOW}) WHERE number = ?",
        (number,),
    )


def _issue(db: sqlite3.Connection, row: sqlite3.Row) -> Issue:
    papers = db.execute(
        "SELECT papers.arxiv_id FROM issue_papers JOIN papers ON papers.id = issue_papers.paper "
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
