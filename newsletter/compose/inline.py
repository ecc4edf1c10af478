"""Inline the templates' CSS into `style` attributes with premailer, as email clients
want it (`inline_css`: MJML's HTML in, the inlined HTML out).

Gmail, Outlook and most webmail drop or ignore part of a `<style>` block, so premailer
copies every rule it can onto the elements it selects; the blocks stay whole too, for
what cannot be inlined (media queries for phones and dark mode, `:root`). Here are
premailer's options for email, and what this module adds to them: MJML's own `<style>`
blocks are left alone; a stylesheet that would lose rules (a syntax error) or fetch
something (`@import`) is a TemplateError; an element's own declaration no longer beats
a stylesheet's `!important` (premailer lets it, CSS does not); no `bgcolor` on a `<span>`,
nor any presentational attribute where HTML never had it (`width` on a `<b>`).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from newsletter.core.errors import TemplateError

OPTIONS: dict[str, Any] = {
    "allow_network": False,  # a <link>ed stylesheet is never fetched (nor a local file read)
    "strip_important": False,  # MJML's phone layout and the dark mode need their !important
    "keep_style_tags": True,  # every block stays as written, for the rules left in it
    "cache_css_parsing": True,  # premailer's default: each stylesheet parsed once a process
    "disable_validation": True,  # cssutils' validation only logs, at a cost (mso-* and co.)
    "cssutils_logging_level": logging.CRITICAL,  # nothing from cssutils on stderr
    # MJML writes `bgcolor` itself where Outlook reads it (tables); the stylesheet's
    # backgrounds are on inline elements, where `bgcolor` is an HTML error.
    "disable_basic_attributes": ["bgcolor"],
    "align_floating_images": False,  # MJML lays images out in tables, never floats them
}

# The attributes premailer writes from `text-align`, `vertical-align`, `width` and
# `height`, for the old clients that read them, kept on the elements HTML 4 had them for:
# on a <span> or a <b> they are validator errors, and no client reads them there.
_PRESENTATIONAL = {
    "align": {"table", "tr", "td", "th", "thead", "tbody", "tfoot", "col", "colgroup", "caption"}
    | {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "img", "hr"},
    "valign": {"tr", "td", "th", "thead", "tbody", "tfoot", "col", "colgroup"},
    "width": {"table", "td", "th", "col", "colgroup", "img", "hr", "pre", "iframe", "object"},
    "height": {"td", "th", "img", "iframe", "object"},
}

# MJML's own blocks (resets, Outlook fixes, its column media queries) stay as MJML means
# them: inlined, their resets would add kilobytes to every table cell.
_MJML_STYLE = re.compile(
    r"<style(?P<attributes>[^>]*)>(?=\s*(?:#outlook a|\.mj-outlook-group-fix|\.moz-text-html"
    r"|@media only screen and \(min-width:))"
)


def inline_css(html: str, template: str = "issue.mjml.j2") -> str:
    """The HTML with its stylesheets' rules written onto its elements, the blocks kept."""
    from lxml import etree  # type: ignore[import-untyped]
    from premailer import Premailer  # type: ignore[import-untyped]

    document = _parse(html, template)
    inliner = Premailer(document, **OPTIONS)  # (its options quiet cssutils from here on)
    for style in document.iter("style"):
        if style.get("data-premailer") != "ignore" and (problem := _css_problem(style.text or "")):
            raise TemplateError(f"{template}: a stylesheet (<mj-style>) {problem}")
    # premailer lets an element's own declarations beat everything: it runs without
    # them, and they are put back as CSS says.
    own = {element: element.get("style") for element in document.iter() if element.get("style")}
    for element in own:
        element.set("style", "")  # emptied, not removed: the attribute keeps its place
    inliner.transform()  # given a parsed document, premailer changes it in place
    for element, style in own.items():
        _put_back(inliner, element, style)
    _drop_misplaced_attributes(document)
    for style in document.iter("style"):
        style.attrib.pop("data-premailer", None)  # premailer skips a media="…" block unread
    inlined: bytes = etree.tostring(document, method="html", pretty_print=True, encoding="utf-8")
    return "<!doctype html>\n" + inlined.decode("utf-8")  # MRML's doctype, as MRML writes it


def _parse(html: str, template: str) -> Any:
    """The document, MJML's blocks marked for premailer to skip.

    Parsed here rather than by premailer, with `huge_tree`: libxml2 stops at a text node
    over 10,000,000 bytes (a 10 MB paragraph), and its HTML parser "recovers" by
    dropping the rest of the document, footer and unsubscribe link included.
    """
    from lxml import etree

    marked = _MJML_STYLE.sub(r'<style\g<attributes> data-premailer="ignore">', html)
    parser = etree.HTMLParser(huge_tree=True)
    document = etree.fromstring(marked.strip(), parser)
    fatal = [error for error in parser.error_log if error.level == etree.ErrorLevels.FATAL]
    if document is None or fatal:
        reason = fatal[0].message if fatal else "empty document"
        raise TemplateError(f"{template}: the HTML cannot be parsed for inlining: {reason}")
    return document


def _drop_misplaced_attributes(document: Any) -> None:
    """No `width`, `align` and the like on an element HTML does not give them to."""
    for name, elements in _PRESENTATIONAL.items():
        for element in document.xpath(f"//*[@{name}]"):
            if element.tag not in elements:
                del element.attrib[name]


def _put_back(inliner: Any, element: Any, own: str) -> None:
    """An element's own declarations over the stylesheets' (premailer ran without them),
    except where a stylesheet says `!important` and the element does not."""
    from premailer.merge_style import csstext_to_pairs  # type: ignore[import-untyped]

    inlined = element.get("style")
    if not inlined:  # no rule selected it
        element.set("style", own)
        return
    merged = dict(csstext_to_pairs(inlined))
    for name, value in csstext_to_pairs(own):
        if value.endswith("!important") or not merged.get(name, "").endswith("!important"):
            merged[name] = value
    style = "; ".join(f"{name}:{value}" for name, value in merged.items())
    element.set("style", style)
    inliner._style_to_basic_html_attributes(element, style, force=True)


@functools.lru_cache(maxsize=32)
def _css_problem(css: str) -> str | None:
    """What stops a stylesheet from being inlined as written: cssutils' first syntax
    error (it would drop the rule without a word), or an `@import`, which cssutils
    would fetch whatever premailer's `allow_network` says."""
    import xml.dom

    import cssutils  # type: ignore[import-untyped]

    imported: list[str] = []

    def refuse(url: str) -> None:  # None: cssutils reads nothing
        imported.append(url)

    parser = cssutils.CSSParser(raiseExceptions=True, validate=False, fetcher=refuse)
    try:
        parser.parseString(css)
    except xml.dom.DOMException as error:
        return f"does not parse: {error}"
    if imported:
        return f"imports {imported[0]}, and compose fetches nothing: copy its rules in"
    return None
