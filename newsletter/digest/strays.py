"""Recognise a paragraph that is a reworded copy of another entry's summary.

Real digests are assembled by hand or by a model, and sometimes an extra paragraph
lands under the wrong heading: a copy of a neighbouring paper's summary, worded a
little differently. Exact comparison misses those, so paragraphs are compared as
sets of token trigrams (a Chinese character or a Latin word is one token). On the
bundled sample a stray copy shares 53-65 % of its trigrams with the summary it
repeats, while unrelated summaries share at most 11 %.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsletter.core.model import DigestWarning
from newsletter.core.text import shorten

if TYPE_CHECKING:
    from newsletter.digest.parse import Entry

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(r"[a-z0-9]+|[^\W_]")
_URL = re.compile(r"https?://\S+")

REPEAT_THRESHOLD = 0.3
"""Share of trigrams above which a paragraph counts as a copy (see the module doc)."""

MIN_SHINGLES = 12
"""Paragraphs shorter than this (a lone link, "Code: …") are too short to judge."""

OPENING_TOKENS = 100
"""Only a paragraph's opening is compared: a reworded copy keeps the shape of the
summary it repeats from the first sentence on (on the sample, the openings of stray
copies share 43-51 % of their trigrams with the original; unrelated openings at
most 11 %), and comparing openings keeps a 10,000-entry digest fast."""

Shingles = frozenset[int]


def shingles(text: str) -> Shingles:
    """The hashed token trigrams of `text`'s opening, case-folded, links left out.

    Hashes rather than tuples: a set of ints is not tracked by the garbage
    collector, which otherwise dominates on a large digest.
    """
    tokens = _tokens(text[: OPENING_TOKENS * 2])  # enough for Chinese: a char is a token
    if len(tokens) < OPENING_TOKENS and len(text) > OPENING_TOKENS * 2:
        tokens = _tokens(text[: OPENING_TOKENS * 10])  # English words are longer
    tokens = tokens[:OPENING_TOKENS]
    return frozenset(map(hash, zip(tokens, tokens[1:], tokens[2:], strict=False)))


def _tokens(text: str) -> list[str]:
    """Latin words, and each other letter on its own (Chinese has no spaces)."""
    return _TOKEN.findall(_URL.sub(" ", text).lower())


def containment(a: Shingles, b: Shingles) -> float:
    """How much of the smaller set lies in the other (1.0: one contains the other)."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0


def best_repeat(paragraph: Shingles, candidates: Sequence[Shingles]) -> int | None:
    """Index of the candidate `paragraph` repeats, or None when it repeats none."""
    if len(paragraph) < MIN_SHINGLES:
        return None
    best, best_score = None, REPEAT_THRESHOLD
    for index, candidate in enumerate(candidates):
        if len(candidate) < MIN_SHINGLES:
            continue
        score = containment(paragraph, candidate)
        if score >= best_score:
            best, best_score = index, score
    return best


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one Chinese, Japanese or Korean character."""
    return re.search(f"[{_CJK}]", text) is not None


def latin_words(text: str) -> int:
    """How many Latin-script words `text` has, links left out."""
    return len(re.findall(r"[A-Za-z]{2,}", _URL.sub(" ", text)))


STRAY_WINDOW = 15
"""A stray paragraph is looked for among this many entries before and after it:
a whole weekly digest, while a 10,000-entry file still parses in linear time."""


def drop_stray_paragraphs(entries: list[Entry], path: str, warnings: list[DigestWarning]) -> None:
    """Remove later paragraphs that repeat another entry's summary, with a warning.

    An entry's first paragraph is its summary by definition; a further paragraph
    is kept unless it is a reworded copy of the first paragraph of a nearby entry.
    """
    cache: dict[int, Shingles] = {}

    def lead(index: int) -> Shingles:
        if index not in cache:
            paragraphs = entries[index].paragraphs
            cache[index] = shingles(paragraphs[0].text) if paragraphs else frozenset()
        return cache[index]

    for index, entry in enumerate(entries):
        if len(entry.paragraphs) < 2:
            continue
        near = [
            other
            for other in range(max(0, index - STRAY_WINDOW), index + STRAY_WINDOW + 1)
            if other != index and other < len(entries)
        ]
        kept = entry.paragraphs[:1]
        for paragraph in entry.paragraphs[1:]:
            match = best_repeat(shingles(paragraph.text), [lead(other) for other in near])
            if match is None:
                kept.append(paragraph)
                continue
            original = entries[near[match]]
            warnings.append(
                DigestWarning(
                    path,
                    paragraph.line,
                    f"stray paragraph left out: it repeats the summary of "
                    f"{shorten(original.title)!r} ({path}:{original.line})",
                )
            )
        entry.paragraphs = kept
