"""What a bounce or complaint does to a subscriber, once it is proven to be theirs.

One policy for both ways the news arrives: a mail that comes back to the inbox
later (`inbox` proves whose it is, then calls `act`), and a server that refuses a
recipient while `send` talks to it (`refused_at_send`: the reply read with the
same reasons). Each act is one row of `bounce_events`, by the verdict of its reason
(`reasons.py`):

- `dead`: the subscriber is marked bounced after this one proven bounce;
- `soft`: `bounces.soft_limit` in a row, with no clean issue between, do that;
- `refused`: the receiver refused *us*: recorded for their domain, counted against
  no one (`inbox` and `status` report it as the sending side's problem);
- `complaint`, `unsubscribe`: unsubscribed at once;
- `none`, `unknown`: nothing here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from newsletter.audience.reasons import reason_for, verdict_of
from newsletter.core.model import Subscriber
from newsletter.mail.replies import status_in_reply
from newsletter.store import bounces, subscribers

ACTING = ("dead", "soft", "refused", "complaint", "unsubscribe")
EVENT_KINDS = {
    "dead": "hard",
    "soft": "soft",
    "refused": "refused",
    "complaint": "complaint",
    "unsubscribe": "unsubscribe",
}


@dataclass(frozen=True)
class DeliveryFailure:
    """What a server said of one delivery: its reason (`reasons.py`), the enhanced
    status code, and its words as recorded."""

    reason: str
    status: str = ""
    diagnostic: str = ""


def refused_at_send(
    db: sqlite3.Connection, person: Subscriber, issue: int | None, reply: str, soft_limit: int
) -> str:
    """A refusal of one recipient during the send: read as a bounce would be."""
    status = status_in_reply(reply) or ("4.0.0" if reply[:1] == "4" else "5.0.0")
    reason = reason_for(status, reply)
    failure = DeliveryFailure(reason, status, f"at send time: {reply}")
    return act(db, person, issue, failure, soft_limit, proof="send")


def act(
    db: sqlite3.Connection,
    person: Subscriber,
    issue: int | None,
    failure: DeliveryFailure,
    soft_limit: int,
    proof: str,
    message_sha256: str = "",
) -> str:
    """Record the event and change the subscriber's status; say what was done (a dry
    run writes too: its transaction is rolled back, and its summary says "would")."""
    verdict = verdict_of(failure.reason)
    domain = domain_of(person.email)
    bounces.record(
        db,
        bounces.Event(
            person.id,
            issue,
            EVENT_KINDS[verdict],
            failure.reason,
            domain,
            proof,
            failure.status,
            failure.diagnostic,
            message_sha256,
        ),
    )
    if verdict in ("complaint", "unsubscribe"):
        subscribers.set_unsubscribed(db, person.id)
        return "already unsubscribed" if person.status == "unsubscribed" else "unsubscribed"
    if verdict == "refused":
        return f"counted a refusal by {domain}, not against the subscriber"
    if verdict == "dead":
        return "marked bounced" if subscribers.set_bounced(db, person.id) else "recorded"
    streak = bounces.soft_streak(db, person.id, issue)
    effect = f"soft bounce {streak} of {soft_limit} in a row"
    if streak >= soft_limit and subscribers.set_bounced(db, person.id):
        effect += ": marked bounced"
    return effect


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()
