"""Papers by arXiv id, and the digest files compose has read (their content hashes)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from newsletter.core.clock import SQL_NOW
from newsletter.core.model import DigestWarning, Paper


@dataclass
class IngestResult:
    """What ingesting digests changed in the store."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    warnings: list[DigestWarning] = field(default_factory=list)


def ingest(db: sqlite3.Connection, papers: Iterable[Paper]) -> IngestResult:
    """Store papers by arXiv id (call it in a transaction).

    The first digest that names a paper keeps it; the same digest may edit it (a
    typo fixed in the summary) until its issue starts sending; another digest
    naming it again is a warning and never a second row.
    """
    result = IngestResult()
    for paper in papers:
        row = db.execute(
            "SELECT source_file, source_line, title_en, title_zh, summary_zh, summary_en "
            "FROM papers WHERE arxiv_id = ?",
            (paper.arxiv_id,),
        ).fetchone()
        if row is None:
            db.execute(
                "INSERT INTO papers (arxiv_id, title_en, title_zh, url, summary_zh, summary_en, "
                "source_file, source_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*_content(paper), paper.source_file, paper.source_line),
            )
            result.added.append(paper.arxiv_id)
        elif row["source_file"] != paper.source_file:
            first = f"{row['source_file']}:{row['source_line']}"
            result.warnings.append(
                DigestWarning(
                    paper.source_file,
                    paper.source_line,
                    f"paper {paper.arxiv_id} was first given in {first}; that entry is kept",
                )
            )
        elif _changed(row, paper) and not _is_mailed(db, paper.arxiv_id):
            db.execute(
                "UPDATE papers SET title_en = ?, title_zh = ?, url = ?, summary_zh = ?, "
                "summary_en = ?, source_line = ? WHERE arxiv_id = ?",
                (*_content(paper)[1:], paper.source_line, paper.arxiv_id),
            )
            result.updated.append(paper.arxiv_id)
    return result


def unsent(db: sqlite3.Connection, limit: int, releasing: int | None = None) -> list[Paper]:
    """Papers in no issue (or only in issue `releasing`), oldest first."""
    rows = db.execute(
        "SELECT papers.* FROM papers LEFT JOIN issue_papers ON issue_papers.paper = papers.id "
        "WHERE issue_papers.issue IS NULL OR issue_papers.issue = ? "
        "ORDER BY papers.id LIMIT ?",
        (releasing, limit),
    ).fetchall()
    return [_paper(row) for row in rows]


def every(db: sqlite3.Connection) -> list[Paper]:
    """Every stored paper, oldest first."""
    return [_paper(row) for row in db.execute("SELECT * FROM papers ORDER BY id")]


def stored_and_issued(db: sqlite3.Connection) -> tuple[set[str], set[str]]:
    """The arXiv ids of every stored paper, and of those in an issue."""
    stored = {row[0] for row in db.execute("SELECT arxiv_id FROM papers")}
    issued = {
        row[0]
        for row in db.execute("SELECT arxiv_id FROM papers JOIN issue_papers ON paper = papers.id")
    }
    return stored, issued


def see_digests(db: sqlite3.Connection, hashes: Mapping[str, str]) -> set[str]:
    """Record each digest's content hash (by name); return the names whose content is
    new: never seen, or changed since. In the caller's transaction, so that a dry run
    (rolled back) records nothing."""
    fresh = set()
    for name, sha256 in hashes.items():
        row = db.execute("SELECT sha256 FROM digests WHERE path = ?", (name,)).fetchone()
        if row is not None and row[0] == sha256:
            continue
        fresh.add(name)
        db.execute(
            "INSERT INTO digests (path, sha256) VALUES (?, ?) ON CONFLICT (path) DO UPDATE "
            f"SET sha256 = excluded.sha256, seen_at = {SQL_NOW}",
            (name, sha256),
        )
    return fresh


def _is_mailed(db: sqlite3.Connection, arxiv_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM papers JOIN issue_papers ON issue_papers.paper = papers.id "
        "JOIN issues ON issues.number = issue_papers.issue "
        "WHERE papers.arxiv_id = ? AND issues.status != 'composed'",
        (arxiv_id,),
    ).fetchone()
    return row is not None


def _content(paper: Paper) -> tuple[str, str, str, str, str, str | None]:
    return (
        paper.arxiv_id,
        paper.title_en,
        paper.title_zh,
        paper.url,
        paper.summary_zh,
        paper.summary_en,
    )


def _changed(row: sqlite3.Row, paper: Paper) -> bool:
    stored = (
        row["title_en"],
        row["title_zh"],
        row["summary_zh"],
        row["summary_en"],
        row["source_line"],
    )
    return stored != (
        paper.title_en,
        paper.title_zh,
        paper.summary_zh,
        paper.summary_en,
        paper.source_line,
    )


def _paper(row: sqlite3.Row) -> Paper:
    return Paper(
        arxiv_id=row["arxiv_id"],
        title_en=row["title_en"],
        title_zh=row["title_zh"],
        url=row["url"],
        summary_zh=row["summary_zh"],
        summary_en=row["summary_en"],
        source_file=row["source_file"],
        source_line=row["source_line"],
    )
