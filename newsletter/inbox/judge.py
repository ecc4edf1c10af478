"""What a mail does to the list, once it is proven to answer a message we sent.

Proof (`prove`): the subscriber's token in the VERP address the mail came back to,
else the Message-ID of the copy we sent them (a keyed hash, found through the
ledger), else their token in the enclosed copy's links. An address the mail names
is never proof: a mail with no proof changes nothing and is left for a person,
listed as unverified with the addresses it claims to be about.

Then the bounce policy (`audience/bounce_policy.py`) acts on its verdict. A
`none` (a delivery report, a delay, an auto-reply) is put aside, and an `unknown`
is left for a person to read.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from newsletter.audience.bounce_policy import ACTING, DeliveryFailure, act, domain_of
from newsletter.core.model import Subscriber
from newsletter.inbox.classify import Reading
from newsletter.store import bounces, deliveries, subscribers


@dataclass(frozen=True)
class Proof:
    """Whom a mail is about, how we know (`verp`, `message_id`, `token`), and the
    issue its Message-ID names when it has one of ours."""

    subscriber: Subscriber
    how: str
    issue: int | None = None


@dataclass(frozen=True)
class Action:
    """What became of one mail. `put_aside`: it leaves the inbox (handled); else it
    stays for a person to read."""

    message: str
    kind: str
    reason: str
    verdict: str
    effect: str
    put_aside: bool
    subscriber: str = ""
    proof: str = ""
    status: str = ""
    domain: str = ""
    named: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "message": self.message,
            "kind": self.kind,
            "reason": self.reason,
            "verdict": self.verdict,
            "status": self.status,
            "subscriber": self.subscriber,
            "proof": self.proof,
            "domain": self.domain,
            "effect": self.effect,
            **({"named": list(self.named)} if self.named else {}),
        }


def prove(db: sqlite3.Connection, reading: Reading) -> Proof | None:
    """The subscriber a mail is proven to be about, or None (see the docstring)."""
    evidence = reading.evidence
    by_message_id = _by_message_id(db, evidence.message_ids)
    person = _by_token(db, evidence.verp)
    if person is not None:
        named = (
            by_message_id if by_message_id and by_message_id.subscriber.id == person.id else None
        )
        return Proof(person, "verp", named.issue if named else None)
    if by_message_id is not None:
        return by_message_id
    person = _by_token(db, evidence.tokens)
    return Proof(person, "token") if person is not None else None


def _by_token(db: sqlite3.Connection, tokens: list[str]) -> Subscriber | None:
    for token in tokens:
        person = subscribers.find_by_token(db, token)
        if person is not None:
            return person
    return None


def judge(
    db: sqlite3.Connection,
    reading: Reading,
    message: str,
    soft_limit: int,
    message_sha256: str = "",
) -> Action:
    """Decide and act; the caller's transaction holds the writes (and rolls them
    back in a dry run)."""
    verdict = reading.verdict
    if verdict == "none":
        return _action(reading, message, "nothing to do", put_aside=True)
    proof = prove(db, reading)
    if proof is None or verdict not in ACTING:
        effect = "left for a person" if verdict == "unknown" else "unverified: left for a person"
        named = tuple(reading.evidence.addresses[:5])
        return _action(reading, message, effect, put_aside=False, proof=proof, named=named)
    issue = _issue(db, proof)
    failure = DeliveryFailure(reading.reason, reading.status, reading.diagnostic)
    effect = act(db, proof.subscriber, issue, failure, soft_limit, proof.how, message_sha256)
    return _action(reading, message, effect, put_aside=True, proof=proof)


def _action(
    reading: Reading,
    message: str,
    effect: str,
    put_aside: bool,
    proof: Proof | None = None,
    named: tuple[str, ...] = (),
) -> Action:
    about = proof.subscriber.email if proof else ""
    return Action(
        message,
        reading.kind,
        reading.reason,
        reading.verdict,
        effect,
        put_aside,
        subscriber=about,
        proof=proof.how if proof else "",
        status=reading.status,
        domain=domain_of(about) if about else "",
        named=named,
    )


def _by_message_id(db: sqlite3.Connection, message_ids: list[str]) -> Proof | None:
    for message_id in message_ids:
        found = deliveries.find_by_message_id(db, message_id)
        if found is None:
            continue
        subscriber, issue = found
        person = subscribers.by_id(db, subscriber)
        if person is not None:
            return Proof(person, "message_id", issue)
    return None


def _issue(db: sqlite3.Connection, proof: Proof) -> int | None:
    """The issue the mail's Message-ID names, if any; else their latest."""
    if proof.issue is not None:
        return proof.issue
    return bounces.last_sent_issue(db, proof.subscriber.id)
