"""What a mail does to the list: a hard bounce or `soft_limit` soft bounces in a
row mark the address bounced; a complaint or an unsubscribe reply unsubscribes at
once; each of these is recorded in `bounce_events`. An auto-reply does nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from newsletter.inbox.classify import Verdict
from newsletter.model import Subscriber
from newsletter.store import bounces, subscribers


@dataclass(frozen=True)
class Action:
    """What was done about one mail (`kind` from the verdict; `subscriber` is their
    address, empty when no one matched)."""

    kind: str
    subscriber: str
    effect: str
    status: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "subscriber": self.subscriber, "effect": self.effect,
                "status": self.status}  # fmt: skip


def whom(db: sqlite3.Connection, verdict: Verdict) -> Subscriber | None:
    """The subscriber a mail is about: by token first (VERP, List-Unsubscribe, the
    subject), then by the addresses it names."""
    for token in verdict.tokens:
        found = subscribers.find_by_token(db, token)
        if found:
            return found
    for address in verdict.addresses:
        found = subscribers.find(db, address)
        if found:
            return found
    return None


def apply(db: sqlite3.Connection, verdict: Verdict, sha256: str, soft_limit: int) -> Action:
    """Act on a recognised mail about a known subscriber (see the module's docstring)."""
    person = whom(db, verdict)
    assert person is not None
    issue = bounces.last_sent_issue(db, person.id)
    bounces.record(db, person.id, issue, verdict.kind, verdict.status, verdict.diagnostic, sha256)
    if verdict.kind in ("complaint", "unsubscribe"):
        subscribers.set_unsubscribed(db, person.id)
        effect = "unsubscribed" if person.status != "unsubscribed" else "already unsubscribed"
    elif verdict.kind == "hard":
        effect = "marked bounced" if subscribers.set_bounced(db, person.id) else "recorded"
    else:
        streak = bounces.soft_streak(db, person.id)
        effect = f"soft bounce {streak} of {soft_limit} in a row"
        if streak >= soft_limit and subscribers.set_bounced(db, person.id):
            effect += ": marked bounced"
    return Action(verdict.kind, person.email, effect, verdict.status)
