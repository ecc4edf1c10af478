"""Break an HTML body's long lines where a line break cannot show, for 8-bit transport.

An 8-bit body keeps every line within 998 octets (RFC 5322 section 2.1.1), but
The inlined HTML has a paragraph on one line, and a Chinese summary makes lines of 1 to
2 KB. A line break is invisible in HTML only where the parser drops white space, or
where it stands for a space that is there anyway; so a long line is cut only at the
last of these places that keeps it within the limit:

1. a space between a tag's attributes, `<p class="x"⏎style="…">`; never inside a
   quoted value, so an `href` keeps every byte;
2. a space in text with an ASCII letter, digit or sign on one side (`Stable⏎Diffusion`,
   `DALLE-3⏎和`): the line break shows as the space it replaces. Not a space between
   two Chinese characters: there Firefox drops a line break (CSS Text 3, segment
   breaks) while Chrome and Outlook show a space. Never in a comment, `<pre>`,
   `<textarea>`, `<script>`, `<style>`, `<title>`, or in an element whose style keeps
   white space (`white-space: pre…` or `break-spaces`);
3. only for a run of Chinese with neither, inside a `<wbr>` put between two Han
   ideographs (`模<wbr⏎>型`): a line may already break between two ideographs, so the
   element changes neither the text nor where lines can break. Not where a style says
   `nowrap` or `keep-all`, nor in `<nobr>` (there it would add a break).

A line with no such place makes `wrap` give up (None): that part goes in base64.
Styles are read from `style` attributes, where compose inlines every rule it can
inline; a style sheet left in `<style>` that keeps white space turns 2 and 3 off for
the whole document, and one that says `keep-all` turns 3 off.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

CRLF = b"\r\n"
WBR = b"<wbr\r\n>"  # the line ends with "<wbr", the next starts with ">"

_TOKEN = re.compile(
    rb"<!--.*?-->"  # a comment (Outlook's conditional ones too): left whole
    rb"|<(script|style|textarea|title|xmp)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>.*?</\1\s*>"
    rb"|<([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"  # a start tag
    rb"|</([A-Za-z][A-Za-z0-9:-]*)\s*>"  # an end tag
    rb"|<[!?][^>]*>"  # a doctype, a processing instruction
    rb"|[^<]+|<",  # text
    re.S | re.I,
)
_SHEET = re.compile(rb"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I)
_STYLE_ATTR = re.compile(rb"""(?:^|\s)style\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_ATTR_SPACE = re.compile(rb""""[^"]*"|'[^']*'|( )""")
_KEEPS_SPACE = re.compile(rb"white-space(?:-collapse)?\s*:\s*(?:pre|break-spaces)", re.I)
_NO_BREAK = re.compile(
    rb"white-space\s*:\s*nowrap|text-wrap(?:-mode)?\s*:\s*nowrap|word-break\s*:\s*keep-all", re.I
)
_ZWSP = b"\xe2\x80\x8b"  # next to a zero-width space a line break is dropped, not a space
_TEXT_SPACE = re.compile(  # the space first, so that the search skips ahead to each one
    rb" (?:(?<=[!-~] )(?=[^\s])(?!" + _ZWSP + rb")|(?<=[^\s] )(?<!" + _ZWSP + rb" )(?=[!-~]))"
)
_HAN = rb"(?:\xe4[\xb8-\xbf]|[\xe5-\xe9][\x80-\xbf])[\x80-\xbf]"  # U+4E00..U+9FFF in UTF-8
_HAN_PAIR = re.compile(_HAN + rb"(?=" + _HAN + rb")")  # its end: between two ideographs
_VOID = {
    b"area",
    b"base",
    b"br",
    b"col",
    b"embed",
    b"hr",
    b"img",
    b"input",
    b"link",
    b"meta",
    b"param",
    b"source",
    b"track",
    b"wbr",
}
_KEEPS_SPACE_TAGS = {b"pre", b"listing", b"plaintext"}


@dataclass
class _Places:
    """Where the long lines of a document may break."""

    spaces: list[int] = field(default_factory=list)  # kinds 1 and 2: a space that may be CRLF
    runs: list[tuple[int, int]] = field(default_factory=list)  # text where 3 may go


def wrap(
    html: bytes, limit: int, placeholders: tuple[bytes, ...] = (), reserve: int = 0
) -> bytes | None:
    """`html` (CRLF line ends) with every line within `limit` bytes, each of the
    `placeholders` in it counted as `reserve` bytes (what will replace it); None if a line
    cannot be broken."""
    # Every one counts as the shortest grown to `reserve`: never less than it will be.
    extra = max(0, reserve - min(map(len, placeholders))) if placeholders else 0
    pattern = b"|".join(map(re.escape, placeholders))
    markers = [m.start() for m in re.finditer(pattern, html)] if extra else []
    lines = _long_lines(html, limit, markers, extra)
    if not lines:
        return html
    places = _find_places(html, lines)
    cuts: list[tuple[int, bytes, int]] = []  # where, what goes there, how many bytes it replaces
    for start, end in lines:
        at, carried = start, 0  # carried: bytes on this line before `at` (">" after a <wbr)
        while _length(markers, extra, at, end) + carried > limit:
            until = _reach(markers, extra, at, at + limit - carried)
            space = _last_space(places.spaces, at, until)
            if space is not None:
                cuts.append((space, CRLF, 1))
                at, carried = space + 1, 0
                continue
            between = _last_han_pair(html, places.runs, at, until - len(b"<wbr"))
            if between is None:
                return None
            cuts.append((between, WBR, 0))
            at, carried = between, 1
    pieces, last = [], 0
    for where, insert, replaced in cuts:
        pieces += [html[last:where], insert]
        last = where + replaced
    pieces.append(html[last:])
    return b"".join(pieces)


def _length(markers: list[int], extra: int, start: int, end: int) -> int:
    """The length of html[start:end] once each marker in it is replaced."""
    count = bisect.bisect_left(markers, end) - bisect.bisect_left(markers, start)
    return end - start + extra * count


def _reach(markers: list[int], extra: int, start: int, until: int) -> int:
    """How far a line from `start` may go so that, markers replaced, it ends by `until`:
    the farthest of, for each count of markers it holds, as far as that count allows
    and no farther than the next marker."""
    first, reach = bisect.bisect_left(markers, start), start
    for count in range(len(markers) - first + 1):
        allowed = until - extra * count
        if allowed <= reach:
            break
        following = markers[first + count] if first + count < len(markers) else allowed
        reach = max(reach, min(allowed, following))
    return reach


def _long_lines(html: bytes, limit: int, markers: list[int], extra: int) -> list[tuple[int, int]]:
    """(start, end) of each line longer than `limit`, each marker counted `extra` longer."""
    lines, start = [], 0
    for line in html.split(CRLF):
        end = start + len(line)
        # A cheap test first: a line may hold more than one marker (both personal links).
        if len(line) > limit - extra * len(markers) and _length(markers, extra, start, end) > limit:
            lines.append((start, end))
        start = end + len(CRLF)
    return lines


def _find_places(html: bytes, lines: list[tuple[int, int]]) -> _Places:
    """The break places inside the long `lines`, reading the whole document for the
    elements that hold them."""
    sheets = b" ".join(_SHEET.findall(html))
    text_ok = not _KEEPS_SPACE.search(sheets)
    wbr_ok = text_ok and b"keep-all" not in sheets.lower()
    stack: list[tuple[bytes, bool, bool]] = [(b"", text_ok, wbr_ok)]
    places = _Places()
    starts = [start for start, _ in lines]
    for token in _TOKEN.finditer(html):
        if token.group(2) is not None:
            _start_tag(token, stack, places)
        elif token.group(4) is not None:
            _end_tag(token.group(4).lower(), stack)
        elif token.group()[:1] != b"<" and _in_lines(lines, starts, token.start(), token.end()):
            _text(token, stack[-1], places)
    places.spaces.sort()
    return places


def _in_lines(lines: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    index = bisect.bisect_right(starts, end) - 1
    return index >= 0 and lines[index][1] > start


def _start_tag(
    token: re.Match[bytes], stack: list[tuple[bytes, bool, bool]], places: _Places
) -> None:
    attributes = token.group(3)
    offset = token.start(3)
    places.spaces += [offset + s.start(1) for s in _ATTR_SPACE.finditer(attributes) if s.group(1)]
    name = token.group(2).lower()
    if name in _VOID or attributes.endswith(b"/"):
        return
    found = _STYLE_ATTR.search(attributes)
    style = found.group(1) if found else b""
    _, text_ok, wbr_ok = stack[-1]
    text_ok = text_ok and name not in _KEEPS_SPACE_TAGS and not _KEEPS_SPACE.search(style)
    wbr_ok = wbr_ok and text_ok and name != b"nobr" and not _NO_BREAK.search(style)
    stack.append((name, text_ok, wbr_ok))


def _end_tag(name: bytes, stack: list[tuple[bytes, bool, bool]]) -> None:
    """Close `name` and what it holds; an end tag with no start is ignored."""
    for index in range(len(stack) - 1, 0, -1):
        if stack[index][0] == name:
            del stack[index:]
            return


def _text(token: re.Match[bytes], where: tuple[bytes, bool, bool], places: _Places) -> None:
    _, text_ok, wbr_ok = where
    if text_ok:  # searched in the token alone: a neighbour across a tag is not seen, so not used
        places.spaces += [token.start() + s.start() for s in _TEXT_SPACE.finditer(token.group())]
    if wbr_ok:
        places.runs.append((token.start(), token.end()))


def _last_space(spaces: list[int], after: int, until: int) -> int | None:
    """The last space in (after, until]: the line before it is at most `until - after` long."""
    index = bisect.bisect_right(spaces, until) - 1
    return spaces[index] if index >= 0 and spaces[index] > after else None


def _last_han_pair(html: bytes, runs: list[tuple[int, int]], after: int, until: int) -> int | None:
    """The last place in (after, until] between two ideographs of one text run."""
    index = bisect.bisect_right(runs, (until, len(html))) - 1
    while index >= 0 and runs[index][1] > after:
        start, end = max(runs[index][0], after), min(runs[index][1], until + 3)
        found = [m.end() for m in _HAN_PAIR.finditer(html, start, end)]
        found = [place for place in found if after < place <= until]
        if found:
            return found[-1]
        index -= 1
    return None
