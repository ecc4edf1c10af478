"""Summary markdown to HTML and text: links, escaping, paragraphs."""

from __future__ import annotations

import pytest

from newsletter.compose.markup import paragraphs, to_html, to_text


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
        (
            "模型 https://github.com/LLaVA-VL/LLaVA-NeXT获取。",
            "https://github.com/LLaVA-VL/LLaVA-NeXT",
            "获取。",
        ),
        ("见 https://a.example/p/“项目”", "https://a.example/p/", "“项目”"),
        ("见 https://a.example/p……", "https://a.example/p", "……"),
        ("见 https://a.example/p——代码", "https://a.example/p", "——代码"),
        ("见 https://a.example/p，以及", "https://a.example/p", "，以及"),
    ],
)
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


def test_only_a_link_that_shows_a_url_may_break_anywhere() -> None:
    html = to_html("代码见 [GitHub 链接](https://github.com/a/b) 与 https://github.com/a/b")
    assert '<a href="https://github.com/a/b">GitHub 链接</a>' in html
    assert '<a href="https://github.com/a/b" class="url">https://github.com/a/b</a>' in html


def test_line_breaks_inside_a_paragraph_are_kept() -> None:
    assert to_html("第一行\n第二行") == "第一行<br>\n第二行"


def test_text_writes_links_out() -> None:
    assert to_text("见 [项目主页](https://a.example/p) 和 https://b.example") == (
        "见 项目主页 (https://a.example/p) 和 https://b.example"
    )


def test_paragraphs_split_on_blank_lines() -> None:
    assert paragraphs("一\n二\n\n三\n\n") == ["一\n二", "三"]
    assert paragraphs("") == []


def test_a_chinese_line_that_ends_a_sentence_is_a_paragraph() -> None:
    """FunAudioLLM's summary in the sample is three lines, each a paragraph of its own."""
    text = "第一段。\n第二段！\n第三段，\n还在第三段？"
    assert paragraphs(text) == ["第一段。", "第二段！", "第三段，\n还在第三段？"]
    assert paragraphs("An English line.\nwrapped by hand") == ["An English line.\nwrapped by hand"]
