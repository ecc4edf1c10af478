"""Summary markdown to HTML and text, and wrapping text that mixes Chinese and English."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.markup import display_width, drop_invalid, paragraphs, to_html, to_text, wrap


def test_markdown_links_and_bare_urls_become_links() -> None:
    html = to_html(
        "代码见 [GitHub 链接](https://github.com/a/b)，演示 https://demo.example.org/x。"
    )
    assert html == (
        '代码见 <a href="https://github.com/a/b">GitHub 链接</a>，'
        '演示 <a href="https://demo.example.org/x" class="url">https://demo.example.org/x</a>。'
    )


def test_everything_else_is_escaped() -> None:
    html = to_html('<script>alert("x")</script> & <img src=x onerror=alert(1)>')
    assert "<script>" not in html and "<img" not in html
    assert html == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
    )


def test_only_http_and_https_links_are_links() -> None:
    for link in ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](ftp://a.b/c)"]:
        assert "<a" not in to_html(link), link
        assert to_html(link) == link.replace("&", "&amp;")


def test_a_link_text_cannot_inject_markup() -> None:
    html = to_html('[<b onmouseover="x">bold</b>](https://a.example/")')
    assert html.startswith('<a href="https://a.example/&#34;">&lt;b onmouseover=')


def test_sentence_punctuation_after_a_url_is_not_part_of_it() -> None:
    assert to_html("See https://a.example/x. Or https://en.wikipedia.org/wiki/A_(b)).") == (
        'See <a href="https://a.example/x" class="url">https://a.example/x</a>. Or '
        '<a href="https://en.wikipedia.org/wiki/A_(b)" class="url">'
        "https://en.wikipedia.org/wiki/A_(b)</a>)."
    )


@pytest.mark.parametrize(
    ("text", "url", "after"),
    [  # from the sample digest, where a URL runs straight into the Chinese after it
        ("请访问https://vader-vid.github.io获取。", "https://vader-vid.github.io", "获取。"),
        ("模型 https://github.com/LLaVA-VL/LLaVA-NeXT获取。",
         "https://github.com/LLaVA-VL/LLaVA-NeXT", "获取。"),
        ("见 https://a.example/p/“项目”", "https://a.example/p/", "“项目”"),
        ("见 https://a.example/p……", "https://a.example/p", "……"),
        ("见 https://a.example/p——代码", "https://a.example/p", "——代码"),
        ("见 https://a.example/p，以及", "https://a.example/p", "，以及"),
    ],
)  # fmt: skip
def test_a_bare_url_ends_where_chinese_begins(text: str, url: str, after: str) -> None:
    html = to_html(text)
    assert f'<a href="{url}" class="url">{url}</a>{after}' in html
    assert "%E" not in html


def test_text_edition_keeps_a_space_between_a_url_and_chinese() -> None:
    assert to_text("请访问https://vader-vid.github.io获取。") == (
        "请访问 https://vader-vid.github.io 获取。"
    )
    assert to_text("See https://a.example/x. 见 https://b.example。") == (
        "See https://a.example/x. 见 https://b.example 。"
    )
    assert wrap("请访问https://vader-vid.github.io获取。", 20).split("\n")[1] == (
        "https://vader-vid.github.io"
    )


def test_only_a_link_that_shows_a_url_may_break_anywhere() -> None:
    html = to_html("代码见 [GitHub 链接](https://github.com/a/b) 与 https://github.com/a/b")
    assert '<a href="https://github.com/a/b">GitHub 链接</a>' in html
    assert '<a href="https://github.com/a/b" class="url">https://github.com/a/b</a>' in html


def test_characters_an_email_cannot_carry_are_dropped() -> None:
    text = "a\x00b\x07c\x0bd\x1fe\x7ff\x85g\x9fh\ufffei\uffffj\ufdd0k\U0010ffffl"
    assert drop_invalid(text) == "abcdefghijkl"
    kept = "tab\tline\ncr\r中文 emoji 🙂 zero\u200bwidth"
    assert drop_invalid(kept) == kept


def test_line_breaks_inside_a_paragraph_are_kept() -> None:
    assert to_html("第一行\n第二行") == "第一行<br>\n第二行"


def test_text_writes_links_out() -> None:
    assert to_text("见 [项目主页](https://a.example/p) 和 https://b.example") == (
        "见 项目主页 (https://a.example/p) 和 https://b.example"
    )


def test_paragraphs_split_on_blank_lines() -> None:
    assert paragraphs("一\n二\n\n三\n\n") == ["一\n二", "三"]
    assert paragraphs("") == []


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
