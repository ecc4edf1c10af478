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
from newsletter.mail.replies import ENHANCED_STATUS

_FIELD_STATUS = re.compile(rf"^\s*{ENHANCED_STATUS}(?![\d.]*\d)")
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
