"""What an edition shows of each paper beyond the digest: who wrote it, its field,
its links, and arXiv's English abstract where the digest has no English summary.

The templates loop over `PaperView`s. A view answers every attribute of its
`Paper` too (`paper.title_en`), so a template written for plain papers still works,
and adds what arXiv's metadata gives (`paper.meta`, fetched by `enrich`; None until
then, and every field here reads well without it). What is shown where is the
templates' business; this module only prepares it once, in plain Python, so the
HTML and the text edition say the same things.

Titles and arXiv's abstract are shown with their LaTeX converted (`latex.shown`:
plain text in the text edition, emphasis in HTML); the summaries are converted where
their markdown is (`markup`). The `Paper` keeps what the digest and arXiv say.

The abstract may be cut (`abstract_cap`) to keep an edition under Gmail's clip:
`render.py` asks for that when a first rendering comes out too large, and the cut
falls at the end of a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from newsletter.compose import latex
from newsletter.compose.markup import links, paragraphs
from newsletter.core.model import GMAIL_CLIP_BYTES, Paper

AUTHORS_IN_FULL = 4
"""Up to this many authors are all named; past it, the first `AUTHORS_SHOWN` and "et al."."""
AUTHORS_SHOWN = 3
CODE_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org", "huggingface.co")
"""Hosts whose links are the paper's code (or models and data); any other non-arXiv
link in a summary is taken for its project page."""
HTML_BUDGET = GMAIL_CLIP_BYTES - 2048
"""The most HTML an edition may have: under Gmail's clip with room for each
subscriber's links. Past it, the English abstracts are cut (`abstract_cap`, and
`Renderer.edition` in render.py)."""
CUT_COST = 150
"""What cutting one abstract adds back (its "full abstract" link, inlined styles)."""
SHORTEST_CAP = 240
"""An abstract is never cut shorter than this (characters): a sentence or two."""
BILINGUAL_ABSTRACT = 480
"""The bilingual edition's English abstract is a short block under the Chinese
summary (its first sentences, and a link to the rest): its readers have the
summary already, and 20 whole abstracts would not fit beside it under the clip."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


@dataclass(frozen=True)
class PaperView:
    """One paper as the editions show it (see the module's docstring)."""

    paper: Paper
    number: int  # counts from 1, as the table of contents and the text edition do
    authors: tuple[str, ...]  # the names shown: all, or the first few
    more_authors: int  # how many were left out ("et al."); 0 when all are named
    category: str  # arXiv's primary category, `cs.CL`; "" without metadata
    pdf_url: str  # "" without metadata
    code_url: str  # the first code (or project) link of the summary; "" if none
    code_is_repository: bool  # code_url is on a code host (else: a project page)
    abstract: tuple[latex.Shown, ...]  # arXiv's English abstract, in paragraphs (maybe cut)
    abstract_cut: bool  # the abstract was shortened to fit: link to the rest

    @property
    def anchor(self) -> str:
        """The id of the paper's place in the message, for the table of contents."""
        return f"paper-{self.number}"

    @property
    def title_en(self) -> latex.Shown:
        """The English title as a reader sees it (LaTeX converted)."""
        return latex.shown(self.paper.title_en)

    @property
    def title_zh(self) -> latex.Shown:
        """The Chinese title as a reader sees it (LaTeX converted)."""
        return latex.shown(self.paper.title_zh)

    @property
    def authors_text(self) -> str:
        """`A, B, C` (the edition adds "et al." / 等 when `more_authors`)."""
        return ", ".join(self.authors)

    def __getattr__(self, name: str) -> Any:
        if name == "paper":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.paper, name)  # title_en, summary_zh, url, meta…


def paper_views(papers: Sequence[Paper], abstract_cap: int | None = None) -> list[PaperView]:
    """A view of each paper, in order; abstracts cut to `abstract_cap` characters."""
    return [_view(paper, number, abstract_cap) for number, paper in enumerate(papers, 1)]


def _view(paper: Paper, number: int, abstract_cap: int | None) -> PaperView:
    meta = paper.meta
    names = meta.authors if meta else ()
    shown = names if len(names) <= AUTHORS_IN_FULL else names[:AUTHORS_SHOWN]
    abstract = meta.abstract if meta else ""
    cut = abstract_cap is not None and len(abstract) > abstract_cap
    if cut:
        abstract = shorten_at_sentence(abstract, abstract_cap or 0)
    code = _code_link(paper)
    return PaperView(
        paper,
        number,
        tuple(shown),
        len(names) - len(shown),
        meta.primary_category if meta else "",
        meta.pdf_url if meta else "",
        code,
        bool(code) and _host(code) in CODE_HOSTS,
        tuple(latex.shown(paragraph) for paragraph in paragraphs(abstract)),
        cut,
    )


def shows_abstract(view: PaperView, edition: str) -> bool:
    """Whether `edition` shows the paper's abstract: the English editions do when the
    digest has no English summary (the Chinese edition never does)."""
    return edition != "zh" and bool(view.paper.meta) and not view.paper.summary_en


def shorten_at_sentence(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at the end of a sentence (at a word,
    with "…", when not even one sentence fits); paragraph breaks are kept."""
    if len(text) <= limit:
        return text
    ends = [m.start() for m in _SENTENCE_END.finditer(text) if m.start() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    head = text[: max(0, limit - 1)]
    return (head.rsplit(None, 1)[0] if " " in head else head).rstrip(" ,;:") + "…"


def abstract_cap(lengths: list[int], excess: int) -> int | None:
    """The longest an abstract may be so that cutting every longer one saves `excess`
    bytes (their text is close to one byte a character); None when none is longer
    than the shortest cut, SHORTEST_CAP when even that is not enough."""

    def saved(cap: int) -> int:
        return sum(n - cap - CUT_COST for n in lengths if n > cap)

    longest = max(lengths, default=0)
    if longest <= SHORTEST_CAP:
        return None
    low, high = SHORTEST_CAP, longest  # saved() grows as the cap comes down, but for CUT_COST
    if saved(low) < excess:
        return SHORTEST_CAP
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if saved(middle) >= excess else (low, middle)
    return low


def _code_link(paper: Paper) -> str:
    """The summary's first link to code, else its first link that is not arXiv's."""
    found = [url for text in (paper.summary_en or "", paper.summary_zh) for url in links(text)]
    others = [url for url in found if not _host(url).endswith("arxiv.org")]
    code = [url for url in others if _host(url) in CODE_HOSTS]
    return (code or others or [""])[0]


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
