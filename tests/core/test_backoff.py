"""One back-off for every loop that retries: the numbers each caller waits, with its
default settings, are those it waited before the formula had one owner."""

from __future__ import annotations

import threading

from newsletter.config import ArxivSettings, load_config
from newsletter.core import backoff
from newsletter.enrich.client import ArxivClient
from newsletter.mail.outbox import MAX_DELAY, Sender
from newsletter.send.workers import RETRY_WAIT_CAP
from newsletter.store.outbox import OutboxMessage


def test_the_delay_doubles_from_the_base_up_to_the_cap() -> None:
    assert [backoff.delay(n, 2.0) for n in range(1, 5)] == [2.0, 4.0, 8.0, 16.0]
    assert [backoff.delay(n, 2.0, 10.0) for n in range(1, 5)] == [2.0, 4.0, 8.0, 10.0]
    assert backoff.delay(0, 2.0) == 2.0  # before any failed try: the base
    assert backoff.delay(0, 0.0) == backoff.delay(9, 0.0) == 0.0
    assert backoff.delay(100_000, 2.0, 300.0) == 300.0  # no OverflowError


def test_a_delivery_waits_between_its_smtp_tries() -> None:
    """send/workers.py: `smtp.retries` (3) tries after the first, from `smtp.retry_delay`
    (2 s); with the largest settings (10 tries from 300 s) each wait stops at 10
    minutes, 1.6 hours in all rather than 42."""
    smtp = load_config().smtp
    assert (smtp.retries, smtp.retry_delay) == (3, 2.0)
    waits = [backoff.delay(n, smtp.retry_delay, RETRY_WAIT_CAP) for n in range(1, 4)]
    assert waits == [2.0, 4.0, 8.0]
    largest = [backoff.delay(n, 300.0, RETRY_WAIT_CAP) for n in range(1, 11)]
    assert largest == [300.0] + [600.0] * 9 and sum(largest) == 5700.0


def test_an_outbox_message_waits_up_to_five_minutes() -> None:
    sender = Sender(load_config(), threading.Event(), clock=lambda: 1000.0)
    try:
        waits = [sender.retry_at(_message(attempts)) - 1000.0 for attempts in range(0, 11)]
    finally:
        sender.close()
    assert MAX_DELAY == 300.0
    assert waits == [2.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]


def test_the_arxiv_client_waits_or_does_what_the_server_asks() -> None:
    client = ArxivClient(ArxivSettings(), "test")
    assert [client._pause(n, 0.0) for n in (1, 2, 3)] == [3.0, 6.0, 12.0]
    assert client._pause(1, 20.0) == 20.0  # Retry-After, when longer
    assert client._pause(1, 1000.0) == 30.0  # but not past MAX_RETRY_AFTER


def _message(attempts: int) -> OutboxMessage:
    return OutboxMessage(
        id=1,
        kind="test",
        recipient="reader@example.org",
        recipient_name="",
        subject="",
        text="",
        html=None,
        headers={},
        message_id="<1@example.org>",
        attempts=attempts,
        give_up_at=None,
        claim="c",
    )
