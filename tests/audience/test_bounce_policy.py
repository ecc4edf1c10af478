"""The bounce policy at its library API: what each verdict does to a subscriber,
on a real SQLite file, the same whether the news came back to the inbox or was a
refusal while `send` talked to the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.audience import subscribers
from newsletter.audience.bounce_policy import DeliveryFailure, act, refused_at_send
from newsletter.store import Store
from newsletter.store import subscribers as rows


def status_after(
    tmp_path: Path, *failures: DeliveryFailure, soft_limit: int = 3
) -> tuple[str, list[str]]:
    """Ann's status after each failure acted on in turn, and what each act said."""
    with Store.open(tmp_path / "list.db") as store:
        ann = subscribers.activate(store, "ann@example.org")
        effects = []
        for failure in failures:
            with store.transaction() as db:
                effects.append(act(db, ann, None, failure, soft_limit, proof="verp"))
        person = rows.by_id(store.db, ann.id)
        assert person is not None
        return person.status, effects


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("user_unknown", "bounced"),
        ("feedback", "unsubscribed"),
        ("unsubscribe", "unsubscribed"),
        ("blocked", "active"),
        ("mailbox_full", "active"),
    ],
)
def test_one_proven_failure_does_what_its_verdict_says(
    tmp_path: Path, reason: str, status: str
) -> None:
    assert status_after(tmp_path, DeliveryFailure(reason, "5.0.0"))[0] == status


def test_soft_bounces_mark_bounced_only_at_the_limit(tmp_path: Path) -> None:
    full = DeliveryFailure("mailbox_full", "4.2.2", "552 4.2.2 mailbox full")
    status, effects = status_after(tmp_path, full, full, full, soft_limit=3)
    assert status == "bounced"
    assert effects[0] == "soft bounce 1 of 3 in a row"
    assert effects[-1] == "soft bounce 3 of 3 in a row: marked bounced"


def test_a_refusal_names_the_receiving_domain_and_counts_against_no_one(tmp_path: Path) -> None:
    status, [effect] = status_after(
        tmp_path, DeliveryFailure("blocked", "5.7.1", "listed on Spamhaus")
    )
    assert (status, effect) == (
        "active",
        "counted a refusal by example.org, not against the subscriber",
    )


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown", "bounced"),
        ("554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", "active"),
        ("452 4.2.2 Mailbox full", "active"),
    ],
)
def test_a_refusal_at_send_time_reads_the_reply_as_a_bounce_would_be(
    tmp_path: Path, reply: str, status: str
) -> None:
    with Store.open(tmp_path / "list.db") as store:
        ann = subscribers.activate(store, "ann@example.org")
        with store.transaction() as db:
            refused_at_send(db, ann, None, reply, soft_limit=3)
        person = rows.by_id(store.db, ann.id)
        assert person is not None and person.status == status
