"""A receiving server's reply, read for its enhanced status code (RFC 3463).

Both sides of a bounce read replies the same way: `send`, when a server refuses a
recipient while we talk to it, and `inbox`, when a bounce quotes the reply later.
A status is taken only from a reply line (`550 5.1.1 …`, `said: 554 …`, `#550
5.1.10 …`), the first failure (4xx, 5xx) in the text.
"""

from __future__ import annotations

import re

# An enhanced code alone on a field, or after a reply code of its class.
ENHANCED_STATUS = r"([245])\.(\d{1,3})\.(\d{1,3})"
_REPLY_AND_STATUS = re.compile(
    rf"(?<![\w.])([245])\d\d[ -]+[#(]?{ENHANCED_STATUS}(?![\w.]*\d)", re.IGNORECASE
)
_HASH_STATUS = re.compile(rf"#{ENHANCED_STATUS}(?![\w.]*\d)")
# A reply code with words after it, where a reply starts: a line's beginning, after
# "said:", "error:", a quote, a `#` or `;` (`smtp;550 …`).
_REPLY_ALONE = re.compile(
    r"(?:^|said:|error:|reply:|response:|<--|[:;#'\"(\[])\s*([245][0-5]\d)(?:\s+-\s+|[ -])"
    r"(?=\s*[A-Za-z<\[#])",
    re.IGNORECASE | re.MULTILINE,
)


def status_in_reply(text: str) -> str:
    """The enhanced status code of the first failure reply (4xx, 5xx) in `text`; a
    reply code alone (`550 No such user`) gives its class (`5.0.0`). A session
    transcript's `250 2.1.0 Sender OK` before it is no failure, and is passed over."""
    for found in _REPLY_AND_STATUS.finditer(text):
        if found.group(1) == found.group(2) and found.group(1) != "2":
            return ".".join(found.groups()[1:])
    for found_hash in _HASH_STATUS.finditer(text):
        if found_hash.group(1) != "2":
            return ".".join(found_hash.groups())
    for reply in _REPLY_ALONE.finditer(text):
        if reply.group(1)[0] != "2":
            return f"{reply.group(1)[0]}.0.0"
    return ""


def reply_lines(text: str) -> str:
    """The lines of a notice that hold a server's reply (from the first reply code
    on, a few lines); else the whole notice, for its words."""
    found = next((m for m in _REPLY_AND_STATUS.finditer(text) if m.group(1) != "2"), None) or next(
        (m for m in _REPLY_ALONE.finditer(text) if m.group(1)[0] != "2"), None
    )
    if not found:
        return " ".join(text.split())[:1000]
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n\n", found.end())
    return " ".join(text[start : end if end > 0 else None].split()[:80])
