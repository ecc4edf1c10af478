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

# CJK text and punctuation, and the quotes, dashes and ellipsis Chinese text uses.
# Chinese has no spaces, so a digest writes "见 https://a.example获取。": a bare URL
# ends where any of these begins (an IRI with Chinese in it must be a `[text](url)`).
_CJK = (
    "\u2014-\u201f\u2026\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe10-\ufe6f\uff00-\uffef"
    "\U00020000-\U0003ffff"
)
_URL_CHARS = rf"[^\s<>\"'{_CJK}]"
_BARE_URL = re.compile(rf"https?://{_URL_CHARS}+", re.IGNORECASE)
_IS_CJK = re.compile(f"[{_CJK}]")
_LINK = re.compile(r"\[(?P<text>[^\]\n]+)\]\((?P<url>[^)\s]+)\)")
_TRAILING = ".,;:!?'\")]"
_SAFE_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


# What an email must not carry: the C0 controls but tab and line ends (XML 1.0, and
# so MJML, refuses them), DEL and the C1 controls (invisible, and in UTF-8 text the
# mark of mojibake), and the Unicode noncharacters (U+FFFE, U+FFFF, U+FDD0-U+FDEF and
# the last two code points of every plane). Lone surrogates cannot occur in text
# decoded from UTF-8, and none of these is ever meant in a digest.
INVALID_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]"
)


# A class with astral code points puts the regex engine on a slow path (180 ms
# over a 6 MB digest, against 20 ms for the plane-0 part alone): look for the
# plane-0 characters, and for the astral ones only in a text that has any.
_INVALID_BMP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def has_invalid(text: str) -> bool:
    """Whether `text` holds a character of INVALID_CHARS (fast on long texts)."""
    if _INVALID_BMP.search(text):
        return True
    return bool(_ASTRAL.search(text)) and bool(INVALID_CHARS.search(text))


def drop_invalid(text: str) -> str:
    """`text` without the characters an email must not carry (INVALID_CHARS)."""
    return INVALID_CHARS.sub("", text) if has_invalid(text) else text


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
            parts.append(escape(piece))
        elif _SAFE_SCHEME.match(piece):
            parts.append(Markup('<a href="{}" class="url">{}</a>').format(url, piece))
        else:
            parts.append(Markup('<a href="{}">{}</a>').format(url, piece))
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
            out.append(piece)
        elif piece != url:
            out.append(f"{piece} ({url})")
        else:
            before = pieces[index - 1][0][-1:] if index else ""
            after = pieces[index + 1][0][:1] if index + 1 < len(pieces) else ""
            out.append(_space_if_cjk(before) + url + _space_if_cjk(after))
    return "".join(out)


def _space_if_cjk(neighbour: str) -> str:
    return " " if _IS_CJK.match(neighbour) else ""


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
_WORD = r"[A-Za-z0-9\u00c0-\u024f'’\-_/.@#&+=%]+\s*"
_WRAP_TOKEN = re.compile(rf"https?://{_URL_CHARS}+|{_WORD}|\s+|.", re.DOTALL)


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
