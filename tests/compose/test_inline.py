"""CSS inlining (`compose/inline.py`): the cascade email clients need written out."""

from __future__ import annotations

from typing import Any

from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.compose.inline import inline


def inlined(css: str, body: str, *more_css: str) -> Any:
    styles = "".join(f"<style>{sheet}</style>" for sheet in (css, *more_css))
    document = lxml_html.fromstring(f"<html><head>{styles}</head><body>{body}</body></html>")
    inline(document)
    return document


def style(document: Any, element_id: str) -> str | None:
    [element] = document.xpath(f'//*[@id="{element_id}"]')
    value: str | None = element.get("style")
    return value


def test_class_and_descendant_rules_are_written_onto_the_elements() -> None:
    document = inlined(
        ".summary { margin: 0 0 12px; color: #374151 } .summary a { color: #1d4ed8 }",
        '<p class="summary" id="p">Text <a id="a" href="#">link</a></p><a id="out">x</a>',
    )
    assert style(document, "p") == "margin:0 0 12px; color:#374151"
    assert style(document, "a") == "color:#1d4ed8"
    assert style(document, "out") is None


def test_the_cascade_orders_by_specificity_then_source_and_the_element_wins() -> None:
    document = inlined(
        ".links a.code { color: green } .links a { color: blue; font-weight: 600 } "
        ".note { color: red !important } .note { color: black }",
        '<p class="links"><a class="code" id="code" style="font-weight: 700">x</a>'
        '<a id="plain">y</a></p><p class="note" id="note">z</p>',
    )
    assert style(document, "code") == "color:green; font-weight:700"  # .a b.c beats .a b
    assert style(document, "plain") == "color:blue; font-weight:600"
    assert style(document, "note") == "color:red !important"  # !important beats later


def test_a_later_stylesheet_wins_at_equal_specificity() -> None:
    document = inlined(".x { color: red }", '<p class="x" id="x">a</p>', ".x { color: blue }")
    assert style(document, "x") == "color:blue"


def test_media_queries_pseudo_classes_and_stars_stay_in_the_block() -> None:
    css = (
        "@media (prefers-color-scheme: dark) { .x { color: white !important } } "
        ":root { color-scheme: light dark } a:hover { color: red } * { margin: 0 }"
    )
    document = inlined(css, '<p class="x" id="x"><a id="a">a</a></p>')
    assert style(document, "x") is None and style(document, "a") is None
    [block] = document.xpath("//style")
    assert block.text == css  # kept whole, for the clients that read it


def test_a_block_marked_to_be_ignored_is_not_read() -> None:
    document = lxml_html.fromstring(
        '<html><head><style data-premailer="ignore">.x { color: red }</style></head>'
        '<body><p class="x" id="x">a</p></body></html>'
    )
    inline(document)
    assert style(document, "x") is None
    [block] = document.xpath("//style")
    assert block.get("data-premailer") is None and block.text == ".x { color: red }"


def test_old_clients_get_html_attributes_for_colours_widths_and_alignment() -> None:
    document = inlined(
        ".cell { background-color: #abc; width: 600px; text-align: center } "
        ".clear { background-color: transparent }",
        '<table><tr><td class="cell" id="cell">a</td><td class="clear" id="clear">b</td>'
        "</tr></table>",
    )
    [cell] = document.xpath('//*[@id="cell"]')
    assert (cell.get("bgcolor"), cell.get("width"), cell.get("align")) == (
        "#aabbcc",
        "600",
        "center",
    )
    [clear] = document.xpath('//*[@id="clear"]')
    assert clear.get("bgcolor") is None


def test_a_selector_the_index_does_not_answer_goes_through_cssselect() -> None:
    document = inlined(
        'p[lang="en"] { font-style: italic } .a > b { color: red } div p + p { margin: 0 }',
        '<div><p lang="en" id="en">a</p><p id="next">b</p></div>'
        '<p class="a"><b id="child">c</b><i><b id="grandchild">d</b></i></p>',
    )
    assert style(document, "en") == "font-style:italic"
    assert style(document, "next") == "margin:0"
    assert style(document, "child") == "color:red" and style(document, "grandchild") is None


def test_a_semicolon_inside_quotes_in_an_elements_style_is_kept() -> None:
    document = inlined(
        ".x { color: red }",
        """<p class="x" id="x" style="font-family: 'A;B', serif; margin: 0">a</p>""",
    )
    assert style(document, "x") == "color:red; font-family:'A;B', serif; margin:0"
