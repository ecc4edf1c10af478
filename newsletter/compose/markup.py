"""Summaries are markdown: make their links into HTML links, and everything else text.

Digests come from many hands, so nothing in a summary is trusted: only `[text](url)`
links and bare URLs become links, and only for http and https; every other character
is escaped. The plain-text edition gets the same links written out. LaTeX in the
text (`$\\alpha$`, `\\textbf{…}`) is converted (`latex`), never inside a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markupsafe import Markup

from newsletter.compose import latex

# CJK text and punctuation, and the quotes, dashes and ellipsis Chinese text uses.
# Chinese has no spaces, so a digest writes "见 https://a.example获取。": a bare URL
# ends where any of these begins (an IRI with Chinese in it must be a `[text](url)`).
_CJK = (
    "\u2014-\u201f\u2026\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe10-\ufe6f\uff00-\uffef"
    "\U00020000-\U0003ffff"
)
URL_CHARS = rf"[^\s<>\"'{_CJK}]"
_BARE_URL = re.compile(rf"https?://{URL_CHARS}+", re.IGNORECASE)
_IS_CJK = re.compile(f"[{_CJK}]")
_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\]\((?P<url>[^)\s]+)\)")
_TRAILING = ".,;:!?'\")]"
_SAFE_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def _pieces(text: str) -> Iterator[tuple[str, str | None]]:
    """Split text into (text, url) pieces: url is None for plain text."""
    position = 0
    for match in _LINK.finditer(text):
        yield from _bare_urls(text[position : match.start()])
        url = match.group("url")
        if _SAFE_SCHEME.match(url):
            yield match.group("text"), url
        else:  # javascript:, data:, relative…: shown as written, never a link
            yield match.group(0), None
        position = match.end()
    yield from _bare_urls(text[position:])


def _bare_urls(text: str) -> Iterator[tuple[str, str | None]]:
    position = 0
    for match in _BARE_URL.finditer(text):
        url = match.group(0)
        while url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
            url = url[:-1]  # sentence punctuation, but a balanced ")" belongs to the URL
        yield text[position : match.start()], None
        yield url, url
        position = match.start() + len(url)
    yield text[position:], None


def to_html(text: str) -> Markup:
    """One paragraph of summary markdown as safe HTML: links, line breaks, text.

    A link whose text is a URL gets `class="url"`: the stylesheet lets only those
    break anywhere (a long URL must not widen a phone's column; "GitHub 链接" must
    not become "G|itHub").
    """
    parts = []
    for piece, url in _pieces(text):
        if url is None:
            parts.append(latex.to_html(piece))
        elif _SAFE_SCHEME.match(piece):
            parts.append(Markup('<a href="{}" class="url">{}</a>').format(url, piece))
        else:
            parts.append(Markup('<a href="{}">{}</a>').format(url, latex.to_html(piece)))
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))


def to_text(text: str) -> str:
    """One paragraph of summary markdown as plain text: `text (url)` for links.

    A URL written out keeps a space between it and Chinese text on either side, or
    a mail client's linkifier would take the Chinese into the link.
    """
    pieces = list(_pieces(text))
    out = []
    for index, (piece, url) in enumerate(pieces):
        if url is None:
            out.append(latex.to_text(piece))
        elif piece != url:
            out.append(f"{latex.to_text(piece)} ({url})")
        else:
            before = pieces[index - 1][0][-1:] if index else ""
            after = pieces[index + 1][0][:1] if index + 1 < len(pieces) else ""
            out.append(_space_if_cjk(before) + url + _space_if_cjk(after))
    return "".join(out)


def _space_if_cjk(neighbour: str) -> str:
    return " " if _IS_CJK.match(neighbour) else ""


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where a summary's links are (`[text](url)` and bare URLs), as (start, end):
    places a shortened summary must not be cut inside."""
    spans = [match.span() for match in _LINK.finditer(text)]
    spans += [
        match.span()
        for match in _BARE_URL.finditer(text)
        if not any(start <= match.start() < end for start, end in spans)
    ]
    return spans


def is_cjk(character: str) -> bool:
    """A Chinese (Japanese, Korean) character or one of their punctuation marks."""
    return bool(_IS_CJK.match(character))


def links(text: str) -> list[str]:
    """The http(s) URLs a summary links to, in order (as `to_html` makes them)."""
    return [url for _, url in _pieces(text) if url is not None]


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|(?<=[。！？])\n")


def paragraphs(summary: str) -> list[str]:
    """The paragraphs of a stored summary: split at blank lines, and at a line break
    after a Chinese full stop, ! or ? (Chinese is never wrapped by hand: a line that
    ends a sentence there is a paragraph; an English line break stays a `<br>`)."""
    return [part for part in _PARAGRAPH_BREAK.split(summary) if part.strip()]
