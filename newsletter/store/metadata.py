"""arXiv metadata by paper (`arxiv_metadata`, m010): the cache `enrich` fills.

A paper's row is written once, when arXiv first answers for it, and again only on
`newsletter digest enrich --refresh`. Reading it never touches the network.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from newsletter.core import clock
from newsletter.core.model import PaperMeta

_COLUMNS = (
    "arxiv_id, version, title, authors, abstract, primary_category, categories, "
    "published, updated, pdf_url, fetched_at"
)
_BATCH = 500  # ids per SELECT: under SQLite's limit on bound parameters


def get(db: sqlite3.Connection, arxiv_ids: Sequence[str]) -> dict[str, PaperMeta]:
    """The cached metadata of those papers that have some, by arXiv id."""
    found: dict[str, PaperMeta] = {}
    for start in range(0, len(arxiv_ids), _BATCH):
        batch = list(arxiv_ids[start : start + _BATCH])
        marks = ", ".join("?" * len(batch))
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM arxiv_metadata WHERE arxiv_id IN ({marks})", batch
        ).fetchall()
        found.update((row["arxiv_id"], _meta(row)) for row in rows)
    return found


def save(db: sqlite3.Connection, metas: Iterable[PaperMeta]) -> int:
    """Store (or replace) each paper's metadata; return how many (call it in a
    transaction)."""
    rows = [_row(meta) for meta in metas]
    db.executemany(
        f"INSERT OR REPLACE INTO arxiv_metadata ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def _row(meta: PaperMeta) -> tuple[object, ...]:
    plain = meta.to_json()
    return (
        meta.arxiv_id,
        meta.version,
        meta.title,
        json.dumps(plain["authors"]),
        meta.abstract,
        meta.primary_category,
        json.dumps(plain["categories"]),
        plain["published"],
        plain["updated"],
        meta.pdf_url,
        plain["fetched_at"],
    )


def _meta(row: sqlite3.Row) -> PaperMeta:
    return PaperMeta(
        arxiv_id=row["arxiv_id"],
        version=row["version"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        abstract=row["abstract"],
        primary_category=row["primary_category"],
        categories=tuple(json.loads(row["categories"])),
        published=clock.parse(row["published"]),
        updated=clock.parse(row["updated"]),
        pdf_url=row["pdf_url"],
        fetched_at=clock.parse(row["fetched_at"]),
    )
