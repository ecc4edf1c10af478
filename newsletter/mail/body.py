"""The text and HTML parts of a message: encoded once per edition, finished per recipient.

A part goes 8-bit (RFC 6152) when the server offers 8BITMIME: the UTF-8 bytes as
composed, lines ending in CRLF; for the sample issue a message is 70 KB instead of 96 KB
in base64, and the bytes on the wire are the cost of a send. It goes base64 to a server
that does not offer 8BITMIME, and whenever 8-bit cannot carry it: a line longer than 998
octets (RFC 5322 section 2.1.1) that has no invisible place to break (`htmlwrap.py`; a
line of plain text never has one), or a NUL (RFC 2045 section 2.8). Base64 rather than
quoted-printable: QP writes each byte of a Chinese character as three.

Either way a part is split once at the personal placeholders (the unsubscribe and the
preferences link) into a `head` that every recipient shares and what `tail(links)`
finishes for one recipient (`links`: each placeholder's link for that recipient), with
that tail's relaxed DKIM form (`canonical_tail`) and its dot-stuffed form for DATA
(`wire_tail`). For base64 the head is the whole 57-byte groups before the first
placeholder; the tail's lines have no white space and are canonical as they are. For
8-bit the head ends at the line break before the first placeholder's line, and the tail
is the lines that hold placeholders, then the shared rest. Relaxed canonicalisation
works line by line (runs of white space, white space before a CRLF), so the personal
lines are canonicalised per recipient, with the links in place, and the shared lines
once. Every tail ends with the CRLF before the next boundary, so no line spans two
pieces.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Protocol

from newsletter.core.model import PREFERENCES_PLACEHOLDER, UNSUBSCRIBE_PLACEHOLDER
from newsletter.mail.dkim import relaxed_body_piece
from newsletter.mail.htmlwrap import wrap
from newsletter.mail.smtp import dot_stuffed

CRLF = b"\r\n"
LINE_MAX = 998  # octets in a line, without its CRLF (RFC 5322 section 2.1.1)
LINK_ROOM = 256  # what a placeholder is counted as when lines are wrapped: room for a link
PLACEHOLDER = UNSUBSCRIBE_PLACEHOLDER.encode()
PLACEHOLDERS = (PLACEHOLDER, PREFERENCES_PLACEHOLDER.encode())
_PLACEHOLDER = re.compile(b"(" + b"|".join(map(re.escape, PLACEHOLDERS)) + b")")
ROOMY = {placeholder: b"x" * LINK_ROOM for placeholder in PLACEHOLDERS}
"""Links as long as the room kept for them: what a part must fit to go 8-bit."""

Links = Mapping[bytes, bytes]
"""A recipient's links, by the placeholder each replaces (all of `PLACEHOLDERS`)."""
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


class Part(Protocol):
    """One part's body, shared head and personal tail."""

    encoding: bytes  # the Content-Transfer-Encoding
    head: bytes  # what every recipient gets first: whole lines, each with its CRLF

    def tail(self, links: Links) -> bytes:
        """The rest for one recipient, ending with the CRLF before the next boundary."""
        ...

    def wire_tail(self, links: Links) -> bytes:
        """`tail(links)` dot-stuffed for SMTP DATA (the shared rest stuffed once)."""
        ...

    def canonical_tail(self, links: Links) -> bytes:
        """`tail(links)` in DKIM's relaxed body form."""
        ...

    def fits(self, links: Links) -> bool:
        """Whether `links` in place of the placeholders keep every line within limits."""
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
        wrapped = wrap(data, LINE_MAX, PLACEHOLDERS, LINK_ROOM)
        if wrapped is None:
            return None
        data = wrapped
    long_lines = (line for line in data.split(CRLF) if len(line) > LINE_MAX)
    if any(not _PLACEHOLDER.search(line) for line in long_lines):
        return None
    part = EightBitPart(data)
    return part if part.fits(ROOMY) else None


def split(data: bytes) -> list[bytes]:
    """`data` cut at the placeholders, kept: the odd items are placeholders (`fill`)."""
    return _PLACEHOLDER.split(data)


def fill(pieces: list[bytes], links: Links) -> bytes:
    """The pieces of `split` joined, each placeholder replaced by its link."""
    filled = pieces.copy()
    filled[1::2] = [links[placeholder] for placeholder in pieces[1::2]]
    return b"".join(filled)


class EightBitPart:
    """A part in 8-bit: the lines as they are; a recipient's link goes into its lines."""

    encoding = b"8bit"

    def __init__(self, data: bytes) -> None:
        whole = data + CRLF  # the CRLF before the next boundary belongs to it (RFC 2046 5.1.1)
        found = [match.span() for match in _PLACEHOLDER.finditer(whole)]
        start = end = len(whole)
        if found:
            line_break = whole.rfind(CRLF, 0, found[0][0])
            start = line_break + len(CRLF) if line_break >= 0 else 0
            end = whole.index(CRLF, found[-1][1]) + len(CRLF)
        self.head = whole[:start]
        self.personal = split(whole[start:end])
        self.rest = whole[end:]
        self.wire_rest = dot_stuffed(self.rest)
        self.canonical_rest = relaxed_body_piece(self.rest)
        # Each personal line: its length without placeholders, and the placeholders in it.
        self.lines = [
            (len(line) - sum(map(len, held)), held)
            for line in whole[start:end].split(CRLF)
            if (held := _PLACEHOLDER.findall(line))
        ]

    def tail(self, links: Links) -> bytes:
        return fill(self.personal, links) + self.rest

    def wire_tail(self, links: Links) -> bytes:
        return dot_stuffed(fill(self.personal, links)) + self.wire_rest

    def canonical_tail(self, links: Links) -> bytes:
        return relaxed_body_piece(fill(self.personal, links)) + self.canonical_rest

    def fits(self, links: Links) -> bool:
        return all(
            shared + sum(len(links[placeholder]) for placeholder in held) <= LINE_MAX
            for shared, held in self.lines
        )


class Base64Part:
    """A part in base64 whose personal link is filled in per recipient.

    Base64 lines of 76 characters each encode 57 bytes, so everything before the
    first placeholder, up to a multiple of 57 bytes, is encoded once; per recipient
    only the rest is (the personal links sit in the footer, near the end).
    """

    encoding = b"base64"

    def __init__(self, data: bytes) -> None:
        parts = split(data)
        cut = len(parts[0]) // 57 * 57 if len(parts) > 1 else 0
        self.head = _base64(parts[0][:cut]) + CRLF if cut else b""
        self.parts = [parts[0][cut:], *parts[1:]]

    def tail(self, links: Links) -> bytes:
        """The personal part: base64 lines after `head`, and the CRLF after the last."""
        return _base64(fill(self.parts, links)) + CRLF

    def wire_tail(self, links: Links) -> bytes:
        return self.tail(links)  # no "." in base64: nothing to stuff

    def canonical_tail(self, links: Links) -> bytes:
        return self.tail(links)  # no white space in base64: canonical as it is

    def fits(self, links: Links) -> bool:
        return True


def _base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, joined by CRLF (RFC 2045)."""
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
