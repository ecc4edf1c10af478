"""Compose an issue: ingest the digests, pick the unsent papers, render, archive.

Everything happens in one database transaction (the papers' arXiv metadata is
fetched just before it, never inside: `enrichment.py`); the issue's folder is
written beside its place first and renamed into place once the transaction has
committed: a failure at any step (a broken template, a full disk) records nothing
and leaves no folder behind, and a folder in place always matches the database
(`send` checks). A compose and a send never run at once (`locks.issue_lock`).

Composing again while the newest issue is still waiting to be sent composes that
issue again, under the same number, from what is unsent now (its own papers
included): edits to digests and templates show up, and no second issue is made
with the same papers. Once an issue starts sending its papers are fixed.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.compose import enrichment
from newsletter.compose.fit import mailed_bytes
from newsletter.compose.folder import FolderSwap, folder_files, folder_name
from newsletter.compose.recovery import recover
from newsletter.compose.render import IssueInfo, Renderer, Timings
from newsletter.config import Config
from newsletter.core import clock
from newsletter.core.errors import NewsletterError
from newsletter.core.locks import issue_lock
from newsletter.core.model import DigestWarning, Edition, Issue, clip_warning
from newsletter.digest import DigestSource, ParseResult, parse_sources, read_sources
from newsletter.store import Store, issues, papers


@dataclass
class ComposeResult:
    """What compose did (or, in a dry run, would do)."""

    number: int | None = None
    date: str | None = None
    folder: Path | None = None
    papers: list[str] = field(default_factory=list)
    recomposed: bool = False
    dry_run: bool = False
    editions: dict[str, Edition] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    with_metadata: list[str] = field(default_factory=list)  # papers with arXiv metadata
    unreached: list[str] = field(default_factory=list)  # papers without: arXiv did not answer

    @property
    def composed(self) -> bool:
        return self.number is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "composed": self.composed,
            "dry_run": self.dry_run,
            "issue": self.number,
            "date": self.date,
            "folder": str(self.folder) if self.folder else None,
            "recomposed": self.recomposed,
            "papers": self.papers,
            "arxiv_metadata": self.with_metadata,
            "editions": {
                name: {
                    "subject": e.subject,
                    "html_bytes": e.html_bytes,
                    "shortened": {"english": e.english_cut, "chinese": e.chinese_cut},
                }
                for name, e in self.editions.items()
            },
            "warnings": self.warnings,
        }


def today(config: Config) -> dt.date:
    """The date in the schedule's time zone: an issue is dated where it is sent from."""
    return clock.now().astimezone(ZoneInfo(config.schedule.timezone)).date()


def compose(
    config: Config,
    *,
    date: dt.date | None = None,
    max_papers: int | None = None,
    dry_run: bool = False,
    timings: Timings | None = None,
) -> ComposeResult:
    """Compose the next issue (or the waiting one again) into `issues_dir`."""
    sources = read_sources(config.digest_files(), name=lambda path: _relative(path, config.root))
    parsed = parse_sources(sources)
    plan = _Plan(config, date or today(config), max_papers or config.newsletter.max_papers)
    result = ComposeResult(dry_run=dry_run)
    renderer = Renderer(config.newsletter, config.templates_path, timings)
    with _exclusive(config, dry_run), _open_store(config, dry_run) as store:
        fetched = _fetch_metadata(config, store, plan, parsed, dry_run)  # before the transaction
        staged: FolderSwap | None = None
        try:
            with store.transaction(commit=not dry_run):
                info = plan.pick(store, sources, parsed, result)
                result.warnings += fetched.warnings
                if info is None:
                    return result
                if config.arxiv.enrich:
                    info = enrichment.attach(store.db, info)
                editions = renderer.render(info)
                _fill(result, info, editions, config, recomposed=plan.waiting is not None)
                result.unreached = [
                    arxiv_id
                    for arxiv_id in result.papers
                    if arxiv_id in fetched.unreached and arxiv_id not in result.with_metadata
                ]
                if dry_run:
                    return result
                staged = _stage_folder(config, info, editions)
                issues.save(
                    store.db,
                    Issue(
                        number=info.number,
                        date=info.date.isoformat(),
                        subject=editions["bilingual"].subject,
                        folder=info.folder,
                        papers=tuple(result.papers),
                    ),
                )
            # Committed: only now may the folder that says what goes out change.
            _place_folder(config, info, staged, plan.waiting)
        except BaseException:
            if staged:
                staged.rollback()
            raise
        staged.commit()
    return result


def _fetch_metadata(
    config: Config, store: Store, plan: _Plan, parsed: ParseResult, dry_run: bool
) -> enrichment.Prefetched:
    """arXiv metadata for the papers about to be picked (a dry run uses the cache only)."""
    if dry_run or not config.arxiv.enrich:
        return enrichment.Prefetched()
    picks = enrichment.preview(store.db, parsed.papers, plan.limit)
    return enrichment.prefetch(store, picks, config) if picks else enrichment.Prefetched()


def fetch_ahead(config: Config) -> enrichment.Prefetched:
    """Fetch the arXiv metadata the next compose's papers lack, without composing:
    the weekly job asks again with this until arXiv answers (or its wait is over)."""
    if not config.arxiv.enrich:
        return enrichment.Prefetched()
    sources = read_sources(config.digest_files(), name=lambda path: _relative(path, config.root))
    parsed = parse_sources(sources)
    with Store.open(config.database_path) as store:
        picks = enrichment.preview(store.db, parsed.papers, config.newsletter.max_papers)
        return enrichment.prefetch(store, picks, config) if picks else enrichment.Prefetched()


@dataclass
class _Plan:
    """What goes into the issue: picked inside compose's transaction."""

    config: Config
    date: dt.date
    limit: int
    waiting: Issue | None = None

    def pick(
        self, store: Store, sources: list[DigestSource], parsed: ParseResult, result: ComposeResult
    ) -> IssueInfo | None:
        """Mend a killed compose, ingest, and choose the papers and the issue number."""
        db = store.db
        if not result.dry_run:  # a killed compose's leftovers, judged under the write lock
            result.warnings += recover(self.config.issues_path, lambda n: issues.get(db, n))
        ingested = papers.ingest(db, parsed.papers)
        result.warnings += _first_seen(store, sources, parsed.warnings + ingested.warnings)
        result.warnings += _sending_notes(store)
        self.waiting = issues.waiting(db)
        chosen = papers.unsent(db, self.limit, self.waiting.number if self.waiting else None)
        if not chosen:
            return None
        number = self.waiting.number if self.waiting else issues.next_number(db)
        return IssueInfo(number, self.date, folder_name(number, self.date.isoformat()), chosen)


def _exclusive(config: Config, dry_run: bool) -> AbstractContextManager[object]:
    """No `send` may read an issue while it is composed (a dry run changes nothing)."""
    return nullcontext() if dry_run else issue_lock(config.database_path, "compose")


def _stage_folder(config: Config, info: IssueInfo, editions: dict[str, Edition]) -> FolderSwap:
    """Write the issue's folder beside its place, not yet in it."""
    files = folder_files(
        info.number, info.date.isoformat(), [paper.arxiv_id for paper in info.papers], editions
    )
    try:
        return FolderSwap(config.issues_path, info.folder, files)
    except OSError as error:
        raise NewsletterError(
            f"cannot write issue {info.number} into {config.issues_path}: {error.strerror or error}"
        ) from None


def _place_folder(config: Config, info: IssueInfo, swap: FolderSwap, waiting: Issue | None) -> None:
    """Rename the staged folder into place, replacing the waiting issue's."""
    try:
        swap.replace(*([config.issues_path / waiting.folder] if waiting else []))
    except OSError as error:
        raise NewsletterError(
            f"issue {info.number} is recorded but its folder could not be put in place in "
            f"{config.issues_path}: {error.strerror or error}; `newsletter compose` again "
            "writes it (`send` refuses it until then)"
        ) from None


def _open_store(config: Config, dry_run: bool) -> Store:
    """The store; a dry run with no database yet uses a throw-away one."""
    if dry_run and not config.database_path.exists():
        return Store.open_in_memory()
    return Store.open(config.database_path)


def _relative(path: Path, root: Path) -> str:
    """Digest paths as the user sees them: relative to the workspace when inside it."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return os.fspath(path)


def _first_seen(
    store: Store, sources: list[DigestSource], warnings: list[DigestWarning]
) -> list[str]:
    """The warnings about digests whose content this store has not seen before.

    A digest's warnings (a stray paragraph in an old digest) are news the first time
    compose reads it, and again when it changes; repeating them every week, in every
    log, only teaches people to skip warnings. `newsletter digest parse` shows all.
    """
    fresh = papers.see_digests(store.db, {source.name: source.sha256 for source in sources})
    return [str(warning) for warning in warnings if warning.path in fresh]


def _sending_notes(store: Store) -> list[str]:
    return [
        f"issue {issue.number} is still being sent: `newsletter send` finishes it"
        for issue in issues.listing(store.db)
        if issue.status == "sending"
    ]


def _fill(
    result: ComposeResult,
    info: IssueInfo,
    editions: dict[str, Edition],
    config: Config,
    recomposed: bool,
) -> None:
    result.number = info.number
    result.date = info.date.isoformat()
    result.folder = config.issues_path / info.folder
    result.papers = [paper.arxiv_id for paper in info.papers]
    result.with_metadata = [paper.arxiv_id for paper in info.papers if paper.meta]
    result.recomposed = recomposed
    result.editions = editions
    for edition in editions.values():
        warning = clip_warning(edition.name, mailed_bytes(edition.html, config.newsletter.base_url))
        if warning:
            result.warnings.append(warning)
    shortened = [_shortened(edition) for edition in editions.values()]
    if any(shortened):
        result.warnings.append(
            "shortened at a sentence to stay under Gmail's clip, each with a link to the rest "
            f"(on the issue's web page, or arXiv): {'; '.join(filter(None, shortened))}"
        )


def _shortened(edition: Edition) -> str:
    """`the en edition's 12 English texts`: what was cut in `edition` ("" for nothing)."""
    counts = [
        f"{count} {one if count == 1 else many}"
        for count, one, many in (
            (edition.english_cut, "English text", "English texts"),
            (edition.chinese_cut, "Chinese summary", "Chinese summaries"),
        )
        if count
    ]
    return f"the {edition.name} edition's {' and '.join(counts)}" if counts else ""
