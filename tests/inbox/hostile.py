"""Mail that is not mail: what the return path receives from broken or hostile
senders, each with the reason `newsletter inbox` gives when it sets it aside."""

from __future__ import annotations

import random

BIG = 12_000_000
"""Bytes of the large mail: over the default `inbox.max_size` (10 MB)."""

BOUNDARY = b"7C1A2B3C4D.1721034130/mx1.example.net"  # dsn-hard-5.1.1.eml's


def nested(depth: int) -> bytes:
    """A multipart inside a multipart, `depth` deep."""
    levels = [
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    ]
    head = b"From: nest@example.net\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    return head + b"".join(levels) + b"Content-Type: text/plain\r\n\r\nbottom\r\n"


def garbage() -> bytes:
    """Random bytes with no NUL in them (so what gives them away is the rest)."""
    draw = random.Random(7)
    return bytes(draw.randrange(1, 256) for _ in range(4096))


HOSTILE = {
    "no-from": (
        b"To: bounces@example.org\r\nSubject: who sent this?\r\n\r\nhello\r\n",
        "it has no From: header",
    ),
    "garbage": (garbage(), "its headers are binary, not text"),
    "nested": (nested(5000), "MIME nested more than 20 levels deep"),
    "nul": (b"From: a@example.net\r\nSubject: a\0b\r\n\r\nhello\r\n", "NUL bytes in its headers"),
    "report-without-boundary": (
        b"From: MAILER-DAEMON@example.net\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--x--\r\n",
        "a multipart/report part with no boundary",
    ),
    "one-12-MB-line": (
        b"X-Filler: " + b"x" * BIG + b"\r\nFrom: big@example.net\r\n\r\nhi\r\n",
        "no line end in its first 10000000 bytes",
    ),
}
"""Each hostile mail and the reason it is set aside (with the default max_size)."""


def with_attachment(dsn: bytes, size: int) -> bytes:
    """A DSN of dsn-hard-5.1.1.eml with a `size`-byte attachment as its last part."""
    line = b"QUJD" * 19 + b"\r\n"
    part = (
        b"--" + BOUNDARY + b"\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + line * (size // len(line))
    )
    closing = b"--" + BOUNDARY + b"--"
    assert closing in dsn
    return dsn.replace(closing, part + closing)
