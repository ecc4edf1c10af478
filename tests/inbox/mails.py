"""The fixture mails of tests/data/mail/, made about a subscriber, and what became
of the subscribers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ledger

MAIL = Path(__file__).parent.parent / "data" / "mail"


def fixture_mail(
    name: str, token: str, address: str, n: int = 1, issue: int = 1, message_id: str | None = None
) -> bytes:
    """One of our fixture mails, about the subscriber with this token and address; `n`
    makes it another mail. Its copy of our message carries `message_id` (a genuine one:
    `tests.helpers.message_id_for`), else the old guessable `<issue-N.abc@…>` form
    naming `issue`."""
    text = (MAIL / name).read_text()
    text = text.replace("{{token}}", token).replace("{{address}}", address)
    text = text.replace("{{message_id}}", message_id or f"<issue-{issue}.abc@example.org>")
    text = text.replace("{{n}}", str(n)).replace("{{issue}}", str(issue))
    return text.replace("\n", "\r\n").encode()


def status_of(workspace: Path) -> dict[str, str]:
    return dict(ledger(workspace, "SELECT email, status FROM subscribers"))  # type: ignore[arg-type]


BULK = ("dsn-hard-5.1.1.eml", "vacation.eml", "human-reply.eml", "dsn-soft-4.2.2.eml")


def bulk_mails(count: int) -> Iterator[bytes]:
    """`count` different mails, copies of the fixtures about no one on the list (each
    a Message-ID of its own): each one is read, classified and remembered."""
    for n in range(count):
        raw = fixture_mail(BULK[n % len(BULK)], f"N0b0dy{n:08d}", f"nobody{n}@example.net", n=n)
        yield re.sub(
            rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: <bulk-%d@example.net>" % n, raw, count=1
        )
