"""The text edition's layout: wrapping text that mixes Chinese and English."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.compose.textlayout import display_width, wrap


def test_chinese_wraps_at_72_columns_counting_each_character_as_two() -> None:
    text = "视觉语言模型" * 40
    lines = wrap(text, 72).split("\n")
    assert all(display_width(line) <= 72 for line in lines)
    assert display_width(lines[0]) >= 70
    assert "".join(lines) == text


def test_closing_punctuation_never_starts_a_line() -> None:
    text = "甲" * 35 + "，乙" * 40 + "。"
    for line in wrap(text, 72, "    ").split("\n")[1:]:
        assert line.strip()[0] not in "，。", line


def test_urls_and_words_are_not_broken() -> None:
    url = "https://github.com/zwq2018/Multi-modal-Self-instruct/tree/main/a/very/long/path"
    text = f"We release the code at {url} together with the extraordinary dataset."
    lines = wrap(text, 40, "  ").split("\n")
    assert f"  {url}" in lines
    words = text.split()
    assert [w for line in lines for w in line.split()] == words


_mixed = st.lists(
    st.sampled_from(
        ["视", "觉", "，", "。", "（", "）", "model", " ", "LLMs", "https://a.example/x/y"]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(_mixed, st.integers(min_value=20, max_value=80))
def test_wrapping_keeps_every_character_and_the_width(text: str, width: int) -> None:
    lines = wrap(text, width).split("\n")
    assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)
    for line in lines:
        if display_width(line) > width:
            # only a URL longer than the line, or punctuation carried with its word
            assert "https://" in line or len(line.split()) <= 2, line


def test_a_url_is_not_run_into_the_chinese_around_it() -> None:
    assert wrap("请访问https://vader-vid.github.io获取。", 20).split("\n")[1] == (
        "https://vader-vid.github.io"
    )
