"""What in a mail could prove that it answers a message we sent: the tokens and
Message-IDs it carries, and, apart, the addresses it names.

A token or a Message-ID is proof because no one outside could have made it up:
tokens are random, and Message-IDs a keyed hash (message.py). An address is no
proof at all (anyone can write one), so addresses are kept only to tell a person
whom an unproven mail claims to be about.

Tokens come from the address the mail came back to (`bounces+TOKEN@…`, VERP: the
strongest, as a server wrote it), from the DSN's envelope fields, and from the
copy of our message a report encloses or quotes (its `List-Unsubscribe` and
unsubscribe links) or the subject of an unsubscribe reply.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import unquote

from newsletter.audience.subscribers import TOKEN_SHAPE
from newsletter.core import links
from newsletter.inbox.mime import enclosed, field_blocks, header, part_text

_VERP = re.compile(rf"\+({TOKEN_SHAPE})@")
_LINK_PREFIXES = "|".join(re.escape(links.prefix(kind)) for kind in ("unsubscribe", "preferences"))
_LINK_TOKENS = re.compile(
    rf"(?:{_LINK_PREFIXES}|subject=unsubscribe(?:%20|\+|\s)+)({TOKEN_SHAPE})",
    re.IGNORECASE,
)
_SUBJECT_TOKEN = re.compile(rf"\bunsubscribe\s+({TOKEN_SHAPE})\b", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s@]{8,200}@[^<>\s@]{1,255}>")
_QUOTED_MESSAGE_ID = re.compile(r"Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE)
ARRIVED_AT = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
# Where complaint and bounce formats name the address that failed or complained.
NAMING_FIELDS = (
    "Final-Recipient",
    "Original-Recipient",
    "Original-Rcpt-To",
    "Removal-Recipient",
    "X-Failed-Recipients",
)
_TEXT_SCAN = 200_000  # characters of text parts searched for quoted IDs and links


@dataclass
class Evidence:
    """Candidate proof, strongest first: `verp` tokens, Message-IDs, other tokens."""

    verp: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


def gather(msg: Message, addresses: list[str]) -> Evidence:
    found = Evidence(addresses=_unique(a.lower() for a in addresses if "@" in a))
    for name in ARRIVED_AT:
        found.verp += _VERP.findall(header(msg, name))
    copies = enclosed(msg)
    found.message_ids += _MESSAGE_ID.findall(header(msg, "In-Reply-To"))
    found.message_ids += _MESSAGE_ID.findall(header(msg, "References"))
    for copy in copies:
        found.message_ids += _MESSAGE_ID.findall(header(copy, "Message-ID"))
        found.tokens += _LINK_TOKENS.findall(unquote(header(copy, "List-Unsubscribe")))
        found.addresses += [a.lower() for _, a in email.utils.getaddresses([header(copy, "To")])]
    # The envelope sender the receiving server saw, as a DSN or an ARF report quotes it.
    for kind in ("message/delivery-status", "message/feedback-report"):
        for block in field_blocks(msg, kind)[:1]:
            for name in ("X-Postfix-Sender", "Original-Envelope-Id", "Original-Mail-From"):
                found.verp += _VERP.findall(header(block, name))
    found.tokens += _SUBJECT_TOKEN.findall(header(msg, "Subject"))
    for text in _texts(msg):
        found.message_ids += _QUOTED_MESSAGE_ID.findall(text)
        found.tokens += _LINK_TOKENS.findall(unquote(text))
        found.tokens += _VERP.findall(text)
    found.verp, found.tokens = _unique(found.verp), _unique(found.tokens)
    found.message_ids = _unique(found.message_ids)
    found.addresses = _unique(a for a in found.addresses if a)
    return found


def _texts(msg: Message) -> list[str]:
    """The text parts (and pasted headers) a quoted copy of our message may be in."""
    texts, left = [], _TEXT_SCAN
    for part in msg.walk():
        if part.get_content_maintype() == "text" and left > 0:
            text = part_text(part)[:left]
            texts.append(text)
            left -= len(text)
    return texts


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
