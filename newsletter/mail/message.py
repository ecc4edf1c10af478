"""Build the message each subscriber receives, fast.

An edition is prepared once per send (`MessageTemplate`): its subject encoded per
RFC 2047, its text and HTML parts encoded in 8-bit and in base64 and split at the
personal placeholder (body.py). Per recipient only the headers and the parts' tails
change, and the message is a join of shared bytes and those; `email.message.EmailMessage`
costs five times the SMTP transport per message, so it is used to check messages
(tests, dry runs), not to build them. `mail` builds 8-bit parts when the session's
server offers 8BITMIME (workers.py decides), `build` by default: the dry run's samples
are what such a server gets, readable and diffable in the archive.

Each part carries two personal links, the subscriber's unsubscribe and preferences
pages (the same token under two paths). The message: `multipart/alternative`, the text
part first and the HTML second, UTF-8, with `List-Id`, `List-Unsubscribe` (a `mailto:`
and an `https:` link, each carrying the subscriber's token) and `List-Unsubscribe-Post`
(RFC 8058 one-click).
Its Message-ID is `<tag@domain>`, the tag the ledger made for the delivery
(store/message_ids.py): it proves a bounce's copy is ours and names neither the
issue nor the reader.
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
import functools
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from urllib.parse import urlsplit

from newsletter.config import NewsletterSettings
from newsletter.core import clock, links
from newsletter.core.text import header_safe
from newsletter.mail.body import PLACEHOLDER, PLACEHOLDERS, Links, Part, canonical_lines, encode
from newsletter.mail.dkim import BodyHash, Signer, relaxed_body_piece, relaxed_header
from newsletter.mail.smtp import END_OF_DATA, SmtpMessage, dot_stuffed

CRLF = b"\r\n"
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
    tag: str  # the Message-ID's left part, made by store/message_ids.py


def unsubscribe_url(settings: NewsletterSettings, token: str) -> str:
    """The page that unsubscribes the holder of `token` (the visible link and header)."""
    return links.unsubscribe(settings.base_url, token)


def preferences_url(settings: NewsletterSettings, token: str) -> str:
    """The page where the holder of `token` changes their edition and name (the footer)."""
    return links.preferences(settings.base_url, token)


def list_id(settings: NewsletterSettings) -> str:
    """RFC 2919 List-Id: `AI Paper Digest <ai-paper-digest.digest.example.org>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", settings.title_en.lower()).strip("-") or "newsletter"
    host = urlsplit(settings.base_url).hostname or sender_domain(settings)
    return _name_addr("List-Id", settings.title_en, f"{slug}.{host}")


def sender_domain(settings: NewsletterSettings) -> str:
    address = email.utils.parseaddr(settings.from_)[1]
    return address.rpartition("@")[2] or "localhost"


class MessageTemplate:
    """One edition of an issue, ready to be personalised many times, in 8-bit or base64."""

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
        html_lines, text_lines = canonical_lines(html), canonical_lines(text)
        self.html, self.text = html_lines.split(PLACEHOLDER), text_lines.split(PLACEHOLDER)
        self.boundary = _boundary(issue, html_lines, text_lines)
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
        self.signer = signer
        if signer:
            self.canonical = {name: relaxed_header(field) for name, field in fixed.items()}
        # Each part in base64 and, where it can go so, in 8-bit (body.py), each with the
        # MIME header and the shared head that open it; a recipient's tails go after them.
        self.texts = {
            eightbit: _Section(self.boundary, b"plain", encode(text_lines, False, eightbit), signer)
            for eightbit in (False, True)
        }
        self.htmls = {
            eightbit: _Section(self.boundary, b"html", encode(html_lines, True, eightbit), signer)
            for eightbit in (False, True)
        }
        self.body_end = b"--" + self.boundary + b"--" + CRLF
        self.canonical_end = relaxed_body_piece(self.body_end)

    def build(self, recipient: Recipient, date: str | None = None, eightbit: bool = True) -> bytes:
        """The whole message for one recipient: its parts in 8-bit where they can go so if
        `eightbit`, else in base64."""
        return self._build(recipient, date, eightbit, wire=False)[0]

    def mail(self, recipient: Recipient, eightbit: bool = True) -> SmtpMessage:
        """The message as SMTP DATA carries it; an 8-bit one knows how to build itself
        again in base64 for a session whose server does not offer 8BITMIME (smtp.py)."""
        return self._mail(recipient, clock.mail_date(), eightbit)

    def _mail(self, recipient: Recipient, date: str, eightbit: bool) -> SmtpMessage:
        wire, is_eightbit = self._build(recipient, date, eightbit, wire=True)
        return (
            SmtpMessage(wire, functools.partial(self._mail, recipient, date, False))
            if is_eightbit
            else SmtpMessage(wire)
        )

    def _build(
        self, recipient: Recipient, date: str | None, eightbit: bool, wire: bool
    ) -> tuple[bytes, bool]:
        """The message (`wire`: dot-stuffed and ended for DATA), and whether any part of it
        is 8-bit."""
        link = unsubscribe_url(self.settings, recipient.token).encode()
        preferences = preferences_url(self.settings, recipient.token).encode()
        personal_links = dict(zip(PLACEHOLDERS, (link, preferences), strict=True))
        mailto = links.unsubscribe_mailto(self.mailto, recipient.token).encode()
        personal = {
            "To": b"To: " + _recipient_header(recipient).encode(),
            "Date": b"Date: " + (date or clock.mail_date()).encode(),
            "Message-ID": b"Message-ID: " + self.message_id(recipient).encode(),
            "List-Unsubscribe": b"List-Unsubscribe: <" + mailto + b">,\r\n <" + link + b">",
        }
        text = self.texts[eightbit and self.texts[True].part.fits(personal_links)]
        html = self.htmls[eightbit and self.htmls[True].part.fits(personal_links)]
        headers = CRLF.join([*personal.values(), self.fixed_headers])
        if self.signer:
            headers = self._signature(personal, text, html, personal_links) + CRLF + headers
        headers += CRLF + CRLF
        if wire:  # every piece starts a line: each is dot-stuffed alone, the shared ones once
            pieces = [
                dot_stuffed(headers),
                text.wire,
                text.part.wire_tail(personal_links),
                html.wire,
                html.part.wire_tail(personal_links),
                self.body_end,
                END_OF_DATA,
            ]
        else:
            pieces = [
                headers,
                text.opening,
                text.part.tail(personal_links),
                html.opening,
                html.part.tail(personal_links),
                self.body_end,
            ]
        return b"".join(pieces), text.eightbit or html.eightbit

    def _signature(
        self, personal: dict[str, bytes], text: _Section, html: _Section, links: Links
    ) -> bytes:
        """The DKIM-Signature field: the body hash carried on from the text part's shared
        opening through the personal tails and the shared pieces between them."""
        assert self.signer and text.body_hash
        body_hash = text.body_hash.finish(
            [
                text.part.canonical_tail(links),
                html.canonical,
                html.part.canonical_tail(links),
                self.canonical_end,
            ]
        )
        fields = {**self.canonical, **{k: relaxed_header(v) for k, v in personal.items()}}
        return self.signer.signature(fields, body_hash)

    def message_id(self, recipient: Recipient) -> str:
        """`<tag@domain>`: the tag (store/message_ids.py) is unique per issue and
        recipient, the same on every retry of that message, and tells neither."""
        return f"<{header_safe(recipient.tag)}@{self.domain}>"


class _Section:
    """A part's opening: its boundary line, MIME header and the head every recipient
    shares; canonicalised (and, for the first part, hashed) once when signing."""

    def __init__(self, boundary: bytes, subtype: bytes, part: Part, signer: Signer | None) -> None:
        self.part = part
        self.eightbit = part.encoding == b"8bit"
        self.opening = CRLF.join(
            [
                b"--" + boundary,
                b"Content-Type: text/" + subtype + b'; charset="utf-8"',
                b"Content-Transfer-Encoding: " + part.encoding,
                b"",
                part.head,
            ]
        )
        self.wire = dot_stuffed(self.opening)
        self.body_hash = BodyHash(self.opening) if signer and subtype == b"plain" else None
        self.canonical = relaxed_body_piece(self.opening) if signer else b""


def _boundary(issue: int, *bodies: bytes) -> bytes:
    """A boundary that occurs in no body: "=_" cannot be in base64 nor in the headers, and
    8-bit text would have to hold the hash of itself."""
    digest = hashlib.sha256(b"".join(bodies)).hexdigest()
    boundary = f"=_newsletter_{issue}_{digest[:24]}".encode()
    while any(b"--" + boundary in body for body in bodies):  # never seen; but cheap to be sure
        digest = hashlib.sha256(digest.encode()).hexdigest()
        boundary = f"=_newsletter_{issue}_{digest[:24]}".encode()
    return boundary


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
