"""Fill the store's metadata cache for some papers: what is missing, fetched once.

`fetch_missing` is what both `compose` (for the papers it picks) and `newsletter
digest enrich` (for every known paper) call. It reads the cache, asks the API for
the rest in batches, and stores each batch's answer in a short transaction of its
own, so no write lock is ever held while the network is waited on, and what was
fetched stays fetched even if a later batch fails. A failure never raises: it is
the report's `error`, and the papers it left without metadata are `unfetched`.
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from newsletter.config import Config
from newsletter.core.errors import ArxivError
from newsletter.core.model import Paper, PaperMeta
from newsletter.core.version import version
from newsletter.enrich.atom import Feed, match_key
from newsletter.enrich.client import BATCH, ArxivClient
from newsletter.store import Store, metadata


@dataclass
class EnrichReport:
    """What a fill did, paper by paper (ids in the order asked)."""

    fetched: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    unknown: list[Paper] = field(default_factory=list)  # arXiv has no such paper
    unfetched: list[Paper] = field(default_factory=list)  # left out by `error`
    strangers: list[tuple[Paper, str]] = field(default_factory=list)  # arXiv's title differs
    error: str | None = None  # why the API could not be asked or understood

    @property
    def missing(self) -> int:
        return len(self.unknown) + len(self.unfetched)

    def summary(self) -> str:
        fetched, cached = len(self.fetched), len(self.cached)
        total = fetched + cached + self.missing
        return (
            f"arXiv metadata for {total} paper{'s' * (total != 1)}: fetched {fetched}, "
            f"cached {cached}, missing {self.missing}"
        )

    def warnings(self) -> list[str]:
        """One line per paper arXiv does not know, or knows by another title: most
        likely a typo in its link (shown when fetched, not every compose)."""
        unknown = [
            f"{paper.source}: arXiv does not know paper {paper.arxiv_id}: check its link"
            for paper in self.unknown
        ]
        return unknown + [
            f"{paper.source}: arXiv's title for {paper.arxiv_id} is {title!r}, not the "
            f"digest's {paper.title_en!r}: check its link"
            for paper, title in self.strangers
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "cached": self.cached,
            "unknown": [paper.arxiv_id for paper in self.unknown],
            "unfetched": [paper.arxiv_id for paper in self.unfetched],
            "other_title": [paper.arxiv_id for paper, _ in self.strangers],
            "error": self.error,
        }


def user_agent(config: Config) -> str:
    """`newsletter/0.1.0 (+https://digest.example.org; mailto:digest@example.org)`:
    arXiv asks to be told who is calling and how to reach them."""
    address = email.utils.parseaddr(config.newsletter.from_)[1]
    return f"newsletter/{version()} (+{config.newsletter.base_url}; mailto:{address})"


def fetch_missing(
    store: Store, papers: Sequence[Paper], config: Config, *, refresh: bool = False
) -> EnrichReport:
    """Fetch and cache the metadata of `papers` that the store lacks (all, with
    `refresh`); say what was done."""
    wanted = list({paper.arxiv_id: paper for paper in papers}.values())
    cached = {} if refresh else metadata.get(store.db, [paper.arxiv_id for paper in wanted])
    report = EnrichReport(cached=[p.arxiv_id for p in wanted if p.arxiv_id in cached])
    missing = [paper for paper in wanted if paper.arxiv_id not in cached]
    client = ArxivClient(config.arxiv, user_agent(config))
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        try:
            found = _fetch_batch(client, batch)
        except ArxivError as error:
            report.error = str(error)
            report.unfetched = missing[start:]
            break
        with store.transaction() as db:
            metadata.save(db, found.values())
        _record(report, batch, found)
    return report


def _record(report: EnrichReport, batch: list[Paper], found: dict[str, PaperMeta]) -> None:
    for paper in batch:
        meta = found.get(paper.arxiv_id)
        if meta is None:
            report.unknown.append(paper)
            continue
        report.fetched.append(paper.arxiv_id)
        if _strangers(paper, meta):
            report.strangers.append((paper, meta.title))


def _strangers(paper: Paper, meta: PaperMeta) -> bool:
    """Whether the digest's English title and arXiv's share too few words to be the
    same paper's (a digest may shorten a title, rarely reword it)."""
    ours = set(re.findall(r"\w+", paper.title_en.casefold()))
    theirs = set(re.findall(r"\w+", meta.title.casefold()))
    return len(ours) >= 3 and len(ours & theirs) < len(ours) / 2


def _fetch_batch(client: ArxivClient, batch: list[Paper]) -> dict[str, PaperMeta]:
    """Metadata by our id for those of `batch` the API knows.

    The API refuses a whole query for one id it takes for malformed (an error entry
    naming it): that id is left out and the rest asked again.
    """
    asking = list(batch)
    while asking:
        feed = client.fetch([paper.arxiv_id for paper in asking])
        named = _named_in_errors(feed, asking)
        if not feed.errors:
            return _ours(feed, asking)
        if not named:
            raise ArxivError(f"{client.host} refused the query: {feed.errors[0]}")
        asking = [paper for paper in asking if paper not in named]
    return {}


def _named_in_errors(feed: Feed, papers: list[Paper]) -> list[Paper]:
    words = {word.strip(".,;:'\"").lower() for error in feed.errors for word in error.split()}
    return [paper for paper in papers if paper.arxiv_id.lower() in words]


def _ours(feed: Feed, papers: list[Paper]) -> dict[str, PaperMeta]:
    """The answer's entries under the ids we asked with (arXiv may spell them otherwise)."""
    by_key = {match_key(api_id): meta for api_id, meta in feed.entries.items()}
    found = {}
    for paper in papers:
        meta = by_key.get(match_key(paper.arxiv_id))
        if meta is not None:
            found[paper.arxiv_id] = dataclasses.replace(meta, arxiv_id=paper.arxiv_id)
    return found
