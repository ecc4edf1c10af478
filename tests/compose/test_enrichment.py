"""Compose and arXiv metadata: fetched for the picked papers before the transaction,
once, never in a dry run, and handed to the templates as `paper.meta`."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from newsletter.compose import ComposeResult, compose
from newsletter.config import load_config
from tests.arxivd import ArxivServer, Seen, arxiv_toml, arxiv_workspace
from tests.conftest import ROOT
from tests.helpers import add_digest, write_config

DIGEST_IDS = ["2407.04051", "hep-th/9901001", "math.GT/0309136", "2407.99999"]
KNOWN = DIGEST_IDS[:3]
DATE = dt.date(2024, 7, 15)


@pytest.fixture
def site(workspace: Path, arxiv: ArxivServer) -> Path:
    return arxiv_workspace(workspace, arxiv)


def run(**options: object) -> ComposeResult:
    return compose(load_config(), date=DATE, **options)  # type: ignore[arg-type]


def test_compose_fetches_its_papers_in_one_request(site: Path, arxiv: ArxivServer) -> None:
    result = run()
    [seen] = arxiv.seen
    assert seen.ids == DIGEST_IDS
    assert result.with_metadata == KNOWN
    assert result.to_json()["arxiv_metadata"] == KNOWN
    assert result.warnings == [
        "digests/arxiv.md:15: arXiv does not know paper 2407.99999: check its link"
    ]


def test_no_write_lock_is_held_while_arxiv_is_asked(site: Path, arxiv: ArxivServer) -> None:
    writable = []

    def write_meanwhile(seen: Seen) -> None:  # as the web side would, mid-request
        with sqlite3.connect(site / "newsletter.db", timeout=0) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writable.append(seen.ids)

    arxiv.on_request = write_meanwhile
    assert run().composed
    assert writable == [DIGEST_IDS]


def test_the_templates_get_each_papers_metadata(site: Path) -> None:
    template = (ROOT / "templates" / "issue.txt.j2").read_text(encoding="utf-8")
    (site / "templates").mkdir()
    (site / "templates" / "issue.txt.j2").write_text(
        template
        + (
            "{% for paper in papers %}META {{ paper.arxiv_id }}: "
            "{{ paper.meta.authors|join(', ') ~ ' ' ~ paper.meta.primary_category "
            "if paper.meta else '-' }}\n{% endfor %}"
        ),
        encoding="utf-8",
    )
    result = run()
    text = (result.folder / "en.txt").read_text(encoding="utf-8")  # type: ignore[operator]
    assert [line for line in text.splitlines() if line.startswith("META")] == [
        "META 2407.04051: Keyu An, Qian Chen, Chong Deng cs.SD",
        "META hep-th/9901001: B. Example, C. D. Sample hep-th",
        "META math.GT/0309136: Ada Example math.GT",
        "META 2407.99999: -",
    ]


def test_a_second_compose_asks_for_nothing(site: Path, arxiv: ArxivServer) -> None:
    add_digest(site, "arxiv.md", *KNOWN)
    run()
    again = run()
    assert again.recomposed and again.with_metadata == KNOWN
    assert len(arxiv.seen) == 1


def test_only_what_is_missing_for_the_picked_papers_is_asked(
    site: Path, arxiv: ArxivServer
) -> None:
    add_digest(site, "arxiv.md", *KNOWN[:2])
    run(max_papers=1)  # issue 1 waits with the first; the second is stored, unsent
    add_digest(site, "later.md", KNOWN[2], "2407.10001")
    again = run(max_papers=3)  # issue 1 again: its paper, the stored one, the first new one
    assert again.papers == KNOWN
    assert [seen.ids for seen in arxiv.seen] == [KNOWN[:1], KNOWN[1:]]


def test_a_dry_run_never_fetches_but_uses_the_cache(site: Path, arxiv: ArxivServer) -> None:
    assert run(dry_run=True).with_metadata == []
    assert arxiv.seen == []
    run()
    assert run(dry_run=True).with_metadata == KNOWN
    assert len(arxiv.seen) == 1


def test_enrich_false_asks_nothing_and_renders_without(site: Path, arxiv: ArxivServer) -> None:
    run()
    write_config(site, arxiv_toml(arxiv, enrich=False))
    result = run()
    assert result.composed and result.with_metadata == []
    assert len(arxiv.seen) == 1


def test_without_arxiv_compose_goes_on_and_says_so_in_one_line(
    site: Path, arxiv: ArxivServer
) -> None:
    arxiv.stop()
    result = run()
    assert result.composed and result.papers == DIGEST_IDS
    assert result.with_metadata == []
    assert result.warnings == [
        f"arXiv metadata: could not reach 127.0.0.1:{arxiv.port} (connection refused; "
        "3 tries); composed without arXiv abstracts for 4 papers: `newsletter digest enrich` "
        "fetches them once arXiv answers, and composing again before the send puts them in"
    ]
