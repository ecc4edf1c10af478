"""arXiv identifiers: recognise every link form people paste, keep one canonical id.

A paper's `arxiv_id` is its identity across digests, issues and the store, so the
same paper linked as `pdf/2407.04051v2.pdf` and `abs/2407.04051` must be one id.
"""

from __future__ import annotations

import re

# New-style ids (2007+): YYMM.NNNN or YYMM.NNNNN. Old-style: archive[.SUBJ]/YYMMNNN.
_ID = r"(?P<id>\d{4}\.\d{4,5}|[a-zA-Z][a-zA-Z-]*(?:\.[a-zA-Z]{2})?/\d{7})"
_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/"
    + _ID
    + r"(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_BARE = re.compile(r"^(?:arxiv:)?" + _ID + r"(?:v\d+)?$", re.IGNORECASE)


def arxiv_id_from_url(url: str) -> str | None:
    """Return the version-less arXiv id a link points to, or None if it is not arXiv."""
    url = url.strip()
    match = _URL.match(url) or _BARE.match(url)
    return match.group("id") if match else None


def canonical_url(arxiv_id: str) -> str:
    """The one URL we print for a paper: its abstract page, over https."""
    return f"https://arxiv.org/abs/{arxiv_id}"
