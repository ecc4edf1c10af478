"""Every edition under Gmail's clip: what its HTML weighs as mailed, and where to cut.

Gmail hides everything past 102 KB of a message's HTML behind "[Message clipped]",
the footer and its unsubscribe link included. An edition is kept at most
`model.EDITION_LIMIT` (100 KB) as each reader gets it, their own links counted
(`mailed_bytes`). When a rendering is larger, `Renderer.edition` asks `next_caps`
how far to cut: the longest English texts first (the digest's English summary, or
arXiv's abstract), down to `SHORTEST_ENGLISH` characters, then, only if that is not
enough, the longest Chinese summaries, down to `SHORTEST_CHINESE`. Each text is cut
at the end of a sentence (`cut_at_sentence`), never inside a link, and the edition
links to the rest.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.compose.latex import math_spans
from newsletter.compose.markup import is_cjk, link_spans
from newsletter.core import links
from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER

LONGEST_TOKEN = 64
"""The longest token a subscriber's links can carry (`audience.subscribers.TOKEN_SHAPE`)."""
SHORTEST_ENGLISH = 240
"""An English text is never cut shorter than this (characters): a sentence or two."""
SHORTEST_CHINESE = 100
"""A Chinese summary is never cut shorter than this (characters): two or three sentences."""
CUT_COST = 160
"""What cutting one text adds back (bytes): its "read the rest" link, inlined styles."""

# An English sentence ends at . ! or ? before a space and a capital, digit or
# opening bracket or quote; a Chinese one right after 。！？ (and a closing quote).
_ENGLISH_END = re.compile(r"(?<=[.!?])(?=\s+[A-Z0-9(\"'“‘\[])")
_CHINESE_END = re.compile(r"(?<=[。！？])[”’」』）)]?")


@dataclass(frozen=True)
class Caps:
    """The longest an edition's English texts and Chinese summaries may be
    (characters); None: as written."""

    english: int | None = None
    chinese: int | None = None


def mailed_bytes(edition_html: str, base_url: str) -> int:
    """The bytes of an edition's HTML as a reader gets it: each placeholder replaced
    by the longest link it can become under `base_url`."""
    size = len(edition_html.encode("utf-8"))
    for placeholder, link in (
        (UNSUBSCRIBE_PLACEHOLDER, links.unsubscribe(base_url, "x" * LONGEST_TOKEN)),
        (PREFERENCES_PLACEHOLDER, links.preferences(base_url, "x" * LONGEST_TOKEN)),
    ):
        size += edition_html.count(placeholder) * (len(html.escape(link)) - len(placeholder))
    return size


def next_caps(caps: Caps, english: Sequence[str], chinese: Sequence[str], excess: int) -> Caps:
    """Caps that should take `excess` bytes off an edition whose shown English texts
    and Chinese summaries are `english` and `chinese` (already cut to `caps`): English
    first; Chinese once English is as short as it goes. The same `caps` back: nothing
    left to cut."""
    cap = _cap(english, excess, SHORTEST_ENGLISH)
    if cap is not None and (caps.english is None or cap < caps.english):
        return Caps(cap, caps.chinese)
    cap = _cap(chinese, excess, SHORTEST_CHINESE)
    if cap is not None and (caps.chinese is None or cap < caps.chinese):
        return Caps(caps.english, cap)
    return caps


def _cap(texts: Sequence[str], excess: int, shortest: int) -> int | None:
    """The longest a text may be so that cutting every longer one saves `excess`
    bytes (a text's bytes a character are its own: 1 in English, 3 in Chinese);
    None when none is longer than `shortest`, `shortest` when even that is not enough."""
    sized = [(len(text), len(text.encode("utf-8")) / len(text)) for text in texts if text]
    longest = max((length for length, _ in sized), default=0)
    if longest <= shortest:
        return None

    def saved(cap: int) -> float:
        return sum((n - cap) * weight - CUT_COST for n, weight in sized if n > cap)

    low, high = shortest, longest  # saved() grows as the cap comes down, but for CUT_COST
    if saved(low) < excess:
        return shortest
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if saved(middle) >= excess else (low, middle)
    return low


def cut_at_sentence(text: str, limit: int) -> str:
    """`text` (summary markdown or an abstract) cut to at most `limit` characters at
    the end of a sentence, English or Chinese, never inside a link; at a word (or a
    Chinese character), with "…", when not even one sentence fits. Paragraph breaks
    are kept."""
    if len(text) <= limit:
        return text
    inside = link_spans(text) + math_spans(text)  # never cut in two

    def free(position: int) -> bool:
        return not any(start < position < end for start, end in inside)

    ends = [
        match.end()
        for pattern in (_ENGLISH_END, _CHINESE_END)
        for match in pattern.finditer(text, 0, limit + 64)  # room for the lookahead
        if match.end() <= limit and free(match.end())
    ]
    if ends:
        return text[: max(ends)].rstrip()
    cut = max(0, limit - 1)
    for start, end in inside:
        if start < cut < end:
            cut = start  # a link is never cut in two: it goes whole
    head = text[:cut]
    in_a_word = head[-1:].isalnum() and text[cut : cut + 1].isalnum() and not is_cjk(head[-1])
    if in_a_word and " " in head.strip():
        head = head.rsplit(None, 1)[0]  # English: at a word; Chinese: at any character
    return head.rstrip(" ,;:，；：、") + "…"
