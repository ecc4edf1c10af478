"""Build the message each subscriber receives, fast.

An edition is prepared once per send (`MessageTemplate`): its subject encoded per
RFC 2047, its HTML and text split at the personal placeholders. Per recipient only
the headers and the placeholders change, and the two bodies are base64-encoded
again; `email.message.EmailMessage` costs five times the SMTP transport per
message, so it is used to check messages (tests, dry runs), not to build them.

The message: `multipart/alternative`, the text part first and the HTML second,
UTF-8, with `List-Id`, `List-Unsubscribe` (a `mailto:` and an `https:` link, each
carrying the subscriber's token) and `List-Unsubscribe-Post` (RFC 8058 one-click).
With a `Signer` (`[dkim]` set), a `DKIM-Signature` comes first (dkim.py), its body
hash carried on from the edition's shared pieces.

Headers are written by hand, so they are made safe by hand, whatever the store
holds: every value is stripped of control characters (a CR or LF would end the
header and start another: `Bcc:` injection), the token is percent-encoded in
links, and a display name that is long or not plain ASCII is written as RFC 2047
encoded-words of at most 75 characters, one per folded line, so no header line
grows past 78 characters but for an address or URL that cannot be folded.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from urllib.parse import quote, urlsplit

from newsletter.config import NewsletterSettings
from newsletter.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.send.dkim import BodyHash, Signer, relaxed_body_piece, relaxed_header

CRLF = b"\r\n"
# Control characters (C0, DEL, C1), Unicode line and paragraph separators, and lone
# surrogates: none belongs in a header, whatever the store says.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")
PLAIN_PHRASE_MAX = 60  # a longer ASCII display name is folded as encoded-words too
WORD_BYTES = 42  # UTF-8 bytes per encoded-word: "=?utf-8?b?" + 56 + "?=" is 68 characters
LINE_MAX = 78  # RFC 5322's "should"; lines longer still hold an unfoldable address or URL


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, and the token of their unsubscribe links."""

    email: str
    name: str
    token: str
    key: str  # what makes the Message-ID unique for this recipient


def unsubscribe_url(settings: NewsletterSettings, token: str) -> str:
    """The page that unsubscribes the holder of `token` (the visible link and header)."""
    return f"{settings.base_url.rstrip('/')}/unsubscribe/{quote(token, safe='')}"


def list_id(settings: NewsletterSettings) -> str:
    """RFC 2919 List-Id: `AI Paper Digest <ai-paper-digest.digest.example.org>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", settings.title_en.lower()).strip("-") or "newsletter"
    host = urlsplit(settings.base_url).hostname or sender_domain(settings)
    return _name_addr("List-Id", settings.title_en, f"{slug}.{host}")


def sender_domain(settings: NewsletterSettings) -> str:
    address = email.utils.parseaddr(settings.from_)[1]
    return address.rpartition("@")[2] or "localhost"


class MessageTemplate:
    """One edition of an issue, ready to be personalised many times."""

    def __init__(
        self,
        settings: NewsletterSettings,
        issue: int,
        subject: str,
        html: str,
        text: str,
        signer: Signer | None = None,
    ) -> None:
        self.settings = settings
        self.issue = issue
        self.sender = email.utils.parseaddr(settings.from_)[1]
        self.domain = sender_domain(settings)
        mailto = settings.unsubscribe_mailto or self.sender
        self.mailto = mailto.removeprefix("mailto:")
        placeholder = UNSUBSCRIBE_PLACEHOLDER.encode()
        self.html = html.encode("utf-8").split(placeholder)
        self.text = text.replace("\n", "\r\n").encode("utf-8").split(placeholder)
        self.html_body = _Base64Body(self.html)
        self.text_body = _Base64Body(self.text)
        # A boundary that cannot occur in base64 or in the headers.
        digest = hashlib.sha256(self.html[0][:4096]).hexdigest()[:24]
        self.boundary = f"=_newsletter_{issue}_{digest}".encode()
        fixed = {
            "From": b"From: " + _header_address(settings.from_).encode(),
            "Subject": b"Subject: " + _encode_subject(subject),
            "MIME-Version": b"MIME-Version: 1.0",
            "List-Id": b"List-Id: " + list_id(settings).encode(),
            "List-Unsubscribe-Post": b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type": b'Content-Type: multipart/alternative;\r\n boundary="'
            + self.boundary
            + b'"',
        }
        self.fixed_headers = CRLF.join(fixed.values())
        # The body in the pieces that do not change between recipients; the two
        # personal base64 tails go between them (see `build`).
        boundary = b"--" + self.boundary
        self.body_start = CRLF.join(
            [boundary, b'Content-Type: text/plain; charset="utf-8"',
             b"Content-Transfer-Encoding: base64", b"", self.text_body.head]
        )  # fmt: skip
        self.body_middle = CRLF.join(
            [b"", boundary, b'Content-Type: text/html; charset="utf-8"',
             b"Content-Transfer-Encoding: base64", b"", self.html_body.head]
        )  # fmt: skip
        self.body_end = CRLF + boundary + b"--" + CRLF
        self.signer = signer
        if signer:
            self.canonical = {name: relaxed_header(field) for name, field in fixed.items()}
            self.body_hash = BodyHash(self.body_start)
            self.canonical_middle = relaxed_body_piece(self.body_middle)
            self.canonical_end = relaxed_body_piece(self.body_end)

    def build(self, recipient: Recipient, date: str | None = None) -> bytes:
        """The whole message for one recipient, as bytes ready for SMTP DATA."""
        link = unsubscribe_url(self.settings, recipient.token).encode()
        mailto = (
            f"mailto:{self.mailto}?subject={quote('unsubscribe ' + recipient.token)}"
        ).encode()
        personal = {
            "To": b"To: " + _recipient_header(recipient).encode(),
            "Date": b"Date: " + (date or email.utils.formatdate(localtime=True)).encode(),
            "Message-ID": b"Message-ID: " + self.message_id(recipient).encode(),
            "List-Unsubscribe": b"List-Unsubscribe: <" + mailto + b">,\r\n <" + link + b">",
        }
        text_tail, html_tail = self.text_body.encode_tail(link), self.html_body.encode_tail(link)
        headers = CRLF.join([*personal.values(), self.fixed_headers])
        if self.signer:
            headers = self._signature(personal, text_tail, html_tail) + CRLF + headers
        return b"".join(
            [headers, CRLF, CRLF, self.body_start, text_tail, self.body_middle, html_tail,
             self.body_end]
        )  # fmt: skip

    def _signature(self, personal: dict[str, bytes], text_tail: bytes, html_tail: bytes) -> bytes:
        """The DKIM-Signature field: the tails are base64 lines, canonical as they are."""
        assert self.signer
        body_hash = self.body_hash.finish(
            [text_tail, self.canonical_middle, html_tail, self.canonical_end]
        )
        fields = {**self.canonical, **{k: relaxed_header(v) for k, v in personal.items()}}
        return self.signer.signature(fields, body_hash)

    def message_id(self, recipient: Recipient) -> str:
        """Unique per issue and recipient, and the same on every retry of that message."""
        return f"<issue-{self.issue}.{header_safe(recipient.key)}@{self.domain}>"


class _Base64Body:
    """A body in base64 whose personal link is filled in per recipient.

    Base64 lines of 76 characters each encode 57 bytes, so everything before the
    first placeholder, up to a multiple of 57 bytes, is encoded once; per recipient
    only the rest is (the unsubscribe link sits in the footer, near the end).
    """

    def __init__(self, parts: list[bytes]) -> None:
        cut = len(parts[0]) // 57 * 57 if len(parts) > 1 else 0
        self.head = _base64(parts[0][:cut]) + CRLF if cut else b""
        self.parts = [parts[0][cut:], *parts[1:]]

    def encode(self, link: bytes) -> bytes:
        return self.head + self.encode_tail(link)

    def encode_tail(self, link: bytes) -> bytes:
        """The personal part: base64 lines after `head`, the last without its CRLF."""
        return _base64(link.join(self.parts))


def _base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, joined by CRLF (RFC 2045)."""
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + 76] for i in range(0, len(encoded), 76))


def header_safe(value: str) -> str:
    """`value` with each run of characters that could break a header line made one space."""
    if value.isprintable():  # the common case, checked in C
        return value
    return _UNSAFE.sub(" ", value)


def _recipient_header(recipient: Recipient) -> str:
    """`Name <addr>` without parsing anything: the address was checked when stored."""
    return _name_addr("To", recipient.name, recipient.email)


def _header_address(value: str) -> str:
    """`Name <addr>` from the configured `from`, the name encoded as a display name."""
    name, address = email.utils.parseaddr(header_safe(value))
    return _name_addr("From", name, address)


def _name_addr(field: str, name: str, address: str) -> str:
    """`phrase <address>` for header `field`, folded before `<` when the line would
    pass 78 characters; the bare address when there is no name."""
    phrase, address = _encode_phrase(header_safe(name).strip()), header_safe(address)
    if not phrase:
        return address
    last_line = f"{field}: {phrase}".rpartition("\n")[2]
    fold = "\r\n" if len(last_line) + len(address) + 3 > LINE_MAX else ""
    return f"{phrase}{fold} <{address}>"


def _encode_subject(subject: str) -> bytes:
    """RFC 2047 for anything beyond ASCII, folded with CRLF (at spaces, for ASCII)."""
    subject = header_safe(subject)
    if subject.isascii() and len(subject) <= LINE_MAX - len("Subject: "):
        return subject.encode()
    charset = "us-ascii" if subject.isascii() else "utf-8"
    return Header(subject, charset, header_name="Subject").encode(linesep="\r\n").encode()


def _encode_phrase(phrase: str) -> str:
    """A display name: bare atoms or a quoted string when short and ASCII, else RFC 2047
    encoded-words, one per line (folded with CRLF and a space)."""
    if phrase.isascii() and len(phrase) <= PLAIN_PHRASE_MAX:
        if _ATOMS.fullmatch(phrase) and "=?" not in phrase:  # else it could read as RFC 2047
            return phrase
        return '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "\r\n ".join(_encoded_words(phrase))


def _encoded_words(text: str) -> list[str]:
    """`text` as base64 encoded-words of whole characters (RFC 2047 section 5)."""
    data, words, start = text.encode("utf-8"), [], 0
    while start < len(data):
        end = min(start + WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode()}?=")
        start = end
    return words
