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

Texts may be cut to keep an edition under Gmail's clip (`fit.Caps`, which
`render.py` asks for when a first rendering comes out too large): the English text
shown (the digest's English summary, else arXiv's abstract), then the Chinese
summary, each at the end of a sentence. The bilingual edition always shows a short
form of arXiv's abstract (`BILINGUAL_ABSTRACT`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from newsletter.compose import latex
from newsletter.compose.fit import Caps, cut_at_sentence
from newsletter.compose.markup import links, paragraphs
from newsletter.core.model import Paper

AUTHORS_IN_FULL = 4
"""Up to this many authors are all named; past it, the first `AUTHORS_SHOWN` and "et al."."""
AUTHORS_SHOWN = 3
CODE_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org", "huggingface.co")
"""Hosts whose links are the paper's code (or models and data); any other non-arXiv
link in a summary is taken for its project page."""
BILINGUAL_ABSTRACT = 480
"""The bilingual edition's English abstract is a short block under the Chinese
summary (its first sentences, and a link to the rest): its readers have the
summary already, and 20 whole abstracts would not fit beside it under the clip."""


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
    abstract_cut: bool  # the abstract is not whole: link to the rest on arXiv
    abstract_text: str  # the abstract as shown, before LaTeX is converted (maybe cut)
    summary_en: str | None  # the digest's English summary as shown (maybe cut)
    summary_zh: str  # the digest's Chinese summary as shown (maybe cut)
    summary_en_cut: bool  # summary_en was cut to fit: link to the rest on the web copy
    summary_zh_cut: bool  # the same for summary_zh
    english_fitted: bool  # the English text shown was cut to fit the clip (by `Caps`)

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


def paper_views(
    papers: Sequence[Paper], caps: Caps | None = None, abstract_limit: int | None = None
) -> list[PaperView]:
    """A view of each paper, in order, its texts cut to `caps` (and arXiv's abstract
    to `abstract_limit` characters, too)."""
    caps = caps or Caps()
    return [_view(paper, number, caps, abstract_limit) for number, paper in enumerate(papers, 1)]


def _view(paper: Paper, number: int, caps: Caps, abstract_limit: int | None) -> PaperView:
    meta = paper.meta
    names = meta.authors if meta else ()
    shown = names if len(names) <= AUTHORS_IN_FULL else names[:AUTHORS_SHOWN]
    abstract = meta.abstract if meta else ""
    english_cap = None if paper.summary_en else caps.english
    limits = [cap for cap in (english_cap, abstract_limit) if cap is not None]
    abstract_cut = bool(limits) and len(abstract) > min(limits)
    if abstract_cut:
        abstract = cut_at_sentence(abstract, min(limits))
    summary_en = _cut(paper.summary_en or "", caps.english) or paper.summary_en
    summary_zh = _cut(paper.summary_zh, caps.chinese)
    summary_en_cut = summary_en != paper.summary_en
    english_fitted = summary_en_cut or (
        abstract_cut and english_cap is not None and english_cap == min(limits)
    )
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
        abstract_cut,
        abstract,
        summary_en,
        summary_zh,
        summary_en_cut,
        summary_zh != paper.summary_zh,
        english_fitted,
    )


def _cut(text: str, cap: int | None) -> str:
    return text if cap is None else cut_at_sentence(text, cap)


def shows_abstract(view: PaperView, edition: str) -> bool:
    """Whether `edition` shows the paper's abstract: the English editions do when the
    digest has no English summary (the Chinese edition never does)."""
    return edition != "zh" and bool(view.paper.meta) and not view.paper.summary_en


def english_shown(view: PaperView, edition: str) -> str:
    """The English text `edition` shows of the paper, as written (before markdown and
    LaTeX): the digest's English summary, else arXiv's abstract; "" in the zh edition."""
    if edition == "zh":
        return ""
    return view.summary_en or (view.abstract_text if shows_abstract(view, edition) else "")


def chinese_shown(view: PaperView, edition: str) -> str:
    """The Chinese summary `edition` shows, as written; "" in the en edition."""
    return "" if edition == "en" else view.summary_zh


def _code_link(paper: Paper) -> str:
    """The summary's first link to code, else its first link that is not arXiv's."""
    found = [url for text in (paper.summary_en or "", paper.summary_zh) for url in links(text)]
    others = [url for url in found if not _host(url).endswith("arxiv.org")]
    code = [url for url in others if _host(url) in CODE_HOSTS]
    return (code or others or [""])[0]


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")
