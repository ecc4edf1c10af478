"""What a mail does to the list: a hard bounce or `soft_limit` soft bounces in a
row mark the address bounced; a complaint or an unsubscribe reply unsubscribes at
once; each of these is recorded in `bounce_events`. An auto-reply does nothing.

A server that refuses a recipient while we send (a 5xx to RCPT) is the same news
as a bounce that comes back later, so the send records it here too
(`refused_at_send`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from newsletter.inbox.classify import STATUS, Verdict
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
    issue = _issue(db, verdict, person.id)
    effect = act(db, person, issue, verdict, sha256, soft_limit)
    return Action(verdict.kind, person.email, effect, verdict.status)


def refused_at_send(
    db: sqlite3.Connection, person: Subscriber, issue: int, reply: str, soft_limit: int
) -> str:
    """A 5xx about the recipient during the send: the bounce that would have come back.

    Its enhanced status code (RFC 3463) decides, as a DSN's does: a full mailbox
    (5.2.2, which RFC 3463 calls a persistent but maybe passing condition) is soft;
    everything else, "no such user" first of all, is hard.
    """
    found = STATUS.search(reply)
    status = found.group(0) if found and found.group(1) == "5" else "5.0.0"
    kind = "soft" if status == "5.2.2" else "hard"
    verdict = Verdict(kind, status=status, diagnostic=f"at send time: {reply}")
    return act(db, person, issue, verdict, "", soft_limit)


def act(
    db: sqlite3.Connection, person: Subscriber, issue: int | None, verdict: Verdict,
    sha256: str, soft_limit: int,
) -> str:  # fmt: skip
    """Record the event and change the subscriber's status; say what was done."""
    bounces.record(db, person.id, issue, verdict.kind, verdict.status, verdict.diagnostic, sha256)
    if verdict.kind in ("complaint", "unsubscribe"):
        subscribers.set_unsubscribed(db, person.id)
        return "unsubscribed" if person.status != "unsubscribed" else "already unsubscribed"
    if verdict.kind == "hard":
        return "marked bounced" if subscribers.set_bounced(db, person.id) else "recorded"
    streak = bounces.soft_streak(db, person.id, issue)
    effect = f"soft bounce {streak} of {soft_limit} in a row"
    if streak >= soft_limit and subscribers.set_bounced(db, person.id):
        effect += ": marked bounced"
    return effect


def _issue(db: sqlite3.Connection, verdict: Verdict, subscriber: int) -> int | None:
    """The issue the mail names, if this subscriber was sent it; else their latest."""
    if verdict.issue is not None and bounces.was_sent(db, subscriber, verdict.issue):
        return verdict.issue
    return bounces.last_sent_issue(db, subscriber)
