"""The MJML checker: valid documents pass (and compile), each typo is found on its line."""

from __future__ import annotations

import dataclasses

import pytest
from mjml import mjml2html

from newsletter.compose.mjml_check import MjmlProblem, check_mjml, schema

STANDARD_COMPONENTS = [
    "mjml",
    "mj-head",
    "mj-body",
    "mj-attributes",
    "mj-all",
    "mj-class",
    "mj-breakpoint",
    "mj-font",
    "mj-html-attributes",
    "mj-html-attribute",
    "mj-selector",
    "mj-preview",
    "mj-style",
    "mj-title",
    "mj-raw",
    "mj-include",
    "mj-section",
    "mj-wrapper",
    "mj-group",
    "mj-column",
    "mj-text",
    "mj-button",
    "mj-image",
    "mj-divider",
    "mj-spacer",
    "mj-table",
    "mj-social",
    "mj-social-element",
    "mj-navbar",
    "mj-navbar-link",
    "mj-hero",
    "mj-accordion",
    "mj-accordion-element",
    "mj-accordion-title",
    "mj-accordion-text",
    "mj-carousel",
    "mj-carousel-image",
]

# Like a rendered issue: defaults, styles, raw <meta>, nested HTML with CJK text,
# entities, <br>, quotes of both kinds, `>` inside a value, attributes over lines.
NEWSLETTER = """\
<mjml lang="en" dir="ltr">
  <mj-head>
    <mj-title>AI Paper Digest #12 · AI 论文周报 第12期</mj-title>
    <mj-preview>Three papers this week &amp; more</mj-preview>
    <mj-raw>
      <meta name="color-scheme" content="light dark">
    </mj-raw>
    <mj-attributes>
      <mj-all font-family="-apple-system, 'Segoe UI', 'PingFang SC', sans-serif" />
      <mj-text font-size="16px" line-height="1.75" color="#1f2937" padding="0 24px" />
      <mj-section padding="0" />
      <mj-class name="muted" color="#6b7280" font-size="13px" />
    </mj-attributes>
    <mj-breakpoint width="480px" />
    <mj-style inline="inline">
      .summary { margin: 0 0 12px; }
      .summary > a { color: #1d4ed8; }
    </mj-style>
    <mj-style>
      @media (prefers-color-scheme: dark) { .card td { background: #111827 !important; } }
    </mj-style>
  </mj-head>
  <mj-body width="600px" background-color="#f2f4f7" css-class="page">
    <!-- header: <mj-colum> in a comment is not a tag -->
    <mj-section background-color="#0f172a" padding="32px 24px 28px">
      <mj-column>
        <mj-text mj-class="muted" align='right'>
          <h1 class="masthead" lang="en">AI Paper Digest</h1>
          <p class="masthead-zh" lang="zh-CN">AI 论文周报 &mdash; 第 12 期<br>2024-05-06</p>
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-wrapper padding="0" css-class="card">
      <mj-section background-color="#ffffff">
        <mj-column width="100%">
          <mj-text padding="28px 24px 0">
            <p class="summary" lang="zh-CN">我们提出了一种新方法 <a href="https://arxiv.org/abs/2405.01234?a=1&amp;b=2">arXiv</a>。</p>
            <p class="summary" lang="en">A <b>new</b> method: x &lt; y, and <i>more</i>.</p>
          </mj-text>
          <mj-divider
            border-width="1px"
            border-color="#e5e7eb"
            padding="24px 24px 0"
            css-class="divider"
          />
          <mj-image src="https://example.org/figure.png" alt="accuracy > 90%" width="300px" />
          <mj-button href="https://arxiv.org/abs/2405.01234" background-color="#1d4ed8"
                     rel="noopener" title="Read on arXiv">Read on arXiv &rarr;</mj-button>
          <mj-spacer height="16px" />
          <mj-table><tr><td>Accuracy</td><td>91%</td></tr></mj-table>
        </mj-column>
      </mj-section>
    </mj-wrapper>
    <mj-section>
      <mj-group>
        <mj-column><mj-text>Left</mj-text></mj-column>
        <mj-column><mj-raw><p>Right</p></mj-raw></mj-column>
      </mj-group>
    </mj-section>
  </mj-body>
</mjml>
"""

MINIMAL = "<mjml><mj-body></mj-body></mjml>"

OTHER_COMPONENTS = """\
<!-- a comment before the root -->
<mjml>
  <mj-body>
    <mj-raw><!-- raw in the body --></mj-raw>
    <mj-hero mode="fixed-height" height="200px" background-url="https://example.org/h.png"
             background-height="200px" background-width="600px">
      <mj-text>Hero</mj-text>
    </mj-hero>
    <mj-section>
      <mj-column>
        <mj-social mode="horizontal" icon-size="20px">
          <mj-social-element name="github" href="https://example.org">GitHub</mj-social-element>
        </mj-social>
        <mj-navbar base-url="https://example.org">
          <mj-navbar-link href="/issues">Issues</mj-navbar-link>
        </mj-navbar>
        <mj-accordion>
          <mj-accordion-element>
            <mj-accordion-title>Question</mj-accordion-title>
            <mj-accordion-text>Answer</mj-accordion-text>
          </mj-accordion-element>
        </mj-accordion>
        <mj-carousel>
          <mj-carousel-image src="https://example.org/1.png" alt="one" />
          <mj-carousel-image src="https://example.org/2.png" alt="two" />
        </mj-carousel>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""

VALID = {"newsletter": NEWSLETTER, "minimal": MINIMAL, "other components": OTHER_COMPONENTS}


@pytest.mark.parametrize("source", VALID.values(), ids=VALID.keys())
def test_a_valid_document_has_no_problems_and_compiles(source: str) -> None:
    assert check_mjml(source) == []
    html = mjml2html(source, fonts={})
    assert html.lstrip().lower().startswith("<!doctype html>")


def test_mjml2html_lets_typos_through() -> None:
    """Why the checker exists: these compile without a word."""
    typos = NEWSLETTER.replace('<mj-text mj-class="muted"', '<mj-text colr="red"')
    typos = typos.replace('<mj-spacer height="16px" />', '<mj-spacr height="16px" />')
    assert mjml2html(typos, fonts={})
    assert [problem.message for problem in check_mjml(typos)] == [
        "<mj-text> does not take the attribute colr",
        "unknown MJML tag <mj-spacr>",
    ]


BROKEN = {
    "unknown tag": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-colum>
        <mj-text>Hi</mj-text>
      </mj-colum>
    </mj-section>
  </mj-body>
</mjml>""",
        4,
        "unknown MJML tag <mj-colum>",
    ),
    "typo in a closing tag": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi</mj-text>
      </mj-colum>
    </mj-section>
  </mj-body>
</mjml>""",
        6,
        "</mj-colum> closes <mj-column> opened at line 4",
    ),
    "typo in an ending tag's closing tag": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi <b>there</b>
        </mj-txt>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        6,
        "</mj-txt> closes <mj-text> opened at line 5",
    ),
    "unknown attribute": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text colr="red">Hi</mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "<mj-text> does not take the attribute colr",
    ),
    "unknown attribute on a tag over several lines": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-button
          href="https://example.org"
          backgroud-color="#1d4ed8"
        >Go</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "<mj-button> does not take the attribute backgroud-color",
    ),
    "unknown attribute in a default": (
        """\
<mjml>
  <mj-head>
    <mj-attributes>
      <mj-all font-family="Arial" />
      <mj-text font-sise="16px" />
    </mj-attributes>
  </mj-head>
  <mj-body></mj-body>
</mjml>""",
        5,
        "<mj-text> does not take the attribute font-sise",
    ),
    "column directly in the body": (
        """\
<mjml>
  <mj-body>
    <mj-column>
      <mj-text>Hi</mj-text>
    </mj-column>
  </mj-body>
</mjml>""",
        3,
        "<mj-column> cannot be inside <mj-body>",
    ),
    "unclosed section": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi</mj-text>
      </mj-column>
  </mj-body>
</mjml>""",
        3,
        "<mj-section> is never closed",
    ),
    "unclosed text": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi <p>there</p>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "<mj-text> is never closed",
    ),
    "text at the root": (
        """\
<mjml>
  <mj-text>Hi</mj-text>
  <mj-body></mj-body>
</mjml>""",
        2,
        "<mj-text> cannot be inside <mjml>",
    ),
    "no mjml root": (
        """\

<mj-body>
  <mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>
</mj-body>""",
        2,
        "the document must start with <mjml>",
    ),
    "duplicate attribute": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-button href="https://example.org/a" color="#fff" href="https://example.org/b">
          Go
        </mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "<mj-button> has the attribute href twice",
    ),
    "unbalanced quote": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text color="red>Hi</mj-text>
        <mj-button href="https://example.org">Go</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "<mj-text> has an unbalanced quote",
    ),
    "closing tag too many": (
        """\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column></mj-column>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>""",
        5,
        "</mj-column> has no opening tag",
    ),
}


def card(body: str) -> str:
    """A document with `body` in its only column, from line 5 on."""
    return f"""\
<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
{body}
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


# What html.parser reads otherwise than a regex would: each document has one typo after
# the tricky part, which must be found, and on its own line.
TOKENISER = {
    "a > inside an attribute value": (
        card(
            '        <mj-image alt="accuracy > 90%" src="https://example.org/f.png"\n'
            '                  widht="300px" />'
        ),
        5,
        "<mj-image> does not take the attribute widht",
    ),
    "attributes without quotes": (
        card(
            "        <mj-spacer height=16px />\n"
            "        <mj-image src=https://example.org/f.png width=300px colr=red />"
        ),
        6,
        "<mj-image> does not take the attribute colr",
    ),
    "tags inside comments": (
        card(
            "        <!-- <mj-colum> </mj-section>\n"
            '             <mj-text colr="red"> -->\n'
            "        <mj-spacr />"
        ),
        7,
        "unknown MJML tag <mj-spacr>",
    ),
    "CDATA and CSS in mj-style": (
        """\
<mjml>
  <mj-head>
    <mj-style><![CDATA[
      .summary > a { color: #1d4ed8; } a[title="</p>"] { color: red; }
      /* <mj-colum> </mj-head> */
    ]]></mj-style>
  </mj-head>
  <mj-body>
    <mj-sektion></mj-sektion>
  </mj-body>
</mjml>""",
        9,
        "unknown MJML tag <mj-sektion>",
    ),
    "an entity or a < in text": (
        card(
            "        <mj-text>a &lt; b &amp;&#10; a < b\n</mj-text>\n"
            '        <mj-spacer heigth="16px" />'
        ),
        7,
        "<mj-spacer> does not take the attribute heigth",
    ),
    "capitals in an attribute name (MRML ignores COLOR=)": (
        card('        <mj-text COLOR="red">Hi</mj-text>'),
        5,
        "<mj-text> does not take the attribute COLOR",
    ),
    "capitals in a tag name (MRML takes it for HTML)": (
        card("        <mj-Text>Hi</mj-Text>"),
        5,
        "unknown MJML tag <mj-Text>",
    ),
    "capitals in a whole tag name": (
        card("        <MJ-TEXT>Hi</MJ-TEXT>"),
        5,
        "unknown MJML tag <MJ-TEXT>",
    ),
    "a comment that is never closed": (
        card("        <mj-text>Hi</mj-text>\n        <!-- <mj-text>Bye</mj-text>"),
        6,
        "<!-- is never closed",
    ),
    "a quote that is never closed": (
        card('        <mj-spacer css-class="a />'),
        5,
        "<mj-spacer> has an unbalanced quote or no closing >",
    ),
    "a <![ that opens nothing": (
        card("        <![ mso ]>"),
        5,
        "<![ opens no section that MJML knows",
    ),
    "something before <mjml>": (
        '\ufeff<!-- a comment is fine -->\n<?xml version="1.0"?>\n<mjml><mj-body></mj-body></mjml>',
        2,
        "the document must start with <mjml>",
    ),
}


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [*BROKEN.values(), *TOKENISER.values()],
    ids=[*BROKEN.keys(), *TOKENISER.keys()],
)
def test_a_broken_document_has_exactly_the_expected_problem(
    source: str, line: int, message: str
) -> None:
    problems = check_mjml(source)
    assert len(problems) == 1, problems
    assert problems[0].line == line
    assert message in problems[0].message


def test_an_ending_tag_left_open_is_found_where_it_opens() -> None:
    """Not balanced, without a word, by the </mj-text> of the paper that comes next."""
    source = card(
        "        <mj-text>First paper\n"
        "        <mj-divider />\n"
        "      </mj-column>\n"
        "      <mj-column>\n"
        "        <mj-text>Second paper</mj-text>"
    )
    problems = check_mjml(source)
    assert problems[0] == MjmlProblem(5, "<mj-text> is never closed")
    assert MjmlProblem(6, "<mj-divider> cannot be inside <mj-text>") in problems


def test_line_numbers_stay_right_after_an_ending_tag_that_is_read_again() -> None:
    source = card(
        '        <mj-text color="red>Hi</mj-text> <mj-spacer heigth="1px" />\n'
        "        <mj-button>Go</mj-button>\n"
        "        <mj-spacr />"
    )
    assert [str(problem) for problem in check_mjml(source)] == [
        "line 5: <mj-text> has an unbalanced quote or a < in an attribute",
        "line 5: <mj-spacer> does not take the attribute heigth",
        "line 7: unknown MJML tag <mj-spacr>",
    ]


def test_problems_come_in_document_order() -> None:
    source = NEWSLETTER.replace('<mj-spacer height="16px" />', '<mj-spacer heigth="16px" />')
    source = source.replace("<mj-section padding", "<mj-sektion padding", 1)
    problems = check_mjml(source)
    assert [problem.line for problem in problems] == sorted(problem.line for problem in problems)
    assert [problem.message for problem in problems] == [
        "unknown MJML tag <mj-sektion>",
        "<mj-spacer> does not take the attribute heigth",
    ]


def test_html_inside_an_ending_tag_is_not_read() -> None:
    source = NEWSLETTER.replace("<b>new</b>", '<b colr="x"><mj-colum>new</mj-colum></b>')
    assert check_mjml(source) == []


def test_the_tables_cover_every_standard_component() -> None:
    tables = schema()
    assert set(STANDARD_COMPONENTS) <= set(tables.attributes)
    assert set(STANDARD_COMPONENTS) <= set(tables.parents)
    assert tables.parents["mjml"] == frozenset()
    assert tables.parents["mj-column"] == {"mj-section", "mj-group"}
    assert "mj-body" not in tables.parents["mj-column"]
    assert {"lang", "dir", "owa"} <= tables.attributes["mjml"]
    assert "inline" in tables.attributes["mj-style"]
    assert {"path", "type", "css-inline"} <= tables.attributes["mj-include"]
    assert "position" in tables.attributes["mj-raw"]
    assert {"mj-text", "mj-button", "mj-style", "mj-raw"} <= tables.ending


def test_a_problem_is_a_frozen_value() -> None:
    problem = MjmlProblem(3, "unknown MJML tag <mj-colum>")
    assert str(problem) == "line 3: unknown MJML tag <mj-colum>"
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.line = 4  # type: ignore[misc]
