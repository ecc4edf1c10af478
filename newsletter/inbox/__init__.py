"""Stage 7, the return path: a mailbox in, changes to the list out.

`inbox` takes the mail that comes back to the newsletter (bounces sent to the
VERP envelope sender, complaint reports, replies to the `mailto:` unsubscribe
link) from a `Source` (`read.py`: Maildir, mbox; `imap.py`), reads each one
(`parse.py`), decides what it is (`classify.py`), and acts on the subscriber it
names (`policy.py`): a hard bounce marks them bounced, soft bounces do after
`bounces.soft_limit` in a row, a complaint or an unsubscribe reply unsubscribes
them. It gives out a `Summary` (`report.py`) of what it did.

Each mail is read, parsed and classified outside any transaction; only its
effects are written, in a short transaction of its own, so `serve` and `send`
never wait long on the inbox. Every mail read is remembered by a SHA-256 of its
bytes: a handled one is then moved aside (Maildir `.processed`, the IMAP processed
folder), an unreadable one set aside (`.failed`, the failed folder), and mail it
does not understand stays where it is for a person, counted each run without
being parsed again. Running it again changes nothing.
"""

from __future__ import annotations

from email.message import Message

from newsletter.inbox.classify import Verdict, classify
from newsletter.inbox.parse import Unreadable, parse
from newsletter.inbox.policy import apply, whom
from newsletter.inbox.read import Mail, Source, open_source
from newsletter.inbox.report import Failure, Summary
from newsletter.store import Store, bounces

__all__ = ["Source", "Summary", "open_source", "process"]
ACTED_ON = ("hard", "soft", "complaint", "unsubscribe")


def process(store: Store, source: Source, soft_limit: int, dry_run: bool = False) -> Summary:
    """Read every mail of `source` and act on it; with `dry_run`, say what would be
    done and leave the store and the mailbox as they were.

    Each mail's effects are committed before it is moved, so a crash in between
    leaves a mail the store already knows (`already_handled` next time, and moved then).
    """
    summary = Summary(source.name, dry_run)
    for mail in source.mails():
        summary.counts[_one(store, source, mail, soft_limit, summary)] += 1
    return summary


def _one(store: Store, source: Source, mail: Mail, soft_limit: int, summary: Summary) -> str:
    """Handle one mail; say what it was (a key of `Summary.counts`)."""
    known = bounces.outcome(store.db, mail.sha256)
    if known is not None:
        return _again(source, mail, known, summary.dry_run)
    try:
        verdict = _understand(mail, source.max_size)
    except Unreadable as error:
        return _unreadable(store, source, mail, error.reason, summary)
    with store.transaction(commit=not summary.dry_run) as db:
        known = bounces.outcome(db, mail.sha256)  # another run may have read it meanwhile
        if known is None:
            if verdict.kind == "autoreply":
                outcome = "autoreply"
            elif verdict.kind not in ACTED_ON or whom(db, verdict) is None:
                outcome = "not_understood"  # not ours to guess: a person reads it
            else:
                outcome = verdict.kind
                summary.acted(apply(db, verdict, mail.sha256, soft_limit))
            bounces.mark_seen(db, mail.sha256, outcome)
    if known is not None:
        return _again(source, mail, known, summary.dry_run)
    if outcome != "not_understood" and not summary.dry_run:
        source.done(mail)
    return outcome


def _understand(mail: Mail, max_size: int) -> Verdict:
    """Parse and classify, outside any transaction. A mail that breaks the classifier
    is unreadable too: one odd mail must not stop every run."""
    message: Message = parse(mail.raw, max_size)
    try:
        return classify(message)
    except Exception as error:
        name = type(error).__name__
        raise Unreadable(f"it could not be classified: {name}: {error}"[:300]) from None


def _unreadable(store: Store, source: Source, mail: Mail, reason: str, summary: Summary) -> str:
    """Remember it as failed (so no run trips on it again), then set it aside."""
    summary.failed.append(Failure(mail.key, reason))
    if not summary.dry_run:
        with store.transaction() as db:
            bounces.mark_seen(db, mail.sha256, "failed")
        source.set_aside(mail, reason)
    return "failed"


def _again(source: Source, mail: Mail, known: str, dry_run: bool) -> str:
    """A mail read before: left for a person (counted again), or handled or set aside
    and still here because its move failed (moved now)."""
    if known == "not_understood":
        return known
    if not dry_run:
        if known == "failed":
            source.set_aside(mail, "set aside before")
        else:
            source.done(mail)
    return "already_handled"
