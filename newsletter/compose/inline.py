"""Inline the templates' CSS into `style` attributes, as email clients want it
(`inline_css`: MJML's HTML parsed, inlined, written back).

Gmail, Outlook and most webmail drop or ignore part of a `<style>` block, so every
rule that can be is copied onto the elements it selects; the blocks stay too, for
the media queries (phones, dark mode) that cannot be inlined. This does what
premailer did here (the same cascade: by `!important`, ids, classes, elements, then
stylesheet and rule order, the element's own `style` last; the same `align`,
`valign`, `bgcolor`, `width` and `height` attributes for old clients), at a
tenth of its cost: premailer took 14 ms of a 20-paper edition, nearly half of a
compose, matching each of its ~30 class selectors against every element. Here the
elements are indexed by class once per document, and the selectors the templates
use (`.a`, `.a b`, `.a b.c`, `.a > b`) are answered from the index; any other
selector goes through lxml's cssselect. Stylesheets are parsed once per process.

Left in the `<style>` blocks only, as premailer left them: media queries, and
selectors with a pseudo-class (`:root`, `a:hover`) or `*`. A block marked
`data-premailer="ignore"` (MJML's own, see render.py) is not read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from newsletter.core.errors import TemplateError

_SIMPLE = re.compile(
    r"^\.(?P<cls>[\w-]+)(?:\s*(?P<child>>)?\s+(?P<tag>[a-z][a-z0-9]*)(?:\.(?P<sub>[\w-]+))?)?$",
    re.IGNORECASE,
)
_ELEMENT = re.compile(r"(^|\s)\w")
_SPLIT = re.compile(r";(?=(?:[^'\"()]|'[^']*'|\"[^\"]*\"|\([^)]*\))*$)")
BASIC_ATTRIBUTES = {
    "text-align": "align",
    "vertical-align": "valign",
    "width": "width",
    "height": "height",
    "background-color": "bgcolor",
}


def inline_css(html: str, template: str = "issue.mjml.j2") -> str:
    """The HTML with its CSS inlined, as email clients want it.

    The HTML is parsed with `huge_tree`: libxml2 stops at a text node over
    10,000,000 bytes (a 10 MB paragraph), and its HTML parser "recovers" by dropping
    the rest of the document, footer and unsubscribe link included, without a word.
    """
    from lxml import etree  # type: ignore[import-untyped]

    parser = etree.HTMLParser(huge_tree=True)
    document = etree.fromstring(_skip_mjml_styles(html).strip(), parser)
    fatal = [error for error in parser.error_log if error.level == etree.ErrorLevels.FATAL]
    if document is None or fatal:
        reason = fatal[0].message if fatal else "empty document"
        raise TemplateError(f"{template}: the HTML cannot be parsed for inlining: {reason}")
    inline(document)
    inlined: bytes = etree.tostring(document, method="html", pretty_print=True, encoding="utf-8")
    return "<!doctype html>\n" + inlined.decode("utf-8")  # MRML's doctype, as MRML writes it


# The <style> blocks MJML writes itself (resets, Outlook fixes, the column widths of
# its media queries) stay as they are, as MJML means them to: inlining their resets
# onto every table cell would add kilobytes (`data-premailer="ignore"`, premailer's
# mark for a block to leave alone, which inline.py honours).
_MJML_STYLE = re.compile(
    r"<style(?P<attributes>[^>]*)>(?=\s*(?:#outlook a|\.mj-outlook-group-fix|\.moz-text-html"
    r"|@media only screen and \(min-width:))"
)


def _skip_mjml_styles(html: str) -> str:
    return _MJML_STYLE.sub(r'<style\g<attributes> data-premailer="ignore">', html)


@dataclass(frozen=True)
class Rule:
    """One selector of a style rule and its declarations, with its place in the cascade."""

    order: tuple[int, ...]  # (important, ids, classes, elements, sheet, rule)
    selector: str
    declarations: tuple[tuple[str, str], ...]


def inline(document: Any) -> None:
    """Copy the rules of `document`'s `<style>` blocks onto the elements they select
    (an lxml tree, changed in place)."""
    sheets = []
    for style in document.iter("style"):
        if style.get("data-premailer") == "ignore":
            del style.attrib["data-premailer"]  # read by nobody after this
        else:
            sheets.append(style.text or "")
    rules = sorted(
        (rule for index, sheet in enumerate(sheets) for rule in _rules(sheet, index)),
        key=lambda rule: rule.order,
    )
    index = _ClassIndex(document)
    styles: dict[Any, dict[str, str]] = {}
    for rule in rules:
        for element in index.select(rule.selector):
            styles.setdefault(element, {}).update(rule.declarations)
    for element, declared in styles.items():
        own = element.get("style")
        if own:
            declared.update(_declarations(own))  # the element's own style wins
        element.set("style", "; ".join(f"{name}:{value}" for name, value in declared.items()))
        for name, attribute in BASIC_ATTRIBUTES.items():
            value = declared.get(name)
            if value is not None:
                _basic_attribute(element, attribute, value)


class _ClassIndex:
    """The document's elements by class, in document order, built in one pass."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.by_class: dict[str, list[Any]] = {}
        for element in document.iter():
            classes = element.get("class") if isinstance(element.tag, str) else None
            for name in (classes or "").split():
                self.by_class.setdefault(name, []).append(element)

    def select(self, selector: str) -> Iterable[Any]:
        simple = _SIMPLE.match(selector)
        if not simple:
            found: list[Any] = _css_selector(selector)(self.document)
            return found
        roots = self.by_class.get(simple["cls"], [])
        tag = simple["tag"]
        if not tag:
            return roots
        sub = simple["sub"]
        ordered: dict[Any, None] = {}  # in document order, each element once (roots may nest)
        for root in roots:
            candidates = root.iterchildren(tag) if simple["child"] else root.iterdescendants(tag)
            for element in candidates:
                if not sub or sub in (element.get("class") or "").split():
                    ordered[element] = None
        return ordered


@functools.lru_cache(maxsize=64)
def _rules(sheet: str, index: int) -> tuple[Rule, ...]:
    """The inlinable rules of one stylesheet (parsed with cssutils, once a process)."""
    import logging

    import cssutils  # type: ignore[import-untyped]

    cssutils.log.setLevel(logging.CRITICAL)
    parsed = cssutils.CSSParser(validate=False).parseString(sheet)
    rules: list[Rule] = []
    for rule in parsed:
        if rule.type != rule.STYLE_RULE:
            continue  # @media and the like stay in the block only
        properties = list(rule.style.getProperties())
        for important in (1, 0):
            declarations = tuple(
                (p.name, f"{p.value} !important" if important else p.value)
                for p in properties
                if (p.priority == "important") == bool(important)
            )
            if not declarations:
                continue
            for selector in (s.strip() for s in rule.selectorText.split(",")):
                if not selector or ":" in selector or "*" in selector or "@" in selector:
                    continue
                order = (
                    important,
                    selector.count("#"),
                    selector.count("."),
                    len(_ELEMENT.findall(selector)),
                    index,
                    len(rules),
                )
                rules.append(Rule(order, selector, declarations))
    return tuple(rules)


@functools.lru_cache(maxsize=256)
def _css_selector(selector: str) -> Any:
    from lxml.cssselect import CSSSelector  # type: ignore[import-untyped]

    return CSSSelector(selector)


def _declarations(style: str) -> list[tuple[str, str]]:
    """`a:b; c:d` as pairs (a `;` inside quotes or parentheses does not split)."""
    pairs = []
    for part in _SPLIT.split(style):
        name, colon, value = part.partition(":")
        if colon and name.strip() and value.strip():
            pairs.append((name.strip().lower(), value.strip()))
    return pairs


def _basic_attribute(element: Any, attribute: str, value: str) -> None:
    """The HTML attribute old clients (Outlook, Lotus Notes) read instead of CSS."""
    value = value.replace("!important", "").strip()
    if attribute == "bgcolor":
        if "transparent" in value.lower():
            return
        value = re.sub(r"^#([0-9a-f])([0-9a-f])([0-9a-f])$", r"#\1\1\2\2\3\3", value, flags=re.I)
    elif attribute in ("width", "height"):
        value = value.removesuffix("px")
    element.set(attribute, value)
