"""The arXiv API's answer, an Atom 1.0 feed, read into `PaperMeta`s.

The format is the one the arXiv API User's Manual describes ("Outline of an Atom
feed"): one `<entry>` per paper, in the Atom namespace, with arXiv's own elements
(`arxiv:primary_category`, `arxiv:comment`…) in `http://arxiv.org/schemas/atom` and
the result count in OpenSearch's. Its quirks, each handled here:

- titles and abstracts are wrapped over several lines, with indents: made one line
  (the abstract keeps a blank line between paragraphs);
- `<id>` is the versioned abstract URL (`http://arxiv.org/abs/2407.04051v2`): mapped
  to our id and the version;
- an old-style id asked with its subject class (`math.GT/0309136`) comes back
  without it (`math/0309136`): `match_key` makes them one;
- a query the API cannot answer is a feed whose one entry is an error, with
  `<id>http://arxiv.org/api/errors#…</id>` and the reason in `<summary>`;
- an id the API does not know has no entry (older versions of the API gave one with
  an empty title: skipped too).

The parser is the standard library's: ElementTree never fetches external entities,
and a document with a DTD is refused outright (an Atom feed has none), so no entity
is ever expanded; the caller bounds the size (`MAX_BYTES`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.etree import ElementTree

from newsletter.config.checks import is_arxiv_host
from newsletter.core.errors import ArxivError
from newsletter.core.model import PaperMeta
from newsletter.core.text import drop_invalid
from newsletter.digest.arxiv import arxiv_id_from_url

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
MAX_BYTES = 10 * 1024 * 1024
"""The largest answer read: 100 entries are about 300 KB."""

_ERROR_ID = "arxiv.org/api/errors"
_VERSION = re.compile(r"v(\d+)$")
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_OLD_STYLE = re.compile(r"^([a-z-]+)\.[a-z]{2}/", re.IGNORECASE)


@dataclass
class Feed:
    """What one answer holds: metadata by the API's id (no version), and what any
    error entry said."""

    entries: dict[str, PaperMeta] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    total: int | None = None  # opensearch:totalResults


def match_key(arxiv_id: str) -> str:
    """The form in which an id we asked for and the id arXiv answers with compare
    equal: `math.GT/0309136` is answered as `math/0309136`."""
    return _OLD_STYLE.sub(r"\1/", arxiv_id).lower()


def parse_feed(data: bytes, fetched_at: dt.datetime) -> Feed:
    """Read an answer of the API; an answer that is not an Atom feed is an ArxivError."""
    if len(data) > MAX_BYTES:
        raise ArxivError(f"the answer is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if _DTD.search(data):
        raise ArxivError("the answer declares a DTD, which an Atom feed never has")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise ArxivError(f"the answer is not XML ({error})") from None
    if root.tag != f"{ATOM}feed":
        raise ArxivError(f"the answer is not an Atom feed (its root is <{root.tag}>)")
    feed = Feed(total=_count(root.findtext(f"{OPENSEARCH}totalResults")))
    for entry in root.iter(f"{ATOM}entry"):
        link = (entry.findtext(f"{ATOM}id") or "").strip()
        if _ERROR_ID in link:
            feed.errors.append(_line(entry.findtext(f"{ATOM}summary") or link))
            continue
        meta = _meta(entry, link, fetched_at)
        if meta is not None:
            feed.entries[meta.arxiv_id] = meta
    return feed


def _meta(entry: ElementTree.Element, link: str, fetched_at: dt.datetime) -> PaperMeta | None:
    """One entry's metadata, or None for an entry that describes no paper."""
    arxiv_id = arxiv_id_from_url(link)
    title = _line(entry.findtext(f"{ATOM}title") or "")
    published = _time(entry.findtext(f"{ATOM}published"))
    if arxiv_id is None or not title or published is None:
        return None
    version = _VERSION.search(link)
    number = int(version.group(1)) if version else 1
    primary = entry.find(f"{ARXIV}primary_category")
    categories = [c.get("term", "").strip() for c in entry.iter(f"{ATOM}category")]
    first = primary.get("term", "").strip() if primary is not None else ""
    ordered = tuple(dict.fromkeys(name for name in [first, *categories] if name))
    return PaperMeta(
        arxiv_id=arxiv_id,
        version=number,
        title=title,
        authors=_authors(entry),
        abstract=_paragraphs(entry.findtext(f"{ATOM}summary") or ""),
        primary_category=first or (ordered[0] if ordered else ""),
        categories=ordered,
        published=published,
        updated=_time(entry.findtext(f"{ATOM}updated")) or published,
        pdf_url=_pdf_url(entry, arxiv_id, number),
        fetched_at=fetched_at,
    )


def _authors(entry: ElementTree.Element) -> tuple[str, ...]:
    names = (_line(author.findtext(f"{ATOM}name") or "") for author in entry.iter(f"{ATOM}author"))
    return tuple(name for name in names if name)


def _line(text: str) -> str:
    """Text on one line: arXiv's line breaks and indents made single spaces."""
    return drop_invalid(" ".join(text.split()))


def _paragraphs(text: str) -> str:
    """An abstract: each paragraph on one line, a blank line between paragraphs."""
    paragraphs = (_line(part) for part in re.split(r"\n[ \t]*\n", text))
    return "\n\n".join(part for part in paragraphs if part)


def _time(text: str | None) -> dt.datetime | None:
    """`2024-07-04T17:59:21Z` as an aware UTC time; None if absent or not a time."""
    try:
        moment = dt.datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or dt.UTC).astimezone(dt.UTC)


def _count(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


def _pdf_url(entry: ElementTree.Element, arxiv_id: str, version: int) -> str:
    """The entry's PDF link over https; arXiv's usual one if it has none we can use."""
    for link in entry.iter(f"{ATOM}link"):
        if link.get("title") != "pdf" and link.get("type") != "application/pdf":
            continue
        href = (link.get("href") or "").strip()
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and is_arxiv_host(parts.hostname):
            return parts._replace(scheme="https").geturl()
    return f"https://arxiv.org/pdf/{arxiv_id}v{version}"
