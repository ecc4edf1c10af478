"""The issue as a reader meets it: a table of contents, each paper's authors, field
and links from arXiv, and an English edition that is English.

The sample digest is rendered with `tests/data/arxiv/sample.xml` (arXiv's Atom for
its 13 papers, parsed by the real parser) through the real pipeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.cli import cli
from newsletter.compose.fit import mailed_bytes
from newsletter.compose.paper_view import BILINGUAL_ABSTRACT
from newsletter.compose.render import IssueInfo, Renderer
from newsletter.compose.textlayout import display_width
from newsletter.config import NewsletterSettings
from newsletter.core.model import EDITION_LIMIT, EDITIONS, Edition, Paper
from newsletter.digest import parse_files
from newsletter.enrich.atom import parse_feed
from tests.arxivd import DATA, ArxivServer, Reply, arxiv_toml
from tests.conftest import SAMPLE_DIGEST
from tests.helpers import write_config

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
FETCHED = dt.datetime(2024, 7, 16, tzinfo=dt.UTC)
BASE_URL = NewsletterSettings().base_url
METADATA = parse_feed((DATA / "sample.xml").read_bytes(), FETCHED).entries
SAMPLE = parse_files([SAMPLE_DIGEST]).papers
ENRICHED = [dataclasses.replace(paper, meta=METADATA[paper.arxiv_id]) for paper in SAMPLE]
FUNAUDIO, BLIND, SELF_INSTRUCT = ENRICHED[1], ENRICHED[5], ENRICHED[12]  # 43, 4 and 1 authors


def issue(papers: list[Paper]) -> IssueInfo:
    return IssueInfo(2, dt.date(2024, 7, 15), "0002-2024-07-15", papers)


@pytest.fixture(scope="module")
def editions() -> dict[str, Edition]:
    return Renderer(NewsletterSettings()).render(issue(ENRICHED))


def page(edition: Edition) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(edition.html.encode())


def visible(edition: Edition) -> str:
    """The text a reader sees (the hidden preheader and the styles left out)."""
    tree = page(edition)
    for hidden in tree.xpath('//style | //title | //div[@class="preheader"]'):
        hidden.drop_tree()
    return " ".join(tree.text_content().split())


@pytest.mark.parametrize("name", EDITIONS)
def test_each_edition_opens_with_a_contents_line_per_paper_that_leads_to_it(
    editions: dict[str, Edition], name: str
) -> None:
    tree = page(editions[name])
    entries = tree.xpath('//p[@class="contents-item"]/a')
    assert [a.get("href") for a in entries] == [f"#paper-{n}" for n in range(1, 14)]
    for n, (entry, paper) in enumerate(zip(entries, ENRICHED, strict=True), start=1):
        assert entry.text_content() == (paper.title_zh if name == "zh" else paper.title_en)
        assert tree.xpath(f'//*[@id="paper-{n}"]/@class') == ["paper-index"]
        # Outlook's Word engine knows only <a name>, which HTML no longer allows: it
        # alone reads the conditional comment
        assert f'<!--[if mso]><a name="paper-{n}"></a><![endif]-->' in editions[name].html
    first_paper = editions[name].html.index('id="paper-1"')
    assert editions[name].html.index('href="#paper-13"') < first_paper  # contents first


@pytest.mark.parametrize("name", EDITIONS)
def test_the_text_edition_has_the_same_contents_in_72_columns(
    editions: dict[str, Edition], name: str
) -> None:
    text = editions[name].text
    contents = text[: text.index("=" * 72)]
    for n, paper in enumerate(ENRICHED, start=1):
        title = paper.title_zh if name == "zh" else paper.title_en
        start = f"{n:2d}. "
        line = next(line for line in contents.splitlines() if line.startswith(start))
        assert title.startswith(line[len(start) :].strip()), (line, title)
    long = [line for line in text.splitlines() if display_width(line) > 72]
    assert all("https://" in line for line in long), long  # a URL cannot be folded


def test_authors_are_named_up_to_four_then_the_first_three_and_et_al(
    editions: dict[str, Edition],
) -> None:
    assert len(FUNAUDIO.meta.authors) == 43 and len(BLIND.meta.authors) == 4  # type: ignore[union-attr]
    bilingual, zh = visible(editions["bilingual"]), visible(editions["zh"])
    assert "Keyu An, Qian Chen, Chong Deng et al." in bilingual
    assert "Keyu An, Qian Chen, Chong Deng 等" in zh
    assert ", ".join(BLIND.meta.authors) in bilingual  # type: ignore[union-attr]
    assert f"{SELF_INSTRUCT.meta.authors[0]} " in bilingual  # type: ignore[union-attr]
    text = editions["en"].text
    assert "    Keyu An, Qian Chen, Chong Deng et al. · cs.SD\n" in text


@pytest.mark.parametrize("name", EDITIONS)
def test_each_paper_shows_its_category_and_its_arxiv_pdf_and_code_links(
    editions: dict[str, Edition], name: str
) -> None:
    tree = page(editions[name])
    labels = [span.text for span in tree.xpath('//span[@class="category"]')]
    assert labels == [paper.meta.primary_category for paper in ENRICHED]  # type: ignore[union-attr]
    rows = tree.xpath('//p[@class="links"]')
    assert len(rows) == 13
    funaudio = [a.get("href") for a in rows[1].xpath(".//a")]
    assert funaudio == [
        "https://arxiv.org/abs/2407.04051",
        "https://arxiv.org/pdf/2407.04051v2",
        "https://github.com/FunAudioLLM",
    ]
    vader = [a.text_content() for a in rows[11].xpath(".//a")]  # a project page, no code
    assert vader[-1] == {"en": "Project", "zh": "项目主页", "bilingual": "Project / 项目主页"}[name]
    text = editions[name].text
    assert "    PDF: https://arxiv.org/pdf/2407.04051v2\n" in text
    assert "https://vader-vid.github.io" in text


def test_the_english_edition_is_english_with_the_abstract_labelled(
    editions: dict[str, Edition],
) -> None:
    en = editions["en"]
    for text in (visible(en), en.text):
        assert not CJK.search(text), CJK.search(text)
    tree = page(en)
    assert [p.text for p in tree.xpath('//p[@class="summary-label"]')] == ["Abstract"] * 13
    abstract = " ".join(FUNAUDIO.meta.abstract.split())  # type: ignore[union-attr]
    assert " ".join(abstract.split()[:12]) in visible(en)
    assert "[Abstract]" in en.text


def test_papers_without_an_abstract_are_named_once_at_the_top_of_the_english_edition(
    editions: dict[str, Edition],
) -> None:
    """Three papers without arXiv's metadata (arXiv was down): the en edition says so
    once, before the contents, and shows those papers' titles and links only."""
    partly = Renderer(NewsletterSettings()).render(issue(ENRICHED[:10] + SAMPLE[10:]))
    notice = (
        "3 of the 13 papers in this issue come without their English abstract: each "
        "title links to the paper's abstract on arXiv."
    )
    en = partly["en"]
    assert visible(en).count(notice) == 1
    assert visible(en).index(notice) < visible(en).index("In this issue")
    assert " ".join(en.text.split()).count(notice) == 1
    assert en.text.index("3 of the 13") < en.text.index("In this issue")
    tree = page(en)
    assert [p.text for p in tree.xpath('//p[@class="summary-label"]')] == ["Abstract"] * 10
    assert len(tree.xpath('//p[@class="notice"]')) == 1
    last = tree.xpath('//div[@class="paper"]')[-1]
    assert [p.get("class") for p in last.xpath("./p")] == ["paper-index", "links"]
    assert "could not be included" not in visible(en)
    for edition in (*editions.values(), partly["zh"], partly["bilingual"]):
        assert "English abstract:" not in edition.text and not page(edition).xpath(
            '//p[@class="notice"]'
        )
    for name in ("bilingual", "zh"):  # the Chinese summary, and no English block
        kept = page(partly[name]).xpath('//div[@class="paper"]')[-1]
        assert {p.get("lang") for p in kept.xpath('./p[@class="summary"]')} == {"zh-CN"}
        assert not kept.xpath('./p[@class="summary-label"]')


def test_an_english_summary_in_the_digest_comes_before_the_abstract() -> None:
    paper = dataclasses.replace(FUNAUDIO, summary_en="The digest's own English summary.")
    editions = Renderer(NewsletterSettings()).render(issue([paper]))
    for name in ("en", "bilingual"):
        shown = visible(editions[name])
        assert "The digest's own English summary." in shown
        assert "Abstract" not in shown  # neither label: the summary stands instead


def paper_block(edition: Edition, number: int) -> str:
    """The visible text of one paper's block, in order."""
    [block] = page(edition).xpath(f'//div[@class="paper"][.//*[@id="paper-{number}"]]')
    return " ".join(block.text_content().split())


def test_zh_puts_the_chinese_title_first_and_never_shows_the_abstract(
    editions: dict[str, Edition],
) -> None:
    block = paper_block(editions["zh"], 2)
    assert block.index(FUNAUDIO.title_zh) < block.index(" ".join(FUNAUDIO.title_en.split()))
    assert page(editions["zh"]).xpath('//p[@class="summary-label"]') == []
    assert "This report presents FunAudioLLM" not in visible(editions["zh"])


def test_bilingual_shows_both_and_the_english_abstract_under_the_chinese_summary(
    editions: dict[str, Edition],
) -> None:
    block = paper_block(editions["bilingual"], 2)
    title_en = " ".join(FUNAUDIO.title_en.split())
    summary = FUNAUDIO.summary_zh.split("\n\n")[0][:20]
    order = [
        block.index(title_en),
        block.index(FUNAUDIO.title_zh),
        block.index(summary),
        block.index("English abstract"),
        block.index("This report presents FunAudioLLM"),
    ]
    assert order == sorted(order)
    assert visible(editions["bilingual"]).count("English abstract") == 13


@pytest.mark.parametrize("name", EDITIONS)
def test_the_paragraphs_of_a_summary_stay_apart(editions: dict[str, Edition], name: str) -> None:
    """Self-Instruct has three paragraphs in the digest (two in its abstract): each is
    its own block with space under it, in HTML and in text."""
    tree = page(editions[name])
    blocks = tree.xpath('//p[contains(concat(" ", @class, " "), " summary ")]')
    assert blocks and all("margin:0 0 12px" in p.get("style", "") for p in blocks)
    chinese = SELF_INSTRUCT.summary_zh.split("\n\n")
    if name != "en":
        assert (
            len([p for p in blocks if p.text_content().startswith(tuple(c[:12] for c in chinese))])
            == 3
        )
        assert "\n\n" + "    " + chinese[1][:10] in editions[name].text


def twenty(abstracts_times: int = 1) -> list[Paper]:
    """20 papers with metadata: the sample's, then 7 of them again under new ids;
    each abstract `abstracts_times` over (a paper with a very long abstract)."""
    papers = ENRICHED + [
        dataclasses.replace(p, arxiv_id=f"2407.9{i:04d}") for i, p in enumerate(ENRICHED[:7])
    ]
    return [longer(paper, abstracts_times) for paper in papers]


def longer(paper: Paper, times: int) -> Paper:
    assert paper.meta is not None
    meta = dataclasses.replace(paper.meta, abstract="\n\n".join([paper.meta.abstract] * times))
    return dataclasses.replace(paper, meta=meta)


def test_twenty_papers_fit_with_short_abstracts_in_the_bilingual_edition() -> None:
    """The bilingual edition shows the first sentences of each abstract (its readers
    have the Chinese summary), the English edition the whole abstract."""
    editions = Renderer(NewsletterSettings()).render(issue(twenty()))
    for edition in editions.values():
        assert mailed_bytes(edition.html, BASE_URL) <= EDITION_LIMIT, edition.name
        assert edition.english_cut == edition.chinese_cut == 0  # none cut for the clip
    short = page(editions["bilingual"]).xpath('//p[contains(@class, "abstract")]')
    assert len(short) == 20
    for paragraph in short:
        [link] = paragraph.xpath(".//a")
        assert link.text == "full abstract" and link.get("href").startswith(
            "https://arxiv.org/abs/"
        )
        before = paragraph.text_content().rsplit(" … ", 1)[0]
        assert len(before) <= BILINGUAL_ABSTRACT and before.endswith((".", "!", "?")), before
    whole = page(editions["en"]).xpath('//p[contains(@class, "abstract")]//a')
    assert whole == []


def test_abstracts_too_long_for_the_clip_are_cut_at_a_sentence_and_say_so() -> None:
    editions = Renderer(NewsletterSettings()).render(issue(twenty(abstracts_times=3)))
    en = editions["en"]
    assert mailed_bytes(en.html, BASE_URL) <= EDITION_LIMIT and en.english_cut > 0
    cut = [p for p in page(en).xpath('//p[contains(@class, "abstract")]') if p.xpath(".//a")]
    assert len(cut) == en.english_cut
    for paragraph in cut:
        before = paragraph.text_content().rsplit(" … ", 1)[0]
        assert before.endswith((".", "!", "?")), before[-60:]
    assert "(full abstract: https://arxiv.org/abs/" in en.text


def test_compose_shows_arxivs_metadata_and_says_when_it_cut_abstracts(
    workspace: Path, arxiv: ArxivServer
) -> None:
    """Through the CLI, with arXiv a real HTTP server on 127.0.0.1: the sample, and 7 of
    its papers again under new ids (20 in all), each abstract three times as long;
    the English edition must cut abstracts to stay under the clip, and says so."""
    digest = SAMPLE_DIGEST.read_text(encoding="utf-8")
    feed = (DATA / "sample.xml").read_text(encoding="utf-8")
    feed = re.sub(
        r"<summary>(.*?)</summary>", r"<summary>\1\n\n\1\n\n\1</summary>", feed, flags=re.DOTALL
    )
    entries = re.findall(r"<entry>.*?</entry>", feed, re.DOTALL)
    again = [(paper.arxiv_id, f"2407.9{i:04d}") for i, paper in enumerate(SAMPLE[:7])]
    copies = "".join(
        next(e for e in entries if f"/{old}v" in e).replace(old, new) for old, new in again
    )
    (workspace / "digests").mkdir()
    (workspace / "digests" / "sample.md").write_text(digest, encoding="utf-8")
    second = digest[: digest.index(f"## {SAMPLE[7].title_en}")]
    for old, new in again:
        second = second.replace(old, new)
    (workspace / "digests" / "again.md").write_text(second, encoding="utf-8")
    write_config(workspace, arxiv_toml(arxiv))
    arxiv.default = Reply(body=feed.replace("</feed>", copies + "</feed>").encode())
    result = CliRunner().invoke(cli, ["compose", "--date", "2024-07-15", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["papers"]) == 20
    [folder] = (workspace / "issues").iterdir()
    en = (folder / "en.html").read_text(encoding="utf-8")
    assert "Keyu An, Qian Chen, Chong Deng et al." in en and ">cs.SD</span>" in en
    [said] = [line for line in result.stderr.splitlines() if "shortened" in line]
    assert re.fullmatch(
        r"shortened at a sentence to stay under Gmail's clip, each with a link to the rest "
        r"\(on the issue's web page, or arXiv\): the en edition's \d+ English texts",
        said,
    ), said
    for name in EDITIONS:
        html = (folder / f"{name}.html").read_text(encoding="utf-8")
        assert mailed_bytes(html, BASE_URL) <= EDITION_LIMIT
