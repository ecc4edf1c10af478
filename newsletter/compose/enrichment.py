"""The arXiv metadata an issue carries: fetched before compose's write transaction,
attached to the picked papers inside it.

Fetching waits on the network (seconds, a minute at worst), so it happens before
the transaction that records the issue: SQLite's write lock is never held over a
request, and the web side's writes (unsubscribes, sign-ups) go on meanwhile. It
fetches for the papers `preview` says compose will pick; the pick itself, made in
the transaction, decides, and a paper it chose without cached metadata is simply
rendered without. Metadata is optional: a failure is one warning (naming
`newsletter digest enrich`), and the next compose fills in what is missing; the
weekly job waits for arXiv first (`[arxiv] wait`, schedule/job.py) with `fetch_ahead`.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class Prefetched:
    """What fetching before compose came to: the warnings to show, and the papers
    arXiv could not be asked about (down, or refusing), whose metadata is still missing."""

    warnings: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    error: str = ""  # why arXiv could not be asked, when it could not


def prefetch(store: Store, picks: Sequence[Paper], config: Config) -> Prefetched:
    """Fetch what the cache lacks for `picks`; what came of it."""
    report = fetch_missing(store, picks, config)
    unreached = [paper.arxiv_id for paper in report.unfetched]
    done = Prefetched(report.warnings(), unreached, report.error or "")
    if report.error:
        done.warnings.append(missing_line(report.error, len(report.unfetched)))
    return done


def missing_line(error: str, count: int) -> str:
    """The one line that says an issue goes without some of arXiv's abstracts, and what
    fetches them later."""
    return (
        f"arXiv metadata: {error}; composed without arXiv abstracts for {count} "
        f"paper{'s' * (count != 1)}: `newsletter digest enrich` fetches them once arXiv "
        "answers, and composing again before the send puts them in"
    )


def attach(db: sqlite3.Connection, info: IssueInfo) -> IssueInfo:
    """The issue with each paper's cached metadata (`paper.meta`, None if none)."""
    found = metadata.get(db, [paper.arxiv_id for paper in info.papers])
    return dataclasses.replace(
        info,
        papers=[
            dataclasses.replace(paper, meta=found.get(paper.arxiv_id)) for paper in info.papers
        ],
    )
