"""Every paper the tool knows of, for `newsletter digest enrich`: those in the store,
then those the digests name now (read, not stored: storing is compose's job)."""

from __future__ import annotations

import os
from pathlib import Path

from newsletter.config import Config
from newsletter.core.errors import NewsletterError
from newsletter.core.model import Paper
from newsletter.digest import parse_sources, read_sources
from newsletter.enrich.fetch import EnrichReport, fetch_missing
from newsletter.store import Store, papers


def enrich_known(config: Config, *, refresh: bool = False) -> EnrichReport:
    """Fetch the metadata every known paper lacks (all of it, with `refresh`)."""
    with Store.open(config.database_path) as store:
        known = papers.every(store.db)
        stored = {paper.arxiv_id for paper in known}
        known += [paper for paper in _in_digests(config) if paper.arxiv_id not in stored]
        return fetch_missing(store, known, config, refresh=refresh)


def _in_digests(config: Config) -> list[Paper]:
    """The digests' papers; none when the digests cannot be read (compose says why)."""
    try:
        sources = read_sources(config.digest_files(), name=lambda path: _shown(path, config.root))
    except NewsletterError:
        return []
    return parse_sources(sources).papers


def _shown(path: Path, root: Path) -> str:
    """A digest's name as compose stores it: relative to the workspace when inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return os.fspath(path)
