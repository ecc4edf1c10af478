"""What a receiving server said, read from a bounce: its enhanced status code and
its reply.

A status code is taken only where a server's words are: a DSN's `Status` and
`Diagnostic-Code` fields, or an SMTP reply line in the bounce's notice (`550 5.1.1
…`, `said: 554 …`, `#550 5.1.10 …`). Never from anywhere else: a `Received:` line's
`64.4.15.110` or a version number `4.2.2` is not a status. The notice is the text a
bounce writes for people, cut where the copy of the original begins.
"""

from __future__ import annotations

import re
from email.message import Message

from newsletter.inbox.mime import part_text

# An enhanced code alone on a field, or after a reply code of its class.
_ENHANCED = r"([245])\.(\d{1,3})\.(\d{1,3})"
_FIELD_STATUS = re.compile(rf"^\s*{_ENHANCED}(?![\d.]*\d)")
_REPLY_AND_STATUS = re.compile(
    rf"(?<![\w.])([245])\d\d[ -]+[#(]?{_ENHANCED}(?![\w.]*\d)", re.IGNORECASE
)
_HASH_STATUS = re.compile(rf"#{_ENHANCED}(?![\w.]*\d)")
# A reply code with words after it, where a reply starts: a line's beginning, after
# "said:", "error:", a quote, a `#` or `;` (`smtp;550 …`).
_REPLY_ALONE = re.compile(
    r"(?:^|said:|error:|reply:|response:|<--|[:;#'\"(\[])\s*([245][0-5]\d)(?:\s+-\s+|[ -])"
    r"(?=\s*[A-Za-z<\[#])",
    re.IGNORECASE | re.MULTILINE,
)
_ORIGINAL_STARTS = re.compile(
    r"^.*(?:"
    r"(?:this is|below is|here is|following is) a copy of (?:the|your)"
    r"|original message (?:follows|headers)"
    r"|below this line is a copy|message (?:headers )?follows|returned message"
    r"|-{3,} ?original message|undelivered message headers|header(?:s)? of the original"
    r"|original message is following|copy of the original|^original message:"
    r"|the original message was received|original message was|included below"
    r"|以下是原邮件|原始邮件|原邮件内容|原信件|原文"
    r").*$",
    re.IGNORECASE | re.MULTILINE,
)
# A header of our message pasted into the notice: the copy has begun. (Not
# Return-Path, From or Subject: some notices open by quoting those.)
_PASTED_HEADER = re.compile(
    r"^(?:Received|DKIM-Signature|List-Unsubscribe|MIME-Version):", re.MULTILINE
)
NOTICE_CHARS = 20_000  # a notice is short; past this it is the original, pasted


def status_in_field(value: str) -> str:
    """`5.1.1` from a DSN's `Status:` field (`5.1.1 (user unknown)` too)."""
    found = _FIELD_STATUS.search(value)
    return ".".join(found.groups()) if found else ""


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


def notice(msg: Message) -> str:
    """The text a bounce writes for people: its first text parts (plain, else HTML
    without tags), up to where the copy of the original begins."""
    texts: list[str] = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers", "message/delivery-status"):
            break  # the report's machine part, or the original: the notice is over
        if kind == "text/plain" or (kind == "text/html" and not texts):
            texts.append(_plain(part_text(part), html=kind == "text/html"))
        if len(texts) >= 2:
            break
    text = "\n".join(texts)[:NOTICE_CHARS]
    for marker in (_ORIGINAL_STARTS, _PASTED_HEADER):
        cut = marker.search(text)
        text = text[: cut.start()] if cut else text
    return text


def _plain(text: str, html: bool) -> str:
    if not html:
        return text
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li|h\d)>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"&nbsp;|&#160;", " ", text).replace("&lt;", "<").replace("&gt;", ">")
