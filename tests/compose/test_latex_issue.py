"""An issue whose papers carry LaTeX, as a reader meets it: `newsletter compose` on a
digest with LaTeX in its titles and summaries, and arXiv abstracts with LaTeX through
the real renderer. The digest file keeps what was typed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.cli import cli
from newsletter.compose.render import IssueInfo, Renderer
from newsletter.config import NewsletterSettings
from newsletter.core.model import EDITIONS
from newsletter.digest import parse_files
from newsletter.enrich.atom import parse_feed
from tests.arxivd import DATA
from tests.conftest import SAMPLE_DIGEST

DIGEST = "\n".join(
    [
        r"## $\textit{Who Speaks Matters}$: Speaker Roles in $\alpha$-Divergence Dialogue",
        r"[$\textit{谁在说话}$：$\alpha$-散度对话中的说话人角色](https://arxiv.org/abs/2501.00001)",
        r"我们以 $\mathcal{O}(n \log n)$ 的代价训练，学习率 $10^{-3}$，\textbf{显著}优于基线，"
        r"成本仅 $5 million。代码见 https://github.com/example/who_speaks%20matters。",
        "",
        r"## Fast Attention in $\mathcal{O}(n \log n)$ Time",
        r"[$\mathcal{O}(n \log n)$ 时间内的快速注意力](https://arxiv.org/abs/2501.00002)",
        "每次训练 costs $2 and $3，租用 GPU 为 US$3 每小时，总计 $10M。",
        "",
    ]
)
RAW = ["$", "\\textit", "\\alpha", "\\mathcal", "\\log", "^{", "\\textbf"]
"""What must not reach a reader (a `$` only as money, checked on its own)."""
FOLDER = "issues/0001-2024-07-15"


def without_money(text: str) -> str:
    for money in ("$5 million", "$2 and $3", "US$3", "$10M"):
        text = text.replace(money, "")
    return text


@pytest.fixture
def composed(workspace: Path) -> dict[str, dict[str, str]]:
    """The editions of issue 1: subject, preheader, HTML and text of each."""
    (workspace / "digests").mkdir()
    (workspace / "digests" / "latex.md").write_text(DIGEST, encoding="utf-8")
    result = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15"])
    assert result.exit_code == 0, result.output
    described = json.loads((workspace / FOLDER / "issue.json").read_text(encoding="utf-8"))
    return {
        name: {
            "subject": described["editions"][name]["subject"],
            "preheader": described["editions"][name]["preheader"],
            "html": (workspace / FOLDER / f"{name}.html").read_text(encoding="utf-8"),
            "text": (workspace / FOLDER / f"{name}.txt").read_text(encoding="utf-8"),
        }
        for name in EDITIONS
    }


def visible(html: str) -> str:
    tree = lxml_html.fromstring(html.encode())
    for hidden in tree.xpath("//style | //title"):
        hidden.drop_tree()
    return " ".join(tree.text_content().split())


def test_the_subject_and_preheader_show_the_titles_converted(
    composed: dict[str, dict[str, str]],
) -> None:
    assert composed["en"]["preheader"] == (
        "This week: Who Speaks Matters, Fast Attention in 𝒪(n log n) Time"
    )
    assert composed["zh"]["preheader"] == "本期 2 篇论文：谁在说话、𝒪(n log n) 时间内的快速注意力"
    for edition in composed.values():
        assert not any(raw in edition["subject"] + edition["preheader"] for raw in RAW)


@pytest.mark.parametrize("name", EDITIONS)
def test_each_html_edition_shows_the_latex_converted_and_emphasis_as_markup(
    composed: dict[str, dict[str, str]], name: str
) -> None:
    html = composed[name]["html"]
    seen = visible(html)
    if name != "zh":
        assert "Who Speaks Matters: Speaker Roles in α-Divergence Dialogue" in seen
        assert "Fast Attention in 𝒪(n log n) Time" in seen
    if name != "en":
        assert "谁在说话：α-散度对话中的说话人角色" in seen
        assert (
            "我们以 𝒪(n log n) 的代价训练，学习率 10⁻³，显著优于基线，成本仅 $5 million。" in seen
        )
        assert "costs $2 and $3，租用 GPU 为 US$3 每小时，总计 $10M。" in seen
        assert 'href="https://github.com/example/who_speaks%20matters"' in html
    tree = lxml_html.fromstring(html.encode())
    emphasised = {element.text_content() for element in tree.xpath("//em | //strong")}
    assert ("谁在说话" if name == "zh" else "Who Speaks Matters") in emphasised
    assert name == "en" or "显著" in emphasised
    assert not any(raw in without_money(seen) for raw in RAW), seen


@pytest.mark.parametrize("name", EDITIONS)
def test_each_text_part_shows_the_latex_as_plain_text(
    composed: dict[str, dict[str, str]], name: str
) -> None:
    text = composed[name]["text"]
    flat = " ".join(text.split())
    if name != "zh":
        assert "Who Speaks Matters: Speaker Roles in α-Divergence Dialogue" in flat
    if name != "en":
        assert "𝒪(n log n)" in flat and "10⁻³" in flat and "$5 million" in flat
        assert "https://github.com/example/who_speaks%20matters" in flat
    assert "<em>" not in text and "<strong>" not in text
    assert not any(raw in without_money(flat) for raw in RAW), text


def test_the_digest_file_is_unchanged(workspace: Path, composed: dict[str, object]) -> None:
    assert (workspace / "digests" / "latex.md").read_text(encoding="utf-8") == DIGEST


def test_an_arxiv_abstract_with_latex_is_converted_in_the_html_and_the_text() -> None:
    fetched = dt.datetime(2024, 7, 16, tzinfo=dt.UTC)
    metadata = parse_feed((DATA / "sample.xml").read_bytes(), fetched).entries
    paper = parse_files([SAMPLE_DIGEST]).papers[0]
    abstract = r"We train in $\mathcal{O}(n)$ with a rate of $10^{-3}$ and \emph{no} encoder."
    meta = dataclasses.replace(metadata[paper.arxiv_id], abstract=abstract)
    paper = dataclasses.replace(paper, meta=meta)
    info = IssueInfo(1, dt.date(2024, 7, 15), "0001-2024-07-15", [paper])
    edition = Renderer(NewsletterSettings()).render(info)["en"]
    expected = "We train in 𝒪(n) with a rate of 10⁻³ and no encoder."
    assert expected in visible(edition.html)
    assert lxml_html.fromstring(edition.html.encode()).xpath('//em[text()="no"]')
    assert expected in " ".join(edition.text.split())
    assert "$" not in edition.text and "\\" not in edition.text
