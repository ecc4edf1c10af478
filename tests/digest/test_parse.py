"""The digest parser, on the real sample and on the cases real digests throw at it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.core.errors import DigestError
from newsletter.digest import ParseResult, parse_bytes, parse_files, parse_text
from tests.conftest import DATA, SAMPLE_DIGEST
from tests.helpers import SAMPLE_IDS


@pytest.fixture(scope="module")
def sample() -> ParseResult:
    return parse_files([SAMPLE_DIGEST])


def paper(result: ParseResult, arxiv_id: str):  # type: ignore[no-untyped-def]
    return next(p for p in result.papers if p.arxiv_id == arxiv_id)


def test_sample_has_its_13_papers_in_order(sample: ParseResult) -> None:
    assert [p.arxiv_id for p in sample.papers] == SAMPLE_IDS
    first = sample.papers[0]
    assert first.title_en == "Unveiling Encoder-Free Vision-Language Models"
    assert first.title_zh == "无编码器视觉-语言模型的探索"
    assert first.url == "https://arxiv.org/abs/2406.11832"
    assert first.source == f"{SAMPLE_DIGEST}:1"
    assert first.summary_zh.startswith("当前的视觉-语言模型")
    assert first.summary_zh.endswith("https://github.com/baaivision/EVE。")
    assert all(p.summary_en is None for p in sample.papers)


def test_sample_stray_paragraphs_are_two_warnings_naming_what_they_repeat(
    sample: ParseResult,
) -> None:
    assert [(w.line, w.message) for w in sample.warnings] == [
        (
            43,
            "stray paragraph left out: it repeats the summary of "
            f"'Skywork-Math: Data Scaling Laws for Mat…' ({SAMPLE_DIGEST}:47)",
        ),
        (
            45,
            "stray paragraph left out: it repeats the summary of "
            f"'Video Diffusion Alignment via Reward Gr…' ({SAMPLE_DIGEST}:51)",
        ),
    ]


def test_stray_paragraphs_do_not_join_the_summary_above(sample: ParseResult) -> None:
    llava = paper(sample, "2407.07895")
    assert "\n\n" not in llava.summary_zh
    assert llava.summary_zh.startswith("视觉指令调优")
    assert "Skywork" not in llava.summary_zh
    assert "视频扩散" not in llava.summary_zh


def test_a_real_multi_paragraph_summary_stays_whole(sample: ParseResult) -> None:
    paragraphs = paper(sample, "2407.07053").summary_zh.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("尽管当前多数大型多模态模型")
    assert paragraphs[2].endswith("(https://github.com/zwq2018/Multi-modal-Self-instruct)。")


def test_entry_with_no_blank_line_after_its_link(sample: ParseResult) -> None:
    skywork = paper(sample, "2407.08348")
    assert skywork.title_zh == "Skywork-Math: 大语言模型数学推理的数据扩展法则 -- 故事继续"
    assert skywork.summary_zh.startswith("本文探讨了可能提升")


def test_titles_have_no_trailing_spaces(sample: ParseResult) -> None:
    assert all(p.title_en == p.title_en.strip() for p in sample.papers)
    assert all(p.title_zh == p.title_zh.strip() for p in sample.papers)


@pytest.mark.parametrize("case", sorted(p.stem for p in (DATA / "digests").glob("*.md")), ids=str)
def test_digest_cases(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `tests/data/digests/NAME.md` parses as `NAME.json` says."""
    monkeypatch.chdir(DATA / "digests")
    expected = json.loads(Path(f"{case}.json").read_text(encoding="utf-8"))
    result = parse_files([f"{case}.md"])
    assert [p.arxiv_id for p in result.papers] == expected["ids"]
    for arxiv_id, fields in expected.get("papers", {}).items():
        assert {k: paper(result, arxiv_id).to_json()[k] for k in fields} == fields
    assert len(result.warnings) == len(expected["warnings"]), result.warnings
    for warning, (line, fragment) in zip(result.warnings, expected["warnings"], strict=True):
        assert (warning.path, warning.line) == (f"{case}.md", line)
        assert fragment in warning.message
    for p in result.papers:
        assert p.url == f"https://arxiv.org/abs/{p.arxiv_id}"


def test_stray_copy_of_an_earlier_entry_in_english() -> None:
    text = (
        "## First\n[第一](https://arxiv.org/abs/2401.00001)\n"
        "We propose a sparse mixture of experts model that routes each token to two "
        "experts and matches dense models at a fraction of the compute cost.\n\n"
        "## Second\n[第二](https://arxiv.org/abs/2401.00002)\n"
        "A benchmark of long-context retrieval with needles hidden in haystacks.\n\n"
        "In this work we propose a sparse mixture-of-experts model which routes every "
        "token to two experts and matches dense models at a fraction of their compute.\n"
    )
    result = parse_text(text, "d.md")
    assert paper(result, "2401.00002").summary_en == (
        "A benchmark of long-context retrieval with needles hidden in haystacks."
    )
    assert [(w.line, "'First'" in w.message) for w in result.warnings] == [(9, True)]


def test_line_endings_and_bom_change_nothing(tmp_path: Path) -> None:
    data = SAMPLE_DIGEST.read_bytes()
    reference = parse_bytes(data, "d.md")
    variants = {
        "crlf": data.replace(b"\n", b"\r\n"),
        "bom": b"\xef\xbb\xbf" + data,
        "bom+crlf": b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"),
        "cr": data.replace(b"\n", b"\r"),
        "no final newline": data.rstrip(b"\n"),
    }
    for name, variant in variants.items():
        result = parse_bytes(variant, "d.md")
        assert result == reference, name
        for p in result.papers:
            for value in p.to_json().values():
                assert "\r" not in (value or "") and "\ufeff" not in (value or ""), name


def test_bytes_that_are_not_utf8_name_the_file_and_line(tmp_path: Path) -> None:
    digest = tmp_path / "latin1.md"
    digest.write_bytes(
        "## Title\n[标题](https://arxiv.org/abs/2401.00001)\ncafé\n".encode("latin-1", "replace")
    )
    with pytest.raises(DigestError) as caught:
        parse_files([digest])
    assert str(caught.value).startswith(f"{digest}:3: not UTF-8 text")


def test_a_paper_in_two_files_is_one_paper(tmp_path: Path) -> None:
    first = tmp_path / "2024-07-05.md"
    second = tmp_path / "2024-07-12.md"
    first.write_text("## A\n[甲](https://arxiv.org/abs/2401.00001)\n第一周。\n", encoding="utf-8")
    second.write_text(
        "## B\n[乙](https://arxiv.org/abs/2401.00002)\n新的。\n\n"
        "## A again\n[甲](https://arxiv.org/pdf/2401.00001v2)\n第二周。\n",
        encoding="utf-8",
    )
    result = parse_files([first, second])
    assert [(p.arxiv_id, p.summary_zh) for p in result.papers] == [
        ("2401.00001", "第一周。"),
        ("2401.00002", "新的。"),
    ]
    [warning] = result.warnings
    assert (warning.path, warning.line) == (str(second), 5)
    assert f"already at {first}:1" in warning.message


def test_a_missing_file_is_a_digest_error(tmp_path: Path) -> None:
    with pytest.raises(DigestError, match=re.escape(f"{tmp_path / 'nope.md'}: cannot read")):
        parse_files([tmp_path / "nope.md"])


# Text built from the pieces digests are made of, so that the property test
# reaches the parser's structure and not only its "no heading" path.
_pieces = st.sampled_from(
    [
        "## Title",
        "##",
        "## ",
        "# Section",
        "---",
        "",
        " ",
        "\r",
        "\ufeff",
        "[标题](https://arxiv.org/abs/2401.00001)",
        "[](https://arxiv.org/pdf/2401.00002v2.pdf)",
        "[x](https://example.org)",
        "[",
        "](",
        "摘要。",
        "Plain English words here.",
        "https://arxiv.org/abs/hep-th/9711200",
        "<script>",
        "&amp;",
    ]
)
_digest_text = st.lists(st.one_of(_pieces, st.text(max_size=30)), max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_digest_text)
def test_any_text_parses_to_papers_without_raising(text: str) -> None:
    result = parse_text(text, "any.md")
    ids = [p.arxiv_id for p in result.papers]
    assert len(ids) == len(set(ids))
    for p in result.papers:
        assert p.url == f"https://arxiv.org/abs/{p.arxiv_id}"
        assert "\r" not in p.summary_zh + p.title_en + p.title_zh
    for warning in result.warnings:
        assert 1 <= warning.line <= text.count("\n") + text.count("\r") + 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_papers_or_a_digest_error(data: bytes) -> None:
    try:
        parse_bytes(data, "any.md")
    except DigestError as error:
        assert str(error).startswith("any.md:")
