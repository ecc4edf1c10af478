"""The shared vocabulary of the flow: papers, issues, subscribers and editions.

Every stage speaks these: the digest parser makes `Paper`s, `enrich` adds what
arXiv says about each (`PaperMeta`), the store keeps them with `Issue`s and
`Subscriber`s, compose renders one edition per `EDITIONS` name, send fills in
each subscriber's links where `UNSUBSCRIBE_PLACEHOLDER` and `PREFERENCES_PLACEHOLDER`
stand. Plain data only, standard library only: importing it costs nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from newsletter.core import clock

EDITIONS = ("bilingual", "en", "zh")
"""The editions of an issue; a subscriber's `lang` is one of them."""

HTML_LANG = {"bilingual": "zh-CN", "en": "en", "zh": "zh-CN"}
"""The `lang` attribute of each edition's HTML."""

SUBSCRIBER_STATUSES = ("active", "unsubscribed", "bounced")

UNSUBSCRIBE_PLACEHOLDER = "%%UNSUBSCRIBE_URL%%"
"""Where a composed edition holds the subscriber's own unsubscribe link; `send`
fills it in by plain substitution, without rendering anything per recipient."""

PREFERENCES_PLACEHOLDER = "%%PREFERENCES_URL%%"
"""Where a composed edition holds the subscriber's own preferences link (language, name),
filled in by `send` as the unsubscribe link is."""

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail shows "[Message clipped]" and hides the rest of a larger HTML body."""

EDITION_LIMIT = 100 * 1024
"""The most HTML an edition's message may have, its reader's links filled in: under
Gmail's clip, with room to spare (`compose.fit`)."""


@dataclass(frozen=True)
class PaperMeta:
    """What arXiv says about a paper: its API's Atom entry, fetched once and cached.

    The templates see it as `paper.meta` (None while it has not been fetched: every
    template must read well without it). Text is arXiv's, with its line breaks and
    runs of spaces made single spaces; the abstract keeps a blank line between
    paragraphs (for the `paragraphs` filter). Times are UTC.
    """

    arxiv_id: str  # our id for the paper: no version (`2407.04051`, `hep-th/9901001`)
    version: int  # the version arXiv describes, its latest (2 for `2407.04051v2`)
    title: str  # the English title on arXiv
    authors: tuple[str, ...]  # names, in the paper's order
    abstract: str  # the English abstract
    primary_category: str  # `cs.CL`
    categories: tuple[str, ...]  # every category, the primary one first, each once
    published: dt.datetime  # when version 1 was submitted
    updated: dt.datetime  # when this version was submitted
    pdf_url: str  # https link to this version's PDF
    fetched_at: dt.datetime  # when arXiv was asked

    @property
    def other_categories(self) -> tuple[str, ...]:
        """The categories besides the primary one (cross-lists)."""
        return tuple(name for name in self.categories if name != self.primary_category)

    def to_json(self) -> dict[str, Any]:
        return {
            "arxiv_id": self.arxiv_id,
            "version": self.version,
            "title": self.title,
            "authors": list(self.authors),
            "abstract": self.abstract,
            "primary_category": self.primary_category,
            "categories": list(self.categories),
            "published": clock.stamp(self.published),
            "updated": clock.stamp(self.updated),
            "pdf_url": self.pdf_url,
            "fetched_at": clock.stamp(self.fetched_at),
        }


@dataclass(frozen=True)
class Paper:
    """One paper as a digest gives it; `source_file:source_line` is its heading.

    `meta` is what arXiv says about it, when compose has it (see `PaperMeta`); the
    digest's fields never depend on it.
    """

    arxiv_id: str
    title_en: str
    title_zh: str
    url: str
    summary_zh: str
    summary_en: str | None
    source_file: str
    source_line: int
    meta: PaperMeta | None = None

    @property
    def source(self) -> str:
        """`digests/2024-07-15.md:5`, as warnings and `digest parse --json` name it."""
        return f"{self.source_file}:{self.source_line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "arxiv_id": self.arxiv_id,
            "title_en": self.title_en,
            "title_zh": self.title_zh,
            "url": self.url,
            "summary_zh": self.summary_zh,
            "summary_en": self.summary_en,
            "source": self.source,
        }


@dataclass(frozen=True)
class DigestWarning:
    """Something in a digest the user should fix; the rest of the digest is kept."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Issue:
    """An issue as the store knows it; its files are in `issues_dir / folder`."""

    number: int
    date: str
    subject: str
    folder: str
    papers: tuple[str, ...]
    status: str = "composed"  # composed, sending, sent


@dataclass(frozen=True)
class Subscriber:
    """Someone on the list; `token` is the key to their own links."""

    id: int
    email: str
    name: str
    lang: str
    status: str
    token: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "name": self.name,
            "lang": self.lang,
            "status": self.status,
            "created_at": self.created_at,
            "expires_at": None,  # as a pending sign-up's row has: one shape for every row
        }


@dataclass(frozen=True)
class Edition:
    """One edition of an issue as composed: what its messages are made of."""

    name: str  # one of EDITIONS
    subject: str
    preheader: str
    mjml: str
    html: str  # with the placeholders where each subscriber's links go
    text: str
    english_cut: int = 0  # English texts shortened to keep the HTML under the clip
    chinese_cut: int = 0  # Chinese summaries shortened to keep the HTML under the clip
    web_html: str = ""  # the web copy when texts were cut (it has them whole); "": `html`

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def clip_warning(edition: str, mailed_bytes: int) -> str | None:
    """What to say when an edition's HTML, its reader's links filled in, is past
    `EDITION_LIMIT`: close enough to Gmail's clip to be cut."""
    if mailed_bytes <= EDITION_LIMIT:
        return None
    return (
        f"the {edition} edition's HTML is {mailed_bytes / 1024:.1f} KB with a reader's links: "
        f"over the {EDITION_LIMIT // 1024} KB that stays clear of Gmail's "
        f"{GMAIL_CLIP_BYTES // 1024} KB clip, which hides the rest of the message and its "
        "unsubscribe link (lower max_papers, or trim the templates)"
    )
