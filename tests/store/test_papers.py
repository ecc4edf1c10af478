"""Papers in the store: ingesting digests, and what is still unsent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.core.model import Paper
from newsletter.digest import parse_files
from newsletter.store import Store, papers
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import make_paper


@pytest.fixture
def store(workspace: Path) -> Iterator[Store]:
    with Store.open(workspace / "newsletter.db") as opened:
        yield opened


def stored(store: Store) -> list[Paper]:
    """Every stored paper, oldest first (none is in an issue in these tests)."""
    return papers.unsent(store.db, 1_000)


def ingest(store: Store, given: list[Paper]) -> papers.IngestResult:
    with store.transaction() as db:
        return papers.ingest(db, given)


def test_ingesting_the_sample_stores_13_papers_oldest_first(store: Store) -> None:
    given = parse_files([SAMPLE_DIGEST]).papers
    result = ingest(store, given)
    assert len(result.added) == 13 and result.updated == [] and result.warnings == []
    assert stored(store) == given


def test_ingesting_again_changes_nothing(store: Store) -> None:
    given = parse_files([SAMPLE_DIGEST]).papers
    ingest(store, given)
    again = ingest(store, given)
    assert (again.added, again.updated, again.warnings) == ([], [], [])
    assert len(stored(store)) == 13


def test_a_later_digest_naming_a_paper_again_is_a_warning_not_a_row(store: Store) -> None:
    ingest(store, [make_paper("2401.00001", "digests/week1.md:1", "第一周。")])
    result = ingest(
        store,
        [
            make_paper("2401.00002", "digests/week2.md:1"),
            make_paper("2401.00001", "digests/week2.md:5", "第二周。"),
        ],
    )
    assert result.added == ["2401.00002"]
    [warning] = result.warnings
    assert str(warning) == (
        "digests/week2.md:5: paper 2401.00001 was first given in digests/week1.md:1; "
        "that entry is kept"
    )
    assert [(p.arxiv_id, p.summary_zh) for p in stored(store)] == [
        ("2401.00001", "第一周。"),
        ("2401.00002", "摘要。"),
    ]


def test_editing_the_digest_that_first_named_a_paper_updates_it(store: Store) -> None:
    ingest(store, [make_paper("2401.00001", "digests/week1.md:1", "有错字。")])
    result = ingest(store, [make_paper("2401.00001", "digests/week1.md:3", "改好了。")])
    assert result.updated == ["2401.00001"]
    [paper] = stored(store)
    assert (paper.summary_zh, paper.source) == ("改好了。", "digests/week1.md:3")


def test_ingest_is_one_transaction(store: Store) -> None:
    def papers_then_failure() -> Iterator[Paper]:
        yield make_paper("2401.00001", "d.md:1")
        yield make_paper("2401.00002", "d.md:5")
        raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError):
        ingest(store, list(papers_then_failure()))
    assert len(stored(store)) == 0
