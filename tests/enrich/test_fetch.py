"""Filling the cache: fetched once per paper, in batches, and a failure is a report."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import Config, load_config
from newsletter.digest import parse_files
from newsletter.enrich import fetch_missing
from newsletter.enrich.fetch import user_agent
from newsletter.store import Store, metadata
from tests.arxivd import DATA, ArxivServer, Reply, arxiv_toml
from tests.helpers import make_paper, write_config

PAPERS = parse_files([DATA / "digest.md"], name=lambda path: "digests/a.md").papers


@pytest.fixture
def config(workspace: Path, arxiv: ArxivServer) -> Config:
    write_config(workspace, arxiv_toml(arxiv))
    return load_config()


@pytest.fixture
def store(config: Config) -> Store:
    return Store.open(config.database_path)


def test_what_is_found_is_cached_under_our_ids(config: Config, store: Store) -> None:
    report = fetch_missing(store, PAPERS, config)
    assert report.fetched == ["2407.04051", "hep-th/9901001", "math.GT/0309136"]
    assert (report.cached, report.error, report.unfetched) == ([], None, [])
    assert report.unknown == [PAPERS[3]]
    assert report.warnings() == [
        "digests/a.md:15: arXiv does not know paper 2407.99999: check its link"
    ]
    assert report.summary() == "arXiv metadata for 4 papers: fetched 3, cached 0, missing 1"
    cached = metadata.get(store.db, [paper.arxiv_id for paper in PAPERS])
    assert sorted(cached) == ["2407.04051", "hep-th/9901001", "math.GT/0309136"]
    assert cached["math.GT/0309136"].arxiv_id == "math.GT/0309136"  # asked so, answered math/…
    assert cached["math.GT/0309136"].title == "A Test Knot Invariant for Old-Style Identifiers"


def test_a_paper_arxiv_knows_by_another_title_is_a_warning(config: Config, store: Store) -> None:
    typo = make_paper("2407.04051", "digests/b.md:9")  # "Title 2407.04051": not FunAudioLLM
    report = fetch_missing(store, [typo], config)
    assert report.warnings() == [
        "digests/b.md:9: arXiv's title for 2407.04051 is 'FunAudioLLM: Voice Understanding and "
        "Generation Foundation Models for Natural Interaction Between Humans and LLMs', not the "
        "digest's 'Title 2407.04051': check its link"
    ]
    assert fetch_missing(store, [typo], config).warnings() == []  # said once, when fetched


def test_a_paper_is_fetched_once(config: Config, store: Store, arxiv: ArxivServer) -> None:
    fetch_missing(store, PAPERS, config)
    again = fetch_missing(store, PAPERS, config)
    assert again.cached == ["2407.04051", "hep-th/9901001", "math.GT/0309136"]
    assert again.fetched == []
    assert arxiv.seen[1].ids == ["2407.99999"]  # only what is still missing is asked for
    fetch_missing(store, PAPERS[:3], config)
    assert len(arxiv.seen) == 2  # nothing missing: no request at all


def test_refresh_fetches_again(config: Config, store: Store, arxiv: ArxivServer) -> None:
    fetch_missing(store, PAPERS, config)
    with store.transaction() as db:  # as if arXiv had said something else then
        db.execute("UPDATE arxiv_metadata SET title = 'Old title', version = 1")
    report = fetch_missing(store, PAPERS[:2], config, refresh=True)
    assert report.fetched == ["2407.04051", "hep-th/9901001"] and report.cached == []
    assert arxiv.seen[-1].ids == ["2407.04051", "hep-th/9901001"]
    fresh = metadata.get(store.db, ["2407.04051", "math.GT/0309136"])
    assert (fresh["2407.04051"].version, fresh["2407.04051"].title[:11]) == (2, "FunAudioLLM")
    assert fresh["math.GT/0309136"].title == "Old title"  # not asked: left as it was


def test_papers_are_asked_for_in_batches_of_100(
    config: Config, store: Store, arxiv: ArxivServer
) -> None:
    many = [make_paper(f"2407.{10000 + i}", f"digests/a.md:{i + 1}") for i in range(250)]
    report = fetch_missing(store, many, config)
    assert [len(seen.ids) for seen in arxiv.seen] == [100, 100, 50]
    assert [seen.query["max_results"] for seen in arxiv.seen] == [["100"], ["100"], ["50"]]
    assert all(gap >= 0.05 for gap in arxiv.gaps())  # the configured interval
    assert len(report.unknown) == 250  # the feed names none of them


def test_an_id_arxiv_refuses_is_left_out_and_the_rest_asked_again(
    config: Config, store: Store, arxiv: ArxivServer
) -> None:
    typo = make_paper("2407.0405", "digests/a.md:19")
    arxiv.script(Reply(file="error.xml"))
    report = fetch_missing(store, [PAPERS[0], typo], config)
    assert [seen.ids for seen in arxiv.seen] == [["2407.04051", "2407.0405"], ["2407.04051"]]
    assert report.fetched == ["2407.04051"]
    assert report.unknown == [typo]


def test_an_error_naming_none_of_ours_fails_the_batch(
    config: Config, store: Store, arxiv: ArxivServer
) -> None:
    arxiv.script(Reply(file="error.xml"))
    report = fetch_missing(store, PAPERS[:2], config)
    assert report.error == (
        f"127.0.0.1:{arxiv.port} refused the query: incorrect id format for 2407.0405"
    )
    assert report.unfetched == PAPERS[:2]


def test_a_failure_keeps_what_earlier_batches_fetched(
    config: Config, store: Store, arxiv: ArxivServer
) -> None:
    many = [PAPERS[0], *(make_paper(f"2407.{10000 + i}", f"d.md:{i}") for i in range(100))]
    arxiv.script(Reply(), Reply(status=503), Reply(status=503), Reply(status=503))
    report = fetch_missing(store, many, config)
    assert report.error == f"could not reach 127.0.0.1:{arxiv.port} (HTTP 503; 3 tries)"
    assert report.fetched == ["2407.04051"]
    assert [paper.arxiv_id for paper in report.unfetched] == ["2407.10099"]
    assert "2407.04051" in metadata.get(store.db, ["2407.04051"])
    assert report.summary() == "arXiv metadata for 101 papers: fetched 1, cached 0, missing 100"


def test_the_user_agent_names_the_tool_the_site_and_a_contact(config: Config) -> None:
    assert user_agent(config) == (
        "newsletter/0.1.0 (+https://digest.example.org; mailto:digest@example.org)"
    )
