"""Stage 7, the return path: a mailbox in, changes to the list out.

`inbox` takes the mail that comes back to the newsletter (bounces sent to the
VERP envelope sender, complaint reports, replies to the `mailto:` unsubscribe
link) from a `Source` (`read.py`: Maildir, mbox; `imap.py`), decides what each
mail is (`classify.py`), and acts on the subscriber it names (`policy.py`): a
hard bounce marks them bounced, soft bounces do after `bounces.soft_limit` in a
row, a complaint or an unsubscribe reply unsubscribes them. It gives out a
`Summary` of what it did. Each handled mail is remembered (and, in a Maildir,
moved to `.processed`; over IMAP, to the processed folder), so running it again
changes nothing; mail it does not understand stays where it is for a person to read.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from newsletter.inbox.classify import classify
from newsletter.inbox.mime import header
from newsletter.inbox.policy import ACTING, Action, judge
from newsletter.inbox.read import Mail, Source, open_source
from newsletter.store import Store, bounces

__all__ = ["Source", "Summary", "open_source", "process"]


@dataclass
class Summary:
    """What one run found and did; `not_understood` mails were left in place."""

    source: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    actions: list[Action] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "dry_run": self.dry_run,
                "counts": dict(sorted(self.counts.items())),
                "actions": [action.to_json() for action in self.actions]}  # fmt: skip

    def line(self) -> str:
        order = ("dead", "soft", "refused", "complaint", "unsubscribe", "none", "unverified",
                 "not_understood", "already_handled")  # fmt: skip
        said = ", ".join(f"{self.counts[k]} {k.replace('_', ' ')}" for k in order if self.counts[k])
        return f"{'would handle' if self.dry_run else 'handled'}: {said or 'no mail'}"


def process(store: Store, source: Source, soft_limit: int, dry_run: bool = False) -> Summary:
    """Read every mail of `source` and act on it; with `dry_run`, say what would be
    done and leave the store and the mailbox as they were.

    The store is written in one transaction; only after it commits are the handled
    mails put aside, so a crash in between leaves mails the store already knows
    (`already_handled` next time, and put aside then).
    """
    summary = Summary(source.name, dry_run)
    handled: list[Mail] = []
    with store.transaction(commit=not dry_run) as db:
        for mail in source.mails():
            outcome = _one(db, mail, soft_limit, summary)
            summary.counts[outcome] += 1
            if outcome != "not_understood":
                handled.append(mail)
    if not dry_run:
        for mail in handled:
            source.done(mail)
    return summary


def _one(db: sqlite3.Connection, mail: Mail, soft_limit: int, summary: Summary) -> str:
    """Handle one mail; say what it was (a key of `Summary.counts`)."""
    sha256 = mail.sha256
    if bounces.seen(db, sha256):
        return "already_handled"
    msg = email.message_from_bytes(mail.raw, policy=email.policy.compat32)
    reading = classify(msg)
    message = header(msg, "Message-ID") or mail.key
    action = judge(db, reading, message, soft_limit, summary.dry_run, sha256)
    summary.actions.append(action)
    if not action.put_aside:
        return "unverified" if action.verdict in ACTING else "not_understood"
    bounces.mark_seen(db, sha256, action.verdict)
    return action.verdict
