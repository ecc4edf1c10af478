"""Long HTML lines are broken only where a line break cannot show."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.compose.render import Renderer
from newsletter.config import NewsletterSettings
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.body import canonical_lines
from newsletter.mail.htmlwrap import wrap
from tests.compose.test_render import sample_issue

ZH = "模型训练方法".encode()  # six ideographs, 18 bytes


def lines(html: bytes) -> list[bytes]:
    return html.split(b"\r\n")


def test_a_short_document_is_left_as_it_is() -> None:
    html = b"<p class='a'>x y</p>\r\n<pre>a  b</pre>"
    assert wrap(html, 998) is html


def test_a_tag_breaks_between_its_attributes_never_inside_a_value() -> None:
    href = b"https://example.org/a%20b?x=1 &amp; y=2"  # a space inside the quoted value
    html = b'<a class="url" href="' + href + b'" style="color: red; margin: 0 0 1px">x</a>'
    wrapped = wrap(html, 60)
    assert wrapped is not None
    assert all(len(line) <= 60 for line in lines(wrapped))
    assert b'href="' + href + b'"' in wrapped
    assert wrapped.replace(b"\r\n", b" ") == html


def test_text_breaks_at_a_space_with_ascii_beside_it() -> None:
    html = b"<p>" + ZH + b" Stable Diffusion " + ZH + b" " + ZH + b"</p>"
    wrapped = wrap(html, 45)
    assert wrapped is not None
    assert all(len(line) <= 45 for line in lines(wrapped))
    # between two Chinese characters a line break would show (or vanish): not there
    assert ZH + b" " + ZH in wrapped
    assert wrapped.replace(b"\r\n", b" ") == html


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        (b"<pre>", b"</pre>"),
        (b"<textarea>", b"</textarea>"),
        (b"<script>", b"</script>"),
        (b"<title>", b"</title>"),
        (b"<!-- ", b" -->"),
        (b"<p style='white-space: pre-wrap'>", b"</p>"),
        (b"<pre><b>", b"</b></pre>"),
    ],
)
def test_where_white_space_shows_nothing_breaks(opening: bytes, closing: bytes) -> None:
    assert wrap(opening + b"word " * 40 + closing, 100) is None


def test_a_style_sheet_that_keeps_white_space_turns_text_breaks_off() -> None:
    sheet = b"<style>p { white-space: pre-line }</style>\r\n"
    assert wrap(sheet + b"<p>" + b"word " * 40 + b"</p>", 100) is None
    assert wrap(b"<style>p { color: red }</style>\r\n<p>" + b"word " * 40 + b"</p>", 100)


def test_a_run_of_chinese_breaks_inside_a_wbr_between_two_ideographs() -> None:
    html = b"<p>" + ZH * 20 + "。".encode() + ZH * 20 + b"</p>"
    wrapped = wrap(html, 100)
    assert wrapped is not None
    assert all(len(line) <= 100 for line in lines(wrapped))
    for cut in wrapped.split(b"<wbr\r\n>")[:-1]:
        assert cut[-3:].decode() in "模型训练方法"  # an ideograph on each side, never 。
    rest = wrapped.split(b"<wbr\r\n>")[1:]
    assert all(piece[:3].decode() in "模型训练方法" for piece in rest)
    assert wrapped.replace(b"<wbr\r\n>", b"") == html


@pytest.mark.parametrize(
    "opening", [b"<p style='white-space:nowrap'>", b"<p style='word-break: keep-all'>", b"<nobr>"]
)
def test_no_wbr_where_it_would_add_a_break(opening: bytes) -> None:
    assert wrap(opening + ZH * 20 + b"</p>", 100) is None


def test_a_placeholder_counts_as_the_link_that_replaces_it() -> None:
    html = b'<a href="%%U%%" class="x">' + b"y" * 80 + b"</a>"
    assert wrap(html, 120) is html  # fits as it is
    wrapped = wrap(html, 120, (b"%%U%%",), 60)
    assert wrapped is not None
    for line in lines(wrapped):
        assert len(line.replace(b"%%U%%", b"L" * 60)) <= 120


def test_every_placeholder_on_a_line_counts_as_a_link() -> None:
    """The footer holds two links on one line: short as it is, it may not fit with both."""
    html = b'<p><a href="%%U%%">' + b"y" * 5 + b'</a> <a href="%%P%%">' + b"z" * 5 + b"</a></p>"
    assert len(html) + 55 <= 120 < len(html) + 2 * 55  # fits with one grown to 60, not two
    wrapped = wrap(html, 120, (b"%%U%%", b"%%P%%"), 60)
    assert wrapped is not None and wrapped != html
    for line in lines(wrapped):
        assert len(line.replace(b"%%U%%", b"L" * 60).replace(b"%%P%%", b"L" * 60)) <= 120


def test_a_line_with_no_place_to_break_gives_up() -> None:
    assert wrap(b"<p>" + b"a" * 2000 + b"</p>", 998) is None


WORDS = st.sampled_from(
    [
        "a",
        "bc",
        " ",
        "  ",
        "中",
        "文字",
        "。",
        "<b>",
        "</b>",
        "<a href=\"x y\" title='p q'>",
        "</a>",
        "<br>",
        "&amp;",
        "\r\n",
        "<pre>",
        "</pre>",
        "<p style='white-space:pre'>",
        "</p>",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=200).map("".join))
def test_any_document_keeps_its_text_and_its_lines(document: str) -> None:
    """Every line within the limit, or None; and the document is the same but for spaces
    made line breaks beside ASCII, and <wbr>s, never inside a quoted value or <pre>."""
    html = document.encode()
    wrapped = wrap(html, 40)
    if wrapped is None:
        assert max(map(len, lines(html))) > 40
        return
    assert all(len(line) <= 40 for line in lines(wrapped))
    for value in (b'href="x y"', b"title='p q'", b"<pre>"):
        assert wrapped.count(value) == html.count(value)
    ours, at = lines(wrapped.replace(b"<wbr\r\n>", b"")), 0
    for line in lines(html):
        joined = ours[at]
        while joined != line:
            assert line.startswith(joined + b" "), (line, joined)
            assert joined[-1:].isascii() or ours[at + 1][:1].isascii()  # not between two 中
            at += 1
            joined += b" " + ours[at]
        at += 1
    assert at == len(ours)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PLACES = """
const places = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const range = document.createRange();
for (let node; (node = walker.nextNode()); ) {
  for (let i = 0; i < node.textContent.length; i++) {
    if (/\\s/.test(node.textContent[i])) continue;
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const box = range.getBoundingClientRect();
    if (box.width || box.height) places.push([node.textContent[i], box.left, box.top]);
  }
}
return [document.documentElement.scrollHeight, places];
"""
"""Every character a reader sees, where Chromium lays it out, and the page's height."""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def _laid_out(driver: Any, html: bytes, page: Path, width: int) -> tuple[int, list[Any]]:
    page.write_bytes(html)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.get(page.as_uri())
    height, places = driver.execute_script(PLACES)
    return int(height), places


def _moved(before: list[Any], after: list[Any]) -> float:
    """How far the furthest character moved (px); a character that changed is infinitely far."""
    if [c for c, _, _ in before] != [c for c, _, _ in after]:
        return float("inf")
    pairs = zip(before, after, strict=True)
    return max((abs(x - u) + abs(y - v) for (_, x, y), (_, u, v) in pairs), default=0)


@pytest.mark.parametrize("edition", ["bilingual", "en", "zh"])
def test_the_sample_is_laid_out_as_composed_in_chromium(
    chromium: Any, tmp_path: Path, edition: str
) -> None:
    """Every character where it was, to a sub-pixel rounding (1/64 px), at a phone's and
    a desktop's width; Chromium shows a line break between two Chinese characters as a
    space, so putting one in instead of a `<wbr>` (the control) moves text."""
    composed = Renderer(NewsletterSettings()).render(sample_issue(number=1))[edition].html
    composed = composed.replace(UNSUBSCRIBE_PLACEHOLDER, "https://digest.example.org/u/T0k3n")
    wrapped = wrap(canonical_lines(composed), 998)
    assert wrapped is not None and max(map(len, lines(wrapped))) <= 998
    # The English edition has no Chinese run to break inside: no <wbr>, no control.
    assert (b"<wbr\r\n>" in wrapped) == (edition != "en")
    control = wrapped.replace(b"<wbr\r\n>", b"\r\n", 1)
    for width in (375, 1000):
        height, places = _laid_out(chromium, composed.encode(), tmp_path / "composed.html", width)
        assert len(places) > 2000
        wrapped_height, wrapped_places = _laid_out(chromium, wrapped, tmp_path / "w.html", width)
        assert wrapped_height == height and _moved(places, wrapped_places) < 0.1, width
        if control != wrapped:
            moved = _moved(places, _laid_out(chromium, control, tmp_path / "c.html", width)[1])
            assert moved > 2
