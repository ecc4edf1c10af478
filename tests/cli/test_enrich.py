"""`newsletter digest enrich`, and compose through the CLI while arXiv is down, then up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.arxivd import ArxivServer, arxiv_toml, arxiv_workspace
from tests.conftest import ROOT
from tests.helpers import add_digest, write_config

KNOWN = ["2407.04051", "hep-th/9901001", "math.GT/0309136"]
UNKNOWN = "digests/arxiv.md:15: arXiv does not know paper 2407.99999: check its link\n"


@pytest.fixture
def site(workspace: Path, arxiv: ArxivServer) -> Path:
    return arxiv_workspace(workspace, arxiv)


def enrich(*options: str) -> Result:
    return CliRunner().invoke(cli, ["digest", "enrich", *options])


def test_enrich_fetches_for_the_digests_papers_and_says_what_it_did(site: Path) -> None:
    result = enrich()
    assert result.exit_code == 0, result.output
    assert result.stdout == "arXiv metadata for 4 papers: fetched 3, cached 0, missing 1\n"
    assert result.stderr == UNKNOWN


def test_enrich_again_uses_the_cache_and_refresh_fetches_again(
    site: Path, arxiv: ArxivServer
) -> None:
    enrich()
    again = enrich()
    assert again.stdout == "arXiv metadata for 4 papers: fetched 0, cached 3, missing 1\n"
    assert arxiv.seen[-1].ids == ["2407.99999"]
    fresh = enrich("--refresh", "--json")
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout) == {
        "fetched": KNOWN,
        "cached": [],
        "unknown": ["2407.99999"],
        "unfetched": [],
        "other_title": [],
        "error": None,
    }
    assert len(arxiv.seen[-1].ids) == 4


def test_enrich_covers_stored_papers_the_digests_no_longer_name(
    site: Path, arxiv: ArxivServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_ARXIV_ENRICH", "0")  # compose stores them, fetches nothing
    assert CliRunner().invoke(cli, ["compose"]).exit_code == 0
    monkeypatch.delenv("NEWSLETTER_ARXIV_ENRICH")
    assert arxiv.seen == []
    add_digest(site, "arxiv.md", "2407.10001")  # the digest now names another paper
    result = enrich()
    assert arxiv.seen[0].ids == [
        "2407.04051",
        "hep-th/9901001",
        "math.GT/0309136",
        "2407.99999",
        "2407.10001",
    ]
    assert result.stdout.startswith("arXiv metadata for 5 papers: fetched 3")


def test_enrich_false_does_not_stop_an_explicit_enrich(site: Path, arxiv: ArxivServer) -> None:
    write_config(site, arxiv_toml(arxiv, enrich=False))
    assert enrich().exit_code == 0
    assert len(arxiv.seen) == 1


def test_enrich_without_arxiv_is_one_line_and_exit_1(site: Path, arxiv: ArxivServer) -> None:
    arxiv.stop()
    result = enrich()
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: arXiv metadata: could not reach 127.0.0.1:{arxiv.port} "
        "(connection refused; 3 tries)\n"
    )


def test_compose_while_arxiv_is_down_then_up(site: Path, arxiv: ArxivServer) -> None:
    """End to end: the first compose goes on without metadata and says so in one line;
    composing the waiting issue again once arXiv is back fills it in."""
    template = (ROOT / "templates" / "issue.txt.j2").read_text(encoding="utf-8")
    (site / "templates").mkdir()
    (site / "templates" / "issue.txt.j2").write_text(
        template + "{% for paper in papers %}BY {{ paper.meta.authors|join(', ') "
        "if paper.meta else '?' }}\n{% endfor %}",
        encoding="utf-8",
    )
    edition = site / "issues" / "0001-2024-07-15" / "en.txt"

    arxiv.stop()
    down = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15"])
    assert down.exit_code == 0, down.output
    assert down.stdout.startswith("Composed issue 1 (2024-07-15), 4 papers")
    assert down.stderr == (
        f"arXiv metadata: could not reach 127.0.0.1:{arxiv.port} (connection refused; "
        "3 tries); composed without arXiv abstracts for 4 papers: `newsletter digest enrich` "
        "fetches them once arXiv answers, and composing again before the send puts them in\n"
    )
    assert _by_lines(edition) == ["BY ?"] * 4

    arxiv.start()
    up = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15", "--json"])
    assert up.exit_code == 0, up.output
    document = json.loads(up.stdout)
    assert (document["issue"], document["recomposed"]) == (1, True)
    assert document["arxiv_metadata"] == KNOWN
    assert up.stderr == UNKNOWN
    assert _by_lines(edition) == [
        "BY Keyu An, Qian Chen, Chong Deng",
        "BY B. Example, C. D. Sample",
        "BY Ada Example",
        "BY ?",
    ]
    assert [seen.ids for seen in arxiv.seen] == [[*KNOWN, "2407.99999"]]


def _by_lines(edition: Path) -> list[str]:
    return [line for line in edition.read_text(encoding="utf-8").splitlines() if line[:3] == "BY "]
