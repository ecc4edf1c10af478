"""`parse`: every mail becomes a `Message` or `Unreadable` with a one-line reason,
whatever its bytes: the hostile mails of hostile.py, a large mail judged by its
start, and fixture mails broken at random."""

from __future__ import annotations

import random

import pytest

from newsletter.inbox.classify import classify
from newsletter.inbox.parse import Unreadable, parse
from tests.inbox.hostile import HOSTILE, with_attachment
from tests.inbox.mails import MAIL, fixture_mail

MAX_SIZE = 10_000_000


@pytest.mark.parametrize(("raw", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_each_hostile_mail_is_unreadable_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(Unreadable) as caught:
        parse(raw, MAX_SIZE)
    assert caught.value.reason == reason
    assert "\n" not in caught.value.reason


def test_a_large_mail_is_judged_by_its_start() -> None:
    dsn = fixture_mail("dsn-hard-5.1.1.eml", "Tok3nOfAnnAbCdEfGhIjKlMn", "ann@example.org")
    big = with_attachment(dsn, 2_000_000)
    message = parse(big, 100_000)
    assert len(message.as_bytes()) < 110_000  # the attachment cut short, not read
    reading = classify(message)
    assert (reading.reason, reading.status) == ("user_unknown", "5.1.1")
    assert reading.evidence.verp == ["Tok3nOfAnnAbCdEfGhIjKlMn"]


def test_a_mail_over_max_size_is_cut_at_a_line_end() -> None:
    raw = b"From: a@example.net\r\nSubject: long\r\n\r\n" + b"0123456789\r\n" * 20
    message = parse(raw, 60)
    assert message.get_payload() == "0123456789\r\n"


def test_broken_fixture_mails_are_messages_or_unreadable() -> None:
    """Fixture mails cut, spliced and sprinkled with bytes: never another exception."""
    seeds = random.Random(11)
    mails = [
        fixture_mail(path.name, "Tok3nOfAnn", "ann@example.org")
        for path in sorted(MAIL.glob("*.eml"))
    ]
    for _ in range(400):
        raw = bytearray(seeds.choice(mails))
        for _ in range(seeds.randrange(1, 6)):
            at = seeds.randrange(len(raw))
            how = seeds.randrange(4)
            if how == 0:
                raw[at] = seeds.randrange(256)
            elif how == 1:
                del raw[at : at + seeds.randrange(200)]
            elif how == 2:
                raw[at:at] = b"\r\n--" + raw[at : at + 30]
            else:
                raw[at:at] = b'\r\nContent-Type: multipart/mixed; boundary="' + raw[at : at + 9]
        try:
            parse(bytes(raw), seeds.choice([200, 2_000, MAX_SIZE]))
        except Unreadable as error:
            assert error.reason and "\n" not in error.reason
