"""The rendering pipeline: real Jinja2, real mjml-python, the CSS inlined."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from pathlib import Path
from typing import Any

import pytest

from newsletter.compose.render import IssueInfo, Renderer
from newsletter.compose.textlayout import display_width
from newsletter.config import NewsletterSettings
from newsletter.core.errors import TemplateError
from newsletter.core.model import EDITIONS, UNSUBSCRIBE_PLACEHOLDER, Edition, Paper
from newsletter.core.templates import CHECKOUT as CHECKOUT_TEMPLATES
from newsletter.digest import parse_files
from tests.conftest import SAMPLE_DIGEST

SAMPLE_PAPERS = parse_files([SAMPLE_DIGEST]).papers
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def sample_issue(papers: list[Paper] | None = None, number: int = 3) -> IssueInfo:
    return IssueInfo(
        number, dt.date(2024, 7, 15), f"{number:04d}-2024-07-15", papers or SAMPLE_PAPERS
    )


@pytest.fixture(scope="module")
def editions() -> dict[str, Edition]:
    return Renderer(NewsletterSettings()).render(sample_issue())


def body(html: str) -> str:
    """The visible part of the HTML, without head, styles or the hidden preheader."""
    return html[html.index("<body") :]


@pytest.mark.parametrize("name", EDITIONS)
def test_every_edition_has_every_paper_link_and_title(
    editions: dict[str, Edition], name: str
) -> None:
    html = editions[name].html
    for paper in SAMPLE_PAPERS:
        assert f'href="https://arxiv.org/abs/{paper.arxiv_id}"' in html
        title = paper.title_zh if name == "zh" else paper.title_en
        assert html_lib.escape(title, quote=False) in html, (name, title)
        assert f"https://arxiv.org/abs/{paper.arxiv_id}" in editions[name].text


def test_bilingual_edition_has_both_titles_and_both_languages_marked(
    editions: dict[str, Edition],
) -> None:
    html = editions["bilingual"].html
    funaudio = SAMPLE_PAPERS[1]
    english = html.index(html_lib.escape(funaudio.title_en))
    chinese = html.index(funaudio.title_zh)
    assert english < chinese
    assert re.search(r'<h2 class="paper-title" lang="en"', html)
    assert re.search(r'<p class="paper-subtitle" lang="zh-CN"', html)
    # Self-Instruct has three paragraphs, FunAudioLLM three lines that end sentences.
    assert html.count('<p class="summary" lang="zh-CN"') == 13 + 2 + 2
    assert 'Read on arXiv</span> / <span lang="zh-CN">阅读原文' in html
    assert '<span lang="en">Unsubscribe</span> / <span lang="zh-CN">退订</span>' in html


def test_zh_edition_puts_the_chinese_title_first(editions: dict[str, Edition]) -> None:
    html = editions["zh"].html
    paper = SAMPLE_PAPERS[0]
    assert html.index(paper.title_zh) < html.index(paper.title_en)
    assert '<h2 class="paper-title" lang="zh-CN" style=' in html
    assert "Unsubscribe" not in body(html) and "退订" in html


MISSING_ALL = (
    "The English abstracts of this issue's papers could not be included: each title "
    "links to the paper's abstract on arXiv."
)


def test_en_edition_without_metadata_shows_no_chinese(editions: dict[str, Edition]) -> None:
    """The sample has Chinese summaries only, and no arXiv metadata here: an English
    reader gets the titles, and one notice at the top, never Chinese text."""
    html = body(editions["en"].html)
    assert not CJK.search(html), CJK.search(html)
    assert html.count(MISSING_ALL) == 1
    assert html.index(MISSING_ALL) < html.index("In this issue")
    assert "No English summary" not in html and 'class="summary"' not in html
    text = editions["en"].text
    assert not CJK.search(text), CJK.search(text)
    assert " ".join(text.split()).count(MISSING_ALL) == 1
    assert text.index("The English abstracts") < text.index("In this issue")
    assert "No English summary" not in text
    for name in ("bilingual", "zh"):
        assert "English abstracts" not in editions[name].html + editions[name].text
    assert "退订" not in body(editions["en"].html) and "Unsubscribe" in editions["en"].html


def test_en_edition_prefers_an_english_summary() -> None:
    paper = Paper(
        "2407.06581",
        "Vision language models are blind",
        "视觉语言模型的视觉盲区",
        "https://arxiv.org/abs/2407.06581",
        "中文摘要。",
        "An English summary.",
        "d.md",
        1,
    )
    editions = Renderer(NewsletterSettings()).render(sample_issue([paper]))
    assert "An English summary." in editions["en"].html
    assert "中文摘要" not in body(editions["en"].html)
    assert "An English summary." in editions["bilingual"].html
    assert "中文摘要" in editions["bilingual"].html
    assert "An English summary." in editions["en"].text


def test_markup_in_titles_is_shown_and_runs_nothing() -> None:
    paper = Paper(
        "1706.03762",
        'Attention & <script>alert("x")</script>',
        "注意力 & <b>粗</b>",
        "https://arxiv.org/abs/1706.03762",
        "摘要 <img src=x onerror=alert(1)> 和 [链接](javascript:alert(1))。",
        None,
        "d.md",
        1,
    )
    editions = Renderer(NewsletterSettings()).render(sample_issue([paper]))
    for edition in editions.values():
        page = body(edition.html)
        assert "<script>" not in page and "<img" not in page and "<b>" not in page
        assert "javascript:" not in re.findall(r'href="([^"]*)"', page)
        assert "&lt;script&gt;" in page or "&lt;b&gt;" in page
    assert 'Attention &amp; &lt;script&gt;alert("x")&lt;/script&gt;' in editions["en"].html
    assert 'Attention & <script>alert("x")</script>' in editions["en"].text
    assert "<title>AI Paper Digest #3</title>" in editions["en"].html


def test_the_unsubscribe_placeholder_survives_mjml_and_inlining(
    editions: dict[str, Edition],
) -> None:
    for edition in editions.values():
        assert f'href="{UNSUBSCRIBE_PLACEHOLDER}"' in edition.html
        assert UNSUBSCRIBE_PLACEHOLDER in edition.text


def test_html_is_inlined_and_keeps_what_phones_and_dark_mode_need(
    editions: dict[str, Edition],
) -> None:
    html = editions["bilingual"].html
    assert html.startswith("<!doctype html>")
    assert '<html lang="zh-CN"' in html
    assert 'class="paper-title" lang="en" style="' in html  # CSS inlined
    assert "!important" in html  # MJML's phone rules and dark mode keep their weight
    assert "@media only screen and (min-width:480px)" in html
    assert "prefers-color-scheme: dark" in html
    assert "PingFang SC" in html and "Noto Sans CJK SC" in html
    assert "fonts.googleapis.com" not in html and "<link" not in html
    assert "https://digest.example.org/issues/0003-2024-07-15/bilingual.html" in html


def test_subjects_and_preheaders_per_edition(editions: dict[str, Edition]) -> None:
    assert editions["bilingual"].subject == "AI Paper Digest #3 · AI 论文周报 第3期"
    assert editions["en"].subject == "AI Paper Digest #3"
    assert editions["zh"].subject == "AI 论文周报 第3期"
    assert editions["en"].preheader == (
        "This week: Unveiling Encoder-Free Vision-Language…, FunAudioLLM, AriGraph and 10 more"
    )
    assert editions["zh"].preheader.startswith(
        "本期 13 篇论文：无编码器视觉-语言模型的探索、FunAudioLLM"
    )
    for edition in editions.values():
        assert html_lib.escape(edition.preheader, quote=False) in edition.html
        assert f"<title>{html_lib.escape(edition.subject)}</title>" in edition.html


def test_subject_patterns_are_configurable() -> None:
    settings = NewsletterSettings(subject_en="{title_en} {date}: {papers} papers")
    editions = Renderer(settings).render(sample_issue())
    assert editions["en"].subject == "AI Paper Digest 2024-07-15: 13 papers"


def test_twenty_papers_stay_under_gmails_clipping_limit() -> None:
    twenty = [
        Paper(
            f"2407.{i:05d}",
            p.title_en,
            p.title_zh,
            f"https://arxiv.org/abs/2407.{i:05d}",
            p.summary_zh,
            p.summary_en,
            p.source_file,
            p.source_line,
        )
        for i, p in enumerate((SAMPLE_PAPERS * 2)[:20])
    ]
    for edition in Renderer(NewsletterSettings()).render(sample_issue(twenty)).values():
        assert edition.html_bytes < 102 * 1024, (edition.name, edition.html_bytes)


@pytest.mark.parametrize("name", EDITIONS)
def test_text_editions_fit_72_columns(editions: dict[str, Edition], name: str) -> None:
    for line in editions[name].text.splitlines():
        if "https://" not in line:
            assert display_width(line) <= 72, line


def test_text_edition_reads_well(editions: dict[str, Edition]) -> None:
    text = editions["bilingual"].text
    assert text.startswith("AI Paper Digest #3 · AI 论文周报 第3期\n")
    assert (
        "1. Unveiling Encoder-Free Vision-Language Models\n    无编码器视觉-语言模型的探索\n"
        in text
    )
    assert "<" not in text.replace("<script>", "")  # no HTML left over
    assert re.search(
        r"GitHub 链接\s+\(https://github.com/zwq2018/Multi-modal-Self-instruct\)", text
    )


# Broken templates: a copy in the workspace overrides the packaged one.


def broken_workspace(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "templates"
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    source = (CHECKOUT_TEMPLATES / name).read_text(encoding="utf-8")
    assert old in source
    target.write_text(source.replace(old, new, 1), encoding="utf-8")
    return folder


def render_with(folder: Path) -> dict[str, Edition]:
    return Renderer(NewsletterSettings(), folder).render(sample_issue())


def line_of(folder: Path, name: str, text: str) -> int:
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "partials/footer.mjml.j2",
            '{%- if edition != "zh" %}',
            "{%- if edition != %}",
            "unexpected 'end of statement block'",
        ),
        (
            "partials/paper.mjml.j2",
            "{{ paper.url }}",
            "{{ paper.link }}",
            "has no attribute 'link'",
        ),
        (
            "partials/header.mjml.j2",
            "{{ issue.web_url }}",
            "{{ web_url }}",
            "'web_url' is undefined",
        ),
        ("issue.txt.j2", "{{ issue.subject }}", "{{ issue.subjet }}", "has no attribute 'subjet'"),
    ],
)
def test_a_jinja_error_names_the_template_and_line(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    folder = broken_workspace(tmp_path, name, old, new)
    with pytest.raises(TemplateError) as caught:
        render_with(folder)
    text = str(caught.value)
    assert text.startswith(f"{folder / name}:{line_of(folder, name, new)}: "), text
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<mj-column>", "<mj-colum>", "unknown MJML tag <mj-colum>"),
        (
            '<mj-section background-color="#ffffff" css-class="card">',
            '<mj-section backgroud-color="#ffffff" css-class="card">',
            "backgroud-color",
        ),
        (
            "      </mj-column>\n    </mj-section>",
            "      </mj-colum>\n    </mj-section>",
            "mj-colum",
        ),
    ],
)
def test_an_mjml_typo_is_caught_before_it_reaches_a_subscriber(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    folder = broken_workspace(tmp_path, "issue.mjml.j2", old, new)
    with pytest.raises(TemplateError) as caught:
        render_with(folder)
    text = str(caught.value)
    assert message in text
    first_line = new.strip().splitlines()[0]
    assert text.startswith(
        f"{folder / 'issue.mjml.j2'}:{line_of(folder, 'issue.mjml.j2', first_line)}:"
    )


def test_mjml_that_does_not_compile_is_a_template_error(tmp_path: Path) -> None:
    folder = broken_workspace(
        tmp_path, "issue.mjml.j2", "<mj-column>", '<mj-column><mj-include path="missing.mjml" />'
    )
    with pytest.raises(TemplateError, match="does not compile"):
        render_with(folder)


def test_a_stylesheet_that_does_not_parse_is_one_error_not_an_unstyled_email(
    tmp_path: Path,
) -> None:
    brace = ".meta { margin: 0; font-size: 13px; line-height: 1.6; color: #4b5563; }"
    folder = broken_workspace(tmp_path, "partials/head.mjml.j2", brace, brace[:-1])
    with pytest.raises(TemplateError) as caught:
        render_with(folder)
    assert str(caught.value).startswith("issue.mjml.j2: a stylesheet (<mj-style>) does not parse: ")
    assert "\n" not in str(caught.value)


def test_a_workspace_template_overrides_the_packaged_one(tmp_path: Path) -> None:
    folder = broken_workspace(
        tmp_path, "partials/footer.mjml.j2", "because you subscribed", "because you asked for it"
    )
    html = render_with(folder)["en"].html
    assert "because you asked for it" in html
    assert "阅读原文" in render_with(folder)["bilingual"].html  # the rest still packaged


def test_an_edition_without_its_unsubscribe_link_is_refused(tmp_path: Path) -> None:
    folder = broken_workspace(
        tmp_path, "partials/footer.mjml.j2", '<a href="{{ unsubscribe_url }}">', '<a href="#">'
    )
    with pytest.raises(TemplateError) as caught:
        render_with(folder)
    assert str(caught.value) == (
        f"the bilingual edition's HTML has no unsubscribe link ({UNSUBSCRIBE_PLACEHOLDER}, "
        "from {{ unsubscribe_url }} in the templates); no issue is written"
    )


def test_a_10_mb_paragraph_keeps_the_footer_and_the_unsubscribe_link() -> None:
    # libxml2 stops at a text node over 10,000,000 bytes unless told `huge_tree`, and
    # its HTML parser then drops the rest of the document without a word.
    summary = "a" * 10_200_000
    paper = Paper(
        "2401.00001", "Long", "长", "https://arxiv.org/abs/2401.00001", summary, None, "d.md", 1
    )
    edition = Renderer(NewsletterSettings()).edition(sample_issue([paper]), "zh")
    assert summary in edition.web_html  # whole on the web; cut to fit in the mail
    assert edition.html_bytes < 100 * 1024 and edition.chinese_cut == 1
    for html in (edition.web_html, edition.html):
        assert f'href="{UNSUBSCRIBE_PLACEHOLDER}"' in html
        assert "是因为您订阅了" in html
        assert html.rstrip().endswith("</html>")


def test_the_samples_links_stop_before_the_chinese_after_them(
    editions: dict[str, Edition],
) -> None:
    html, text = editions["bilingual"].html, editions["bilingual"].text
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://vader-vid.github.io" in hrefs
    assert "https://github.com/LLaVA-VL/LLaVA-NeXT" in hrefs
    assert not [href for href in hrefs if "%E" in href or re.search(r"[^\x00-\x7f]", href)]
    flat = re.sub(r"\s+", " ", text)
    assert "https://vader-vid.github.io 获取" in flat
    assert "https://github.com/LLaVA-VL/LLaVA-NeXT 获取" in flat


def test_link_text_breaks_only_where_it_is_a_url(editions: dict[str, Edition]) -> None:
    links = re.findall(r"<a ([^>]*)>(.*?)</a>", body(editions["bilingual"].html), re.DOTALL)
    assert "break-all" not in editions["bilingual"].html
    words = [(attrs, label) for attrs, label in links if "GitHub" in label and "://" not in label]
    urls = [(attrs, label) for attrs, label in links if label.startswith("https://")]
    assert words and urls
    for attrs, label in words:
        assert "anywhere" not in attrs and "break" not in attrs, label
    for attrs, label in urls:
        assert "overflow-wrap:anywhere" in attrs, label


# Colour contrast: every text colour against the background it shows on, computed from
# the HTML as a mail client gets it, in light mode (inline styles) and in dark mode
# (the `prefers-color-scheme: dark` rules, which win with !important).

HEX = r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b"  # #fff is #ffffff


def full_hex(colour: str) -> str:
    colour = colour.lower()
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


def luminance(colour: str) -> float:
    colour = full_hex(colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG 2 contrast ratio of two `#rrggbb` colours."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_the_wcag_examples() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#6b7280", "#f2f4f7") == pytest.approx(4.39, abs=0.01)  # the old footer


def dark_rules(html: str) -> dict[str, list[tuple[str, str]]]:
    """{property: [(selector, colour)]} of the dark-mode media query."""
    start = html.index("@media (prefers-color-scheme: dark)")
    block = html[html.index("{", start) + 1 : html.index("</style>", start)]
    rules: dict[str, list[tuple[str, str]]] = {"color": [], "background-color": []}
    for selectors, declarations in re.findall(r"([^{}]+)\{([^{}]*)\}", block):
        for prop, colour in re.findall(
            rf"(?<![\w-])(color|background-color)\s*:\s*({HEX})", declarations
        ):
            rules[prop] += [(selector.strip(), colour) for selector in selectors.split(",")]
    return rules


def inline(element: Any, prop: str) -> str | None:
    names = "color" if prop == "color" else "background-color|background"
    found = re.search(rf"(?:^|;)\s*(?:{names})\s*:\s*({HEX})", element.get("style", ""))
    if found:
        return full_hex(found.group(1))
    return element.get("bgcolor") if prop != "color" else None


def text_colours(html: str, dark: bool) -> set[tuple[str, str, str]]:
    """(text, colour, background) of every visible piece of text."""
    import lxml.html

    root = lxml.html.fromstring(html)
    matched: dict[str, dict[Any, str]] = {"color": {}, "background-color": {}}
    if dark:
        for prop, rules in dark_rules(html).items():
            for selector, colour in rules:
                for element in root.cssselect(selector):
                    matched[prop][element] = full_hex(colour)

    def resolve(element: Any, prop: str) -> str:
        for node in [element, *element.iterancestors()]:
            value = matched[prop].get(node) or inline(node, prop)
            if value:
                return value
        return "#ffffff"

    found = set()
    for element in root.find("body").iter():
        hidden = any(
            "display:none" in (node.get("style") or "").replace(" ", "")
            for node in [element, *element.iterancestors()]
        )
        own = (element.text or "") + "".join(child.tail or "" for child in element)
        if hidden or not isinstance(element.tag, str) or not own.strip():
            continue
        found.add(
            (own.strip()[:30], resolve(element, "color"), resolve(element, "background-color"))
        )
    return found


@pytest.mark.parametrize("name", EDITIONS)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_text_colour_meets_wcag_aa_contrast(
    editions: dict[str, Edition], name: str, dark: bool
) -> None:
    pairs = text_colours(editions[name].html, dark)
    failing = [
        (text, fg, bg, round(contrast(fg, bg), 2))
        for text, fg, bg in pairs
        if contrast(fg, bg) < 4.5
    ]
    assert failing == []
    texts = {text for text, _, _ in pairs}
    assert any("View in browser" in t or "在浏览器中查看" in t for t in texts)  # header
    assert any("退订" in t or "Unsubscribe" in t for t in texts)  # footer
    assert len({(fg, bg) for _, fg, bg in pairs}) >= 6  # masthead, cards, links, footer…


@pytest.mark.parametrize("name", EDITIONS)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_masthead_stands_apart_from_the_paper_card(
    editions: dict[str, Edition], name: str, dark: bool
) -> None:
    """The masthead, the card of papers under it and the page around them are three
    colours a reader tells apart, in dark mode too (not one flat dark)."""
    pairs = text_colours(editions[name].html, dark)
    masthead = {bg for text, _, bg in pairs if text in ("AI Paper Digest", "AI 论文周报")}
    card = {bg for text, _, bg in pairs if text in ("In this issue", "本期内容")}
    page = {bg for text, _, bg in pairs if "Unsubscribe" in text or "退订" in text}
    assert len(masthead) == len(card) == len(page) == 1, (masthead, card, page)
    (masthead_bg,), (card_bg,), (page_bg,) = masthead, card, page
    assert contrast(masthead_bg, card_bg) >= 1.5, (masthead_bg, card_bg)
    assert contrast(masthead_bg, page_bg) >= 1.5, (masthead_bg, page_bg)


@pytest.mark.parametrize("name", EDITIONS)
def test_bgcolor_and_width_are_only_where_html_allows_them(
    editions: dict[str, Edition], name: str
) -> None:
    """`bgcolor` on a <span> (the inliner's old habit) or `width` on the contents'
    numbers (a <b>) is an HTML error."""
    import lxml.html

    root = lxml.html.fromstring(editions[name].html)
    cells = ("table", "tr", "td", "th", "body")
    misplaced = [
        (element.tag, attribute)
        for element in root.iter()
        for attribute in ("bgcolor", "width", "height")
        if element.get(attribute) and element.tag not in (*cells, "img")
    ]
    assert misplaced == []
    assert root.find_class("contents-number")  # it has a width, in its style


# The postal address in the footer, and the hidden preheader.

ADDRESS = "AI Paper Digest <Lab>\n  1 Main St & Co\n\nBeijing 100080"


@pytest.fixture(scope="module")
def addressed() -> dict[str, Edition]:
    return Renderer(NewsletterSettings(postal_address=ADDRESS)).render(sample_issue())


@pytest.mark.parametrize("name", EDITIONS)
def test_footer_shows_the_postal_address_escaped_line_by_line(
    addressed: dict[str, Edition], name: str
) -> None:
    html, text = addressed[name].html, addressed[name].text
    lines = "AI Paper Digest &lt;Lab&gt;<br>1 Main St &amp; Co<br>Beijing 100080</p>"
    assert html.count(lines) == 1
    assert html.index(lines) > html.index(f'href="{UNSUBSCRIBE_PLACEHOLDER}"')  # the footer
    assert "<Lab>" not in html
    assert text.endswith("\n\nAI Paper Digest <Lab>\n1 Main St & Co\nBeijing 100080\n")


@pytest.mark.parametrize("name", EDITIONS)
def test_no_postal_address_no_footer_line(
    editions: dict[str, Edition], addressed: dict[str, Edition], name: str
) -> None:
    footers = editions[name].html.count('class="footer"')
    assert addressed[name].html.count('class="footer"') == footers + 1
    assert editions[name].text.rstrip("\n").endswith(UNSUBSCRIBE_PLACEHOLDER)


@pytest.mark.parametrize("name", EDITIONS)
def test_preheader_is_hidden_without_a_colour(editions: dict[str, Edition], name: str) -> None:
    """display:none (mso-hide:all for Outlook) hides it; a colour like the background's
    would too, but SpamAssassin scores that as hidden text (HTML_FONT_LOW_CONTRAST)."""
    import lxml.html

    body_html = body(editions[name].html)
    root = lxml.html.fromstring(body_html)
    preheader = html_lib.escape(editions[name].preheader, quote=False)
    assert body_html.count(preheader) == 1
    (node,) = root.find_class("preheader")
    style = node.get("style").replace(" ", "")
    assert "display:none" in style and "mso-hide:all" in style
    assert not re.search(r"(?:^|;)color:", style)
    assert node.get("aria-hidden") == "true"
    assert body_html.index(preheader) < body_html.index("paper-title")  # first in the body
