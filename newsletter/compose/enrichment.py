"""The arXiv metadata an issue carries: fetched before compose's write transaction,
attached to the picked papers inside it.

Fetching waits on the network (seconds, a minute at worst), so it happens before
the transaction that records the issue: SQLite's write lock is never held over a
request, and the web side's writes (unsubscribes, sign-ups) go on meanwhile. It
fetches for the papers `preview` says compose will pick; the pick itself, made in
the transaction, decides, and a paper it chose without cached metadata is simply
rendered without. Metadata is optional: a failure is one warning, and the next
compose fills in what is missing.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence

from newsletter.compose.render import IssueInfo
from newsletter.config import Config
from newsletter.core.model import Paper
from newsletter.enrich import fetch_missing
from newsletter.store import Store, issues, metadata, papers


def preview(db: sqlite3.Connection, parsed: Sequence[Paper], limit: int) -> list[Paper]:
    """The papers compose will pick, read without writing: the stored unsent ones
    (and the waiting issue's), oldest first, then the digests' new ones in order."""
    waiting = issues.waiting(db)
    chosen = papers.unsent(db, limit, waiting.number if waiting else None)
    stored, _ = papers.stored_and_issued(db)
    return (chosen + [paper for paper in parsed if paper.arxiv_id not in stored])[:limit]


def prefetch(store: Store, picks: Sequence[Paper], config: Config) -> list[str]:
    """Fetch what the cache lacks for `picks`; the warnings to show."""
    report = fetch_missing(store, picks, config)
    warnings = report.warnings()
    if report.error:
        count = len(report.unfetched)
        warnings.append(
            f"arXiv metadata: {report.error}; composing without it for {count} "
            f"paper{'s' * (count != 1)}: the next compose fills it in"
        )
    return warnings


def attach(db: sqlite3.Connection, info: IssueInfo) -> IssueInfo:
    """The issue with each paper's cached metadata (`paper.meta`, None if none)."""
    found = metadata.get(db, [paper.arxiv_id for paper in info.papers])
    return dataclasses.replace(
        info,
        papers=[
            dataclasses.replace(paper, meta=found.get(paper.arxiv_id)) for paper in info.papers
        ],
    )
