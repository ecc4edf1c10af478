"""CSS inlining (`compose/inline.py`, premailer configured for email): what a mail
client that drops `<style>` blocks sees, and what the blocks keep for the others."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import html as lxml_html  # type: ignore[import-untyped]

from newsletter.compose.inline import inline_css
from newsletter.core.errors import TemplateError
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER


def page(css: str, body: str, *more_css: str) -> str:
    styles = "".join(f'<style type="text/css">{sheet}</style>' for sheet in (css, *more_css))
    return f"<!doctype html><html><head>{styles}</head><body>{body}</body></html>"


def inlined(css: str, body: str, *more_css: str) -> Any:
    return lxml_html.fromstring(inline_css(page(css, body, *more_css)))


def element(document: Any, element_id: str) -> Any:
    [found] = document.xpath(f'//*[@id="{element_id}"]')
    return found


def style(document: Any, element_id: str) -> dict[str, str]:
    """An element's inline declarations, property → value."""
    declarations = (
        part.partition(":")
        for part in re.split(r";\s*", element(document, element_id).get("style") or "")
    )
    return {name.strip(): value.strip() for name, _, value in declarations if name.strip()}


def test_class_and_descendant_rules_are_written_onto_the_elements() -> None:
    document = inlined(
        ".summary { margin: 0 0 12px; color: #374151 } .summary a { color: #1d4ed8 }",
        '<p class="summary" id="p">Text <a id="a" href="#">link</a></p><a id="out">x</a>',
    )
    assert style(document, "p") == {"margin": "0 0 12px", "color": "#374151"}
    assert style(document, "a") == {"color": "#1d4ed8"}
    assert style(document, "out") == {}


def test_the_cascade_orders_by_specificity_then_source() -> None:
    document = inlined(
        ".links a.code { color: green } .links a { color: blue; font-weight: 600 }",
        '<p class="links"><a class="code" id="code">x</a><a id="plain">y</a></p>'
        '<p class="x" id="x">z</p>',
        ".x { color: red } .x { color: black }",
        ".x { color: blue }",  # a later stylesheet wins at equal specificity
    )
    assert style(document, "code") == {"color": "green", "font-weight": "600"}
    assert style(document, "plain") == {"color": "blue", "font-weight": "600"}
    assert style(document, "x") == {"color": "blue"}


def test_important_in_a_stylesheet_beats_an_elements_own_declaration() -> None:
    """As CSS says: the element's own style wins over the stylesheets, except over their
    `!important`, which only the element's own `!important` beats."""
    document = inlined(
        ".note { color: red !important; font-size: 12px; text-align: center }",
        '<p class="note" id="plain" style="color: blue; font-size: 20px; text-align: left">a</p>'
        '<p class="note" id="own" style="color: green !important">b</p>',
    )
    assert style(document, "plain") == {
        "font-size": "20px",
        "text-align": "left",
        "color": "red !important",
    }
    assert element(document, "plain").get("align") == "left"  # Outlook's copy agrees
    assert style(document, "own")["color"] == "green !important"


def test_media_queries_and_pseudo_classes_stay_in_their_block_with_important() -> None:
    """What cannot be inlined (the phone layout, dark mode, hover) keeps its block and
    its `!important`, which it needs to win over the inlined styles."""
    css = (
        "@media (prefers-color-scheme: dark) { .x { color: white !important } } "
        ":root { color-scheme: light dark } a:hover { color: red } * { margin: 0 }"
    )
    html = inline_css(page(css, '<p class="x" id="x"><a id="a" href="#">a</a></p>'))
    document = lxml_html.fromstring(html)
    assert style(document, "x") == {} and style(document, "a") == {}
    assert [block.text for block in document.xpath("//style")] == [css]


def test_mjml_own_blocks_are_left_as_mjml_wrote_them() -> None:
    resets = "#outlook a { padding: 0; } p { display: block; margin: 13px 0; }"
    columns = ".moz-text-html .mj-column-per-100 { width:100% !important; }"
    html = (
        f'<!doctype html><html><head><style type="text/css">{resets}</style>'
        f'<style media="screen and (min-width:480px)">{columns}</style></head>'
        '<body><p id="p">a</p><div class="mj-column-per-100" id="column">b</div></body></html>'
    )
    result = inline_css(html)
    document = lxml_html.fromstring(result)
    assert style(document, "p") == {} and style(document, "column") == {}
    assert [block.text for block in document.xpath("//style")] == [resets, columns]
    assert "data-premailer" not in result


def test_old_clients_get_alignment_and_width_attributes_but_no_bgcolor_on_a_span() -> None:
    document = inlined(
        ".cell { width: 600px; text-align: center; vertical-align: top }"
        ".category { background-color: #eff6ff; color: #1e40af }",
        '<table><tr><td class="cell" id="cell">a <span class="category" id="tag">cs.CL</span>'
        "</td></tr></table>",
    )
    cell = element(document, "cell")
    assert (cell.get("width"), cell.get("align"), cell.get("valign")) == ("600", "center", "top")
    tag = element(document, "tag")
    assert style(document, "tag") == {"background-color": "#eff6ff", "color": "#1e40af"}
    assert tag.get("bgcolor") is None  # not an attribute of <span>: an HTML error


def test_no_width_or_alignment_attribute_on_an_inline_element() -> None:
    """A `width` on a <b> (an inline-block number) or an `align` on a <span> is an HTML
    error: the style says it, the attribute is left out."""
    document = inlined(
        ".number { display: inline-block; width: 30px; text-align: right; vertical-align: top }",
        '<p><b class="number" id="number">01</b> <span class="number" id="span">a</span>'
        '<img class="number" id="image" src="x.png" alt=""></p>',
    )
    for inline_element in ("number", "span"):
        tag = element(document, inline_element)
        assert style(document, inline_element)["width"] == "30px"
        assert {"width", "align", "valign"} & set(tag.attrib) == set(), inline_element
    assert element(document, "image").get("width") == "30"  # where old clients read it


def test_the_unsubscribe_placeholder_and_the_doctype_survive() -> None:
    html = inline_css(
        page(
            ".footer a { color: #4b5563 }",
            f'<p class="footer"><a href="{UNSUBSCRIBE_PLACEHOLDER}">Unsubscribe</a></p>',
        )
    )
    assert html.startswith("<!doctype html>\n<html>")
    assert f'href="{UNSUBSCRIBE_PLACEHOLDER}" style="color:#4b5563"' in html


@pytest.fixture
def stylesheet_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 serving a stylesheet, and the paths asked of it."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b".x { color: red }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_linked_stylesheet_is_never_fetched(stylesheet_server: tuple[str, list[str]]) -> None:
    url, asked = stylesheet_server
    html = page(".y { margin: 0 }", '<p class="x" id="x">a</p>').replace(
        "<head>", f'<head><link rel="stylesheet" href="{url}/linked.css">'
    )
    document = lxml_html.fromstring(inline_css(html))
    assert style(document, "x") == {}
    assert asked == []


def test_an_imported_stylesheet_is_one_clear_error_and_never_fetched(
    stylesheet_server: tuple[str, list[str]],
) -> None:
    url, asked = stylesheet_server
    with pytest.raises(TemplateError) as caught:
        inline_css(page(f'@import url("{url}/imported.css"); .y {{ margin: 0 }}', "<p>a</p>"))
    assert str(caught.value) == (
        f"issue.mjml.j2: a stylesheet (<mj-style>) imports {url}/imported.css, "
        "and compose fetches nothing: copy its rules in"
    )
    assert asked == []


@pytest.mark.parametrize(
    "css",
    [
        ".summary { color: #374151 .links a { color: #1d4ed8 }",  # a } forgotten
        ".summary { color: #374151; } } .links a { color: #1d4ed8 }",  # one } too many
        ".summary a[ { color: #1d4ed8 }",
    ],
)
def test_a_broken_stylesheet_is_one_template_error(css: str) -> None:
    """cssutils would drop the broken rule, and those after it, without a word."""
    with pytest.raises(TemplateError) as caught:
        inline_css(page(css, '<p class="summary">a</p>'), "head.mjml.j2")
    message = str(caught.value)
    assert message.startswith("head.mjml.j2: a stylesheet (<mj-style>) does not parse: ")
    assert "\n" not in message


def test_html_that_does_not_parse_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="the HTML cannot be parsed for inlining"):
        inline_css("   ")
