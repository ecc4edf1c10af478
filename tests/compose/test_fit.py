"""Every edition under Gmail's clip, for weeks of real length: English texts are cut
first, then Chinese summaries, each at a sentence with a link to the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import re

import pytest
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.compose.fit import (
    SHORTEST_CHINESE,
    SHORTEST_ENGLISH,
    Caps,
    cut_at_sentence,
    mailed_bytes,
    next_caps,
)
from newsletter.compose.render import IssueInfo, Renderer
from newsletter.config import NewsletterSettings
from newsletter.core.model import EDITION_LIMIT, EDITIONS, Edition, Paper
from newsletter.digest import parse_files
from newsletter.enrich.atom import parse_feed
from tests.arxivd import DATA
from tests.conftest import SAMPLE_DIGEST

SETTINGS = NewsletterSettings(base_url="https://papers.example.org/a/longer/path")
WEB = "https://papers.example.org/a/longer/path/issues/0007-2024-07-15/"
SAMPLE = parse_files([SAMPLE_DIGEST]).papers
METADATA = parse_feed((DATA / "sample.xml").read_bytes(), dt.datetime(2024, 7, 16, tzinfo=dt.UTC))


def exactly(texts: list[str], length: int, start: int) -> str:
    """Real sentences from the sample, joined from `start` on and cut to `length` characters."""
    joined = " ".join(texts[start:] + texts[:start])
    while len(joined) < length:
        joined += " " + joined
    return joined[:length].rstrip()


def long_week(chinese: int = 700, english: int = 1500, metadata: bool = True) -> list[Paper]:
    """20 papers that each carry a Chinese summary and an English text in the digest
    (the real sample's, made `chinese` and `english` characters long), with arXiv's
    metadata for each."""
    zh = [paper.summary_zh.replace("\n", "") for paper in SAMPLE]
    en = [meta.abstract.replace("\n\n", " ") for meta in METADATA.entries.values()]
    week = []
    for number, (paper, meta) in enumerate(
        itertools.islice(
            zip(itertools.cycle(SAMPLE), itertools.cycle(METADATA.entries.values())), 20
        )
    ):
        arxiv_id = f"2407.9{number:04d}"
        week.append(
            dataclasses.replace(
                paper,
                arxiv_id=arxiv_id,
                url=f"https://arxiv.org/abs/{arxiv_id}",
                summary_zh=exactly(zh, chinese, number % len(zh)),
                summary_en=exactly(en, english, number % len(en)),
                meta=dataclasses.replace(meta, arxiv_id=arxiv_id) if metadata else None,
            )
        )
    return week


def render(papers: list[Paper]) -> dict[str, Edition]:
    return Renderer(SETTINGS).render(IssueInfo(7, dt.date(2024, 7, 15), "0007-2024-07-15", papers))


@pytest.fixture(scope="module")
def long_editions() -> dict[str, Edition]:
    return render(long_week())


def visible(html_or_markdown: str) -> str:
    """What a reader sees of an HTML page, or of summary markdown: words, single spaces."""
    if html_or_markdown.lstrip().startswith("<"):
        text = lxml_html.document_fromstring(html_or_markdown).text_content()
    else:
        text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", html_or_markdown)
    return " ".join(text.split())


def rests(html: str) -> list[lxml_html.HtmlElement]:
    """The "read the rest" links of an edition."""
    page = lxml_html.document_fromstring(html)
    return [a for a in page.xpath("//a") if a.text in ("read the rest", "阅读全文")]


@pytest.mark.parametrize("name", EDITIONS)
def test_a_long_week_composes_every_edition_under_the_clip(
    long_editions: dict[str, Edition], name: str
) -> None:
    """The week the issue found at 104-110 KB: a 700-character Chinese summary and a
    1,500-character English text a paper, with arXiv's metadata."""
    edition = long_editions[name]
    assert mailed_bytes(edition.html, SETTINGS.base_url) <= EDITION_LIMIT
    assert f"/unsubscribe/{'x' * 64}" not in edition.html  # counted, not filled in
    assert "You are receiving" in edition.html or "您收到这封邮件" in edition.html


def test_english_texts_are_cut_at_a_sentence_with_a_link_to_the_rest_on_the_web() -> None:
    """English texts of 4,000 characters: the en edition has to cut them too."""
    en = render(long_week(english=4000))["en"]
    links = rests(en.html)
    assert len(links) == en.english_cut > 0 and en.chinese_cut == 0
    for link in links:
        paragraph = link.getparent()
        before = paragraph.text_content().rsplit(" … ", 1)[0]
        assert before.endswith((".", "!", "?")), before[-60:]
        anchor = link.get("href").removeprefix(WEB + "en.html#")
        assert re.fullmatch(r"paper-\d+", anchor), link.get("href")
        # the web copy has that paper's text whole, at that anchor
        web = lxml_html.document_fromstring(en.web_html)
        [place] = web.xpath(f'//*[@id="{anchor}"]')
        number = int(anchor.removeprefix("paper-"))
        whole = visible(long_week(english=4000)[number - 1].summary_en or "")
        assert whole in visible(en.web_html) and whole not in visible(en.html)
        assert place is not None


def test_chinese_summaries_are_cut_only_when_english_cannot_give_enough(
    long_editions: dict[str, Edition],
) -> None:
    bilingual, zh = long_editions["bilingual"], long_editions["zh"]
    assert bilingual.english_cut == 20 and bilingual.chinese_cut > 0
    assert zh.english_cut == 0  # the zh edition shows no English text to cut
    web = visible(bilingual.web_html)
    for paper in long_week():  # whole on the web
        assert visible(paper.summary_zh) in web and visible(paper.summary_en or "") in web
    chinese = [link for link in rests(bilingual.html) if link.text == "阅读全文"]
    assert len(chinese) == bilingual.chinese_cut
    for link in chinese:
        before = link.getparent().text_content().rsplit("……", 1)[0]
        assert before.endswith(("。", "！", "？")), before[-20:]


def test_the_text_part_is_cut_the_same_with_the_link_written_out(
    long_editions: dict[str, Edition],
) -> None:
    bilingual = long_editions["bilingual"]
    text = re.sub(r"\n +", "", bilingual.text)  # unwrapped (Chinese breaks anywhere)
    url = re.escape(f"{WEB}bilingual.html#paper-")
    english = re.findall(rf"…\s*\(read\s*the\s*rest:\s*{url}\d+\)", text)
    chinese = re.findall(rf"……阅读全文：\s*{url}\d+", text)
    assert (len(english), len(chinese)) == (bilingual.english_cut, bilingual.chinese_cut)


def test_without_metadata_too() -> None:
    editions = render(long_week(metadata=False))
    for edition in editions.values():
        assert mailed_bytes(edition.html, SETTINGS.base_url) <= EDITION_LIMIT, edition.name


def test_any_mix_of_texts_fits() -> None:
    """Twenty papers with or without an English text, metadata, and of random lengths
    (seeded: the same weeks every run)."""
    chance = random.Random(19)
    for _ in range(3):
        week = []
        for paper in long_week(chinese=1400, english=3000):
            week.append(
                dataclasses.replace(
                    paper,
                    summary_zh=paper.summary_zh[: chance.randint(50, 1400)],
                    summary_en=chance.choice([None, paper.summary_en[: chance.randint(50, 3000)]]),
                    meta=chance.choice([None, paper.meta]),
                )
            )
        for edition in render(week).values():
            assert mailed_bytes(edition.html, SETTINGS.base_url) <= EDITION_LIMIT, edition.name


def test_the_sample_is_not_cut() -> None:
    editions = render(list(SAMPLE))
    assert [(e.english_cut, e.chinese_cut, e.web_html) for e in editions.values()] == [
        (0, 0, "")
    ] * 3


def test_cut_at_sentence_in_english_and_chinese() -> None:
    english = "One sentence. Two sentences here! A third one? And (4) more.\n\nNew paragraph."
    assert cut_at_sentence(english, 1000) == english
    assert cut_at_sentence(english, 40) == "One sentence. Two sentences here!"
    assert cut_at_sentence(english, 13) == "One sentence."
    assert cut_at_sentence(english, 70) == (
        "One sentence. Two sentences here! A third one? And (4) more."
    )
    assert cut_at_sentence("No sentence end within reach at all", 20) == "No sentence end…"
    chinese = "我们提出了新方法。实验表明它更快！代码已开源？是的。"
    assert cut_at_sentence(chinese, 12) == "我们提出了新方法。"
    assert cut_at_sentence(chinese, 17) == "我们提出了新方法。实验表明它更快！"
    assert cut_at_sentence("“引用的一句话。”后面还有很多很多很多文字。", 10) == "“引用的一句话。”"
    assert cut_at_sentence("没有句号的一段很长很长的中文文字", 8) == "没有句号的一段…"


def test_a_cut_never_falls_inside_a_link_or_a_formula() -> None:
    linked = "See [the code. It is here](https://github.com/a/b). More text follows here."
    assert cut_at_sentence(linked, 30) == "See…"
    assert cut_at_sentence(linked, 52) == "See [the code. It is here](https://github.com/a/b)."
    formula = "We bound $x. Y$ tightly and more words follow after it."
    assert "$" not in cut_at_sentence(formula, 14) and cut_at_sentence(formula, 14) == "We bound…"
    money = "It raised $5 million. Then $3 more. And more text follows here."
    assert cut_at_sentence(money, 36) == "It raised $5 million. Then $3 more."  # not math
    bare = "代码见 https://github.com/a/b.c。然后还有很多文字。"
    assert cut_at_sentence(bare, 10) == "代码见…"


def test_english_is_capped_before_chinese() -> None:
    english, chinese = ["a. " * 500] * 20, ["中。" * 400] * 20
    first = next_caps(Caps(), english, chinese, excess=10_000)
    assert first.english is not None and first.chinese is None
    shortest = Caps(english=SHORTEST_ENGLISH)
    short = [text[:SHORTEST_ENGLISH] for text in english]
    second = next_caps(shortest, short, chinese, excess=10_000)
    assert second.english == SHORTEST_ENGLISH and second.chinese is not None
    floor = Caps(SHORTEST_ENGLISH, SHORTEST_CHINESE)
    tiny = [text[:SHORTEST_CHINESE] for text in chinese]
    assert next_caps(floor, short, tiny, excess=10_000) == floor  # nothing left to cut
