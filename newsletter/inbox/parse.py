"""A mail's bytes to an `email.message.Message`, or one line saying why it cannot be read.

The return path takes mail from anyone: a mail with no `From:`, binary garbage, MIME
nested thousands deep or a 50 MB attachment must not stop the run (and, as the mail
stays where it is, every run after it). `parse` is the one place the inbox hands
bytes to the standard library's parser; it answers a `Message` or raises
`Unreadable`, never anything else, and the inbox sets such a mail aside.

A mail over `max_size` bytes is judged by its start: the first `max_size` bytes, cut
at a line end (the headers and the first parts, which is where a bounce or a report
says what it is). Nesting is measured before the parser sees the mail (the parser
recurses once a level) and again, without recursion, on what it built.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

from newsletter.core.errors import NewsletterError

MAX_DEPTH = 20
"""MIME levels a mail may have (a bounce of a forwarded report is about six)."""

HEADER_SCAN = 256 * 1024
"""Bytes of the header block looked at for binary garbage."""

_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_MIME_LINE = re.compile(
    rb"^--([^\r\n]{1,200}?)(--)?[ \t]*\r?$"  # a boundary line, maybe the closing one
    rb'|boundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))',  # a multipart's
    re.IGNORECASE | re.MULTILINE,
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Unreadable(NewsletterError):
    """A mail the inbox cannot read; `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(raw: bytes, max_size: int) -> Message:
    """`raw` (its first `max_size` bytes) as a `Message`; `Unreadable` if it is not a mail."""
    if len(raw) > max_size:
        cut = raw.rfind(b"\n", 0, max_size)
        if cut < 0:
            raise Unreadable(f"no line end in its first {max_size} bytes")
        raw = raw[: cut + 1]
    headers = _header_block(raw)
    _check_text(headers)
    if _nesting(raw) > MAX_DEPTH:
        raise Unreadable(f"MIME nested more than {MAX_DEPTH} levels deep")
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        raise Unreadable(f"MIME nested more than {MAX_DEPTH} levels deep") from None
    except Exception as error:  # the parser's own failure on odd input; not MemoryError
        raise Unreadable(f"the parser failed: {_said(error)}") from None
    _check_message(msg)
    return msg


def _header_block(raw: bytes) -> bytes:
    """The bytes before the first empty line; the whole mail may not be all header."""
    end = _END_OF_HEADERS.search(raw, 0, HEADER_SCAN + 4)
    if end is not None:
        return raw[: end.start()]
    if len(raw) > HEADER_SCAN:
        raise Unreadable(f"its header block runs past {HEADER_SCAN} bytes")
    return raw


def _check_text(headers: bytes) -> None:
    """Headers are text: no NUL, and not mostly bytes that no text is made of."""
    if not headers.strip():
        raise Unreadable("it has no headers")
    if b"\0" in headers:
        raise Unreadable("NUL bytes in its headers")
    text = headers.decode("utf-8", "replace")
    odd = text.count("\ufffd") + len(_CONTROL.findall(headers))
    if odd * 10 > len(text):
        raise Unreadable("its headers are binary, not text")


def _nesting(raw: bytes) -> int:
    """How deep the multiparts declared in `raw` nest: a stack of open boundaries,
    each `--boundary` line closing what was opened inside that part."""
    if b"oundary" not in raw and b"OUNDARY" not in raw:
        return 0
    stack: list[bytes] = []
    deepest = 0
    for found in _MIME_LINE.finditer(raw):
        mark, closing, quoted, bare = found.groups()
        if mark is None:
            stack.append(quoted if quoted is not None else bare)
            deepest = max(deepest, len(stack))
            continue
        if mark in stack:
            at = len(stack) - 1 - stack[::-1].index(mark)
            del stack[at + (0 if closing else 1) :]
    return deepest


def _check_message(msg: Message) -> None:
    """What the parser built: a From, headers that read as text, multiparts with a
    boundary, no deeper than `MAX_DEPTH` (walked with a list, not recursion)."""
    try:
        if not any(str(value).strip() for value in msg.get_all("From", [])):
            raise Unreadable("it has no From: header")
        pending: list[tuple[Message, int]] = [(msg, 1)]
        while pending:
            part, depth = pending.pop()
            if depth > MAX_DEPTH:
                raise Unreadable(f"MIME nested more than {MAX_DEPTH} levels deep")
            for value in part.values():
                str(value)
            maintype = part.get_content_maintype()
            if maintype == "multipart" and part.get_boundary() is None:
                raise Unreadable(f"a {part.get_content_type()} part with no boundary")
            payload = part.get_payload()
            if isinstance(payload, list):
                pending += [(inner, depth + 1) for inner in payload if isinstance(inner, Message)]
    except Unreadable:
        raise
    except Exception as error:
        raise Unreadable(f"its headers cannot be read: {_said(error)}") from None


def _said(error: Exception) -> str:
    said = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {said}" if said else type(error).__name__
