"""Reading the arXiv API's Atom answers: every field, and every quirk of the format."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter.core.errors import ArxivError
from newsletter.core.model import PaperMeta
from newsletter.enrich.atom import MAX_BYTES, match_key, parse_feed
from tests.arxivd import DATA

NOW = dt.datetime(2024, 7, 16, 8, 0, tzinfo=dt.UTC)


def parsed(name: str) -> dict[str, PaperMeta]:
    return parse_feed((DATA / name).read_bytes(), NOW).entries


def test_every_field_of_an_entry() -> None:
    meta = parsed("feed.xml")["2407.04051"]
    assert meta == PaperMeta(
        arxiv_id="2407.04051",
        version=2,
        title="FunAudioLLM: Voice Understanding and Generation Foundation Models for "
        "Natural Interaction Between Humans and LLMs",
        authors=("Keyu An", "Qian Chen", "Chong Deng"),
        abstract="This report introduces a family of models for natural voice interaction "
        "between people and large language models: one understands speech, emotion and "
        "sound events in many languages, the other generates natural speech with control "
        "over timbre, style and speaker.\n\nBoth are released with their code, and the "
        "report shows applications such as speech translation and emotional voice chat.",
        primary_category="cs.SD",
        categories=("cs.SD", "cs.AI", "eess.AS"),
        published=dt.datetime(2024, 7, 4, 17, 59, 21, tzinfo=dt.UTC),
        updated=dt.datetime(2024, 7, 10, 9, 12, 44, tzinfo=dt.UTC),
        pdf_url="https://arxiv.org/pdf/2407.04051v2",
        fetched_at=NOW,
    )
    assert meta.other_categories == ("cs.AI", "eess.AS")


def test_line_breaks_and_indents_in_titles_names_and_abstracts_are_single_spaces() -> None:
    for meta in parsed("feed.xml").values():
        for text in (meta.title, *meta.authors, *meta.abstract.split("\n\n")):
            assert text == " ".join(text.split()), text
    assert parsed("feed.xml")["math/0309136"].title == (
        "A Test Knot Invariant for Old-Style Identifiers"
    )


def test_escaped_markup_is_text() -> None:
    meta = parsed("feed.xml")["hep-th/9901001"]
    assert meta.title == "An Old-Style Identifier & Its Entry"
    assert "<angle brackets> and an ampersand &" in meta.abstract


def test_versioned_and_old_style_ids_map_back_to_ours() -> None:
    entries = parsed("feed.xml")
    assert sorted(entries) == ["2407.04051", "hep-th/9901001", "math/0309136"]
    old = entries["hep-th/9901001"]
    assert (old.version, old.primary_category, old.categories) == (1, "hep-th", ("hep-th", "gr-qc"))
    assert old.pdf_url == "https://arxiv.org/pdf/hep-th/9901001v1"
    # Asked as math.GT/0309136, answered as math/0309136: the same paper.
    assert match_key("math.GT/0309136") == match_key("math/0309136")
    assert match_key("2407.04051") != match_key("2407.04052")


def test_namespaces_declared_on_the_root_read_the_same() -> None:
    inline = parsed("feed.xml")["2407.04051"]
    assert parsed("root-namespaces.xml")["2407.04051"] == inline


def test_the_count_of_results() -> None:
    assert parse_feed((DATA / "feed.xml").read_bytes(), NOW).total == 3
    assert parse_feed((DATA / "empty.xml").read_bytes(), NOW).total == 0


def test_an_id_the_api_does_not_know_has_no_entry() -> None:
    assert parsed("empty.xml") == {}
    assert "2407.99999" not in parsed("feed.xml")


def test_an_error_entry_is_no_paper_but_its_reason() -> None:
    feed = parse_feed((DATA / "error.xml").read_bytes(), NOW)
    assert feed.entries == {}
    assert feed.errors == ["incorrect id format for 2407.0405"]


def entry(**parts: str) -> bytes:
    """A one-entry feed, with the elements given (id, published, title, links…)."""
    fields = {
        "id": "http://arxiv.org/abs/2407.04051v3",
        "published": "2024-07-04T17:59:21Z",
        "title": "A title",
        **parts,
    }
    inner = "".join(
        value if value.startswith("<") else f"<{key}>{value}</{key}>"
        for key, value in fields.items()
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><entry>{inner}</entry></feed>'.encode()


def test_a_sparse_entry_gets_sensible_values() -> None:
    meta = parse_feed(entry(), NOW).entries["2407.04051"]
    assert (meta.version, meta.authors, meta.abstract, meta.categories) == (3, (), "", ())
    assert meta.updated == meta.published
    assert meta.pdf_url == "https://arxiv.org/pdf/2407.04051v3"


@pytest.mark.parametrize(
    "parts",
    [{"title": ""}, {"title": " \n "}, {"published": "yesterday"}, {"id": "not a link"}],
    ids=["no title", "blank title", "bad date", "bad id"],
)
def test_an_entry_that_describes_no_paper_is_skipped(parts: dict[str, str]) -> None:
    assert parse_feed(entry(**parts), NOW).entries == {}


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "https://evil.example/pdf/2407.04051v3", "ftp://arxiv.org/x"]
)
def test_a_pdf_link_elsewhere_is_replaced_by_arxivs(href: str) -> None:
    link = f'<link title="pdf" href="{href}" rel="related" type="application/pdf"/>'
    meta = parse_feed(entry(link=link), NOW).entries["2407.04051"]
    assert meta.pdf_url == "https://arxiv.org/pdf/2407.04051v3"


def test_time_zones_become_utc() -> None:
    meta = parse_feed(entry(published="2024-07-04T13:59:21-04:00"), NOW).entries["2407.04051"]
    assert meta.published == dt.datetime(2024, 7, 4, 17, 59, 21, tzinfo=dt.UTC)


def test_metadata_as_json() -> None:
    meta = parsed("feed.xml")["hep-th/9901001"]
    assert meta.to_json()["published"] == "1999-01-01T00:00:00Z"
    assert meta.to_json()["authors"] == ["B. Example", "C. D. Sample"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((DATA / "truncated.xml").read_bytes(), "the answer is not XML (unclosed token: line 24"),
        (
            (DATA / "not-atom.html").read_bytes(),
            "the answer is not an Atom feed (its root is <html>)",
        ),
        ((DATA / "entities.xml").read_bytes(), "the answer declares a DTD"),
        (b"", "the answer is not XML (no element found"),
        (b" " * (MAX_BYTES + 1), "the answer is larger than 10 MB"),
    ],
    ids=["truncated", "html", "entities", "empty", "huge"],
)
def test_an_answer_that_is_no_feed_is_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(ArxivError) as caught:
        parse_feed(data, NOW)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
