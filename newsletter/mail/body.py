"""The text and HTML parts of a message: encoded once per edition, finished per recipient.

A part goes 8-bit (RFC 6152) when the server offers 8BITMIME: the UTF-8 bytes as
composed, lines ending in CRLF; for the sample issue a message is 70 KB instead of 96 KB
in base64, and the bytes on the wire are the cost of a send. It goes base64 to a server
that does not offer 8BITMIME, and whenever 8-bit cannot carry it: a line longer than 998
octets (RFC 5322 section 2.1.1) that has no invisible place to break (`htmlwrap.py`; a
line of plain text never has one), or a NUL (RFC 2045 section 2.8). Base64 rather than
quoted-printable: QP writes each byte of a Chinese character as three.

Either way a part is split once at the personal placeholder into a `head` that every
recipient shares and what `tail(link)` finishes for one recipient, with that tail's
relaxed DKIM form (`canonical_tail`) and its dot-stuffed form for DATA (`wire_tail`).
For base64 the head is the whole 57-byte groups before the first placeholder; the
tail's lines have no white space and are canonical as they are. For 8-bit the head ends
at the line break before the first placeholder's line, and the tail is the lines that
hold placeholders, then the shared rest. Relaxed canonicalisation works line by line
(runs of white space, white space before a CRLF), so the personal lines are
canonicalised per recipient, with the link in place, and the shared lines once. Every
tail ends with the CRLF before the next boundary, so no line spans two pieces.
"""

from __future__ import annotations

import base64
import re
from typing import Protocol

from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.dkim import relaxed_body_piece
from newsletter.mail.htmlwrap import wrap
from newsletter.mail.smtp import dot_stuffed

CRLF = b"\r\n"
LINE_MAX = 998  # octets in a line, without its CRLF (RFC 5322 section 2.1.1)
LINK_ROOM = 256  # what a placeholder is counted as when lines are wrapped: room for a link
PLACEHOLDER = UNSUBSCRIBE_PLACEHOLDER.encode()
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


class Part(Protocol):
    """One part's body, shared head and personal tail."""

    encoding: bytes  # the Content-Transfer-Encoding
    head: bytes  # what every recipient gets first: whole lines, each with its CRLF

    def tail(self, link: bytes) -> bytes:
        """The rest for one recipient, ending with the CRLF before the next boundary."""
        ...

    def wire_tail(self, link: bytes) -> bytes:
        """`tail(link)` dot-stuffed for SMTP DATA (the shared rest stuffed once)."""
        ...

    def canonical_tail(self, link: bytes) -> bytes:
        """`tail(link)` in DKIM's relaxed body form."""
        ...

    def fits(self, link: bytes) -> bool:
        """Whether `link` in place of the placeholder keeps every line within limits."""
        ...


def canonical_lines(text: str) -> bytes:
    """`text` in UTF-8 with CRLF line ends (MIME's canonical form for text): a bare CR or
    LF never goes out, in either encoding."""
    return _LINE_ENDS.sub(CRLF, text.encode("utf-8"))


def encode(data: bytes, html: bool, eightbit: bool) -> Part:
    """`data` (canonical lines) as 8-bit if asked and it can go so, else as base64."""
    if eightbit:
        part = eight_bit(data, html)
        if part is not None:
            return part
    return Base64Part(data)


def eight_bit(data: bytes, html: bool) -> EightBitPart | None:
    """`data` as an 8-bit part (HTML lines wrapped where that cannot show), or None: a NUL,
    or a line that cannot be kept within LINE_MAX with room for a link."""
    if b"\x00" in data:
        return None
    if html:
        wrapped = wrap(data, LINE_MAX, PLACEHOLDER, LINK_ROOM)
        if wrapped is None:
            return None
        data = wrapped
    if any(len(line) > LINE_MAX and PLACEHOLDER not in line for line in data.split(CRLF)):
        return None
    part = EightBitPart(data)
    return part if part.fits(b"x" * LINK_ROOM) else None


class EightBitPart:
    """A part in 8-bit: the lines as they are; a recipient's link goes into its lines."""

    encoding = b"8bit"

    def __init__(self, data: bytes) -> None:
        whole = data + CRLF  # the CRLF before the next boundary belongs to it (RFC 2046 5.1.1)
        first, last = whole.find(PLACEHOLDER), whole.rfind(PLACEHOLDER)
        start = end = len(whole)
        if first >= 0:
            line_break = whole.rfind(CRLF, 0, first)
            start = line_break + len(CRLF) if line_break >= 0 else 0
            end = whole.index(CRLF, last + len(PLACEHOLDER)) + len(CRLF)
        self.head = whole[:start]
        self.personal = whole[start:end].split(PLACEHOLDER)
        self.rest = whole[end:]
        self.wire_rest = dot_stuffed(self.rest)
        self.canonical_rest = relaxed_body_piece(self.rest)
        self.link_max = min(
            (
                (LINE_MAX - len(line) + n * len(PLACEHOLDER)) // n
                for line in whole[start:end].split(CRLF)
                if (n := line.count(PLACEHOLDER))
            ),
            default=LINE_MAX,
        )

    def tail(self, link: bytes) -> bytes:
        return link.join(self.personal) + self.rest

    def wire_tail(self, link: bytes) -> bytes:
        return dot_stuffed(link.join(self.personal)) + self.wire_rest

    def canonical_tail(self, link: bytes) -> bytes:
        return relaxed_body_piece(link.join(self.personal)) + self.canonical_rest

    def fits(self, link: bytes) -> bool:
        return len(link) <= self.link_max


class Base64Part:
    """A part in base64 whose personal link is filled in per recipient.

    Base64 lines of 76 characters each encode 57 bytes, so everything before the
    first placeholder, up to a multiple of 57 bytes, is encoded once; per recipient
    only the rest is (the unsubscribe link sits in the footer, near the end).
    """

    encoding = b"base64"

    def __init__(self, data: bytes) -> None:
        parts = data.split(PLACEHOLDER)
        cut = len(parts[0]) // 57 * 57 if len(parts) > 1 else 0
        self.head = _base64(parts[0][:cut]) + CRLF if cut else b""
        self.parts = [parts[0][cut:], *parts[1:]]

    def tail(self, link: bytes) -> bytes:
        """The personal part: base64 lines after `head`, and the CRLF after the last."""
        return _base64(link.join(self.parts)) + CRLF

    def wire_tail(self, link: bytes) -> bytes:
        return self.tail(link)  # no "." in base64: nothing to stuff

    def canonical_tail(self, link: bytes) -> bytes:
        return self.tail(link)  # no white space in base64: canonical as it is

    def fits(self, link: bytes) -> bool:
        return True


def _base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, joined by CRLF (RFC 2045)."""
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
