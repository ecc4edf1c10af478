"""Summaries are markdown: make their links into HTML links, and everything else text.

Digests come from many hands, so nothing in a summary is trusted: only `[text](url)`
links and bare URLs become links, and only for http and https; every other character
is escaped. The plain-text edition gets the same links written out.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator

from markupsafe import Markup, escape

# A bare URL ends at white space, at anything that cannot be in a URL, and at
# full-width CJK punctuation (Chinese text puts "。" right after a link).
_URL_CHARS = r"[^\s<>\"'\u3000-\u303f\uff00-\uffef（）【】《》「」『』]"
_BARE_URL = re.compile(rf"https?://{_URL_CHARS}+", re.IGNORECASE)
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
    """One paragraph of summary markdown as safe HTML: links, line breaks, text."""
    parts = []
    for piece, url in _pieces(text):
        if url is None:
            parts.append(escape(piece))
        else:
            parts.append(Markup('<a href="{}">{}</a>').format(url, piece))
    return Markup("").join(parts).replace("\n", Markup("<br>\n"))


def to_text(text: str) -> str:
    """One paragraph of summary markdown as plain text: `text (url)` for links."""
    out = []
    for piece, url in _pieces(text):
        out.append(piece if url is None or piece == url else f"{piece} ({url})")
    return "".join(out)


def paragraphs(summary: str) -> list[str]:
    """The paragraphs of a stored summary (they are joined by blank lines)."""
    return [part for part in summary.split("\n\n") if part.strip()]


# East Asian Wide and Fullwidth characters (EastAsianWidth W and F) take two columns.
# The big blocks are matched at C speed; the symbol blocks, where wide and narrow
# characters mix (emoji, dingbats), are looked up one by one.
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6b\uff01-\uff60"
    "\uffe0-\uffe6\U00016fe0-\U0001b2ff\U00020000-\U0003fffd]"
)
_MIXED = re.compile("[\u231a-\u2b55\U0001f000-\U0001faff]")


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or a monospace mail client (CJK: 2 each)."""
    symbols = _MIXED.findall(text)
    wide_symbols = sum(unicodedata.east_asian_width(char) in "WF" for char in symbols)
    return len(text) + len(_WIDE.findall(text)) + wide_symbols


# Closing punctuation may not start a line, opening punctuation may not end one.
_NO_LINE_START = set("，。、；：？！）》」』】〉,.;:?!)]}%")
_NO_LINE_END = set("（《「『【〈([{")
_WRAP_TOKEN = re.compile(r"https?://\S+|[A-Za-z0-9\u00c0-\u024f'’\-_/.@#&+=%]+\s*|\s+|.", re.DOTALL)


def wrap(text: str, width: int = 72, indent: str = "", subsequent: str | None = None) -> str:
    """Wrap text to `width` columns, counting CJK as two, never breaking a URL or word.

    `textwrap` only breaks at spaces, and Chinese has none: here a Chinese character
    is a place to break, except before closing punctuation (which takes the last
    character of the line down with it). `indent` starts the first line,
    `subsequent` (default: `indent`) the others; a URL longer than the line stays whole.
    """
    subsequent = indent if subsequent is None else subsequent
    lines: list[str] = []
    for source_line in text.split("\n"):
        prefix = indent if not lines else subsequent
        room = width - max(display_width(prefix), display_width(subsequent))
        lines.extend(_wrap_line(source_line, max(room, 10)))
    return "\n".join(
        (indent if number == 0 else subsequent) + line if line else ""
        for number, line in enumerate(lines)
    )


def _wrap_line(text: str, width: int) -> list[str]:
    lines: list[list[str]] = [[]]
    used = 0
    for token in _WRAP_TOKEN.findall(text):
        line = lines[-1]
        ink, spaces = _token_width(token)
        if used + ink <= width or not "".join(line).strip():
            line.append(token)
            used += ink + spaces
            continue
        if token.isspace():
            lines.append([])
            used = 0
            continue
        carried: list[str] = []
        if token[0] in _NO_LINE_START and len(line) > 1:
            carried = [line.pop()]  # no line may start with closing punctuation
        while len(line) > 1 and line[-1].strip() in _NO_LINE_END:
            carried.insert(0, line.pop())  # nor end with opening punctuation
        lines.append([*carried, token])
        used = sum(sum(_token_width(part)) for part in lines[-1])
    return ["".join(line).rstrip() for line in lines]


@functools.lru_cache(maxsize=8192)
def _token_width(token: str) -> tuple[int, int]:
    """(columns of the token's text, columns of the spaces after it): most tokens are
    single Chinese characters, so the cache answers nearly every call."""
    text = token.rstrip()
    return display_width(text), len(token) - len(text)
