"""The plain-text edition's layout: columns as a terminal or mail client counts them,
and wrapping that knows Chinese has no spaces and some punctuation may not start
or end a line."""

from __future__ import annotations

import functools
import re
import unicodedata

from newsletter.compose.markup import URL_CHARS

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
# Ideographs take two columns each and none is punctuation: a run of them is one token.
_IDEOGRAPH = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_IDEOGRAPHS = re.compile(f"{_IDEOGRAPH}+")
_WRAP_TOKEN = re.compile(rf"https?://{URL_CHARS}+|{_WORD}|\s+|{_IDEOGRAPH}+|.", re.DOTALL)


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


_NARROW_TOKEN = re.compile(r"\s+|\S+\s*")


def _wrap_line(text: str, width: int) -> list[str]:
    if display_width(text) <= width:
        return [text.rstrip()]  # titles, short lines: nothing to do
    if not _WIDE.search(text) and not _MIXED.search(text):
        return _wrap_narrow(text, width)
    return _wrap_cjk(text, width)


def _wrap_narrow(text: str, width: int) -> list[str]:
    """Text with no wide character (an English abstract) breaks only at spaces: the
    same lines as `_wrap_cjk` gives it, four times faster (no per-character work).
    Punctuation is part of the word before it, so no line starts with it."""
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for token in _NARROW_TOKEN.findall(text):  # only the first may be bare spaces
        word = token.rstrip()
        if line and word and used + len(word) > width:
            lines.append("".join(line).rstrip())
            line, used = [], 0
        line.append(token)
        used += len(token)
    lines.append("".join(line).rstrip())
    return lines


def _wrap_cjk(text: str, width: int) -> list[str]:
    """A line takes tokens while they fit; a line may break between any two Chinese
    characters, but not before closing punctuation (it takes the last character
    down with it) nor after opening punctuation.

    A run of ideographs is one token, split where the line is full (each takes two
    columns, and none is punctuation): Python works once a run, not once a character.
    """
    pending = _WRAP_TOKEN.findall(text)
    pending.reverse()  # a stack: a run cut at the line's end goes back on it
    lines: list[list[str]] = [[]]
    used, visible = 0, False  # visible: the line holds more than spaces
    while pending:
        token = pending.pop()
        line = lines[-1]
        if _IDEOGRAPHS.fullmatch(token):
            room = (width - used) // 2 if visible else max(1, (width - used) // 2)
            if room >= len(token):
                line.append(token)
            elif room > 0:
                pending.append(token[room:])
                line.append(token[:room])
            else:  # the line is full: its next character starts the next one
                if len(token) > 1:
                    pending.append(token[1:])
                used = _break(lines, token[0])
                continue
            used += 2 * min(room, len(token))
            visible = True
            continue
        if used + _ink(token) <= width or not visible:
            line.append(token)
            used += _advance(token)
            visible = visible or not token.isspace()
            continue
        if token.isspace():
            lines.append([])
            used, visible = 0, False
            continue
        used = _break(lines, token)
        visible = True
    return ["".join(line).rstrip() for line in lines]


def _break(lines: list[list[str]], token: str) -> int:
    """Start a new line with `token`, moving down what may not end the last one;
    the columns the new line takes."""
    line, carried = lines[-1], []
    if token[0] in _NO_LINE_START and _more_than_one(line):
        carried = [_pop_last(line)]  # no line may start with closing punctuation
    while _more_than_one(line) and line[-1].strip() in _NO_LINE_END:
        carried.insert(0, line.pop())  # nor end with opening punctuation
    lines.append([*carried, token])
    return sum(map(_advance, lines[-1]))


def _more_than_one(line: list[str]) -> bool:
    """Whether the line holds more than one token (a run counts its characters)."""
    return len(line) > 1 or (
        len(line) == 1 and len(line[0]) > 1 and bool(_IDEOGRAPHS.fullmatch(line[0]))
    )


def _pop_last(line: list[str]) -> str:
    """Take the line's last token off (the last character of a run)."""
    last = line[-1]
    if len(last) > 1 and _IDEOGRAPHS.fullmatch(last):
        line[-1] = last[:-1]
        return last[-1]
    return line.pop()


@functools.lru_cache(maxsize=8192)
def _ink(token: str) -> int:
    """Columns of the token's text, without the spaces after it (cached: most tokens
    are single Chinese characters, so the cache answers nearly every call)."""
    return display_width(token.rstrip())


@functools.lru_cache(maxsize=8192)
def _advance(token: str) -> int:
    """Columns the token takes, the spaces after it included."""
    return _ink(token) + len(token) - len(token.rstrip())
