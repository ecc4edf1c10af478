"""Stage 7, the return path: a mailbox in, changes to the list out.

`inbox` takes the mail that comes back to the newsletter (bounces sent to the
VERP envelope sender, complaint reports, replies to the `mailto:` unsubscribe
link) from a `MailSource` (`read.py`: Maildir, mbox; `imap.py`), reads each one
(`parse.py`), says what it is and why (`classify.py`: a reason in sisimai's
taxonomy, `reasons.py`, read from the server's words, `diagnostic.py`), and acts
on the subscriber it is proven to be about (`policy.py`, with the proof from
`evidence.py`): a dead address is bounced, soft bounces count, a refusal about us
counts against no one, a complaint or an unsubscribe reply unsubscribes. It gives
out a `Summary` (`report.py`) of what it did.

Each mail is read, parsed and classified outside any transaction; only its
effects are written, in a short transaction of its own, so `serve` and `send`
never wait long on the inbox. Every mail read is remembered by a SHA-256 of its
bytes: a handled one is then moved aside (Maildir `.processed`, the IMAP processed
folder), an unreadable one set aside (`.failed`, the failed folder), and mail left
for a person (not understood, or unproven) stays where it is, counted each run
without being parsed again. Running it again changes nothing.
"""

from __future__ import annotations

from newsletter.audience.bounce_policy import ACTING
from newsletter.inbox.classify import Reading, classify
from newsletter.inbox.judge import judge
from newsletter.inbox.mime import header
from newsletter.inbox.parse import Unreadable, parse
from newsletter.inbox.read import InboxMail, MailSource, open_source
from newsletter.inbox.report import FailedMail, Summary
from newsletter.store import Store, bounces

__all__ = ["MailSource", "Summary", "open_source", "process"]
LEFT_FOR_A_PERSON = ("not_understood", "unverified")


def process(store: Store, source: MailSource, soft_limit: int, dry_run: bool = False) -> Summary:
    """Read every mail of `source` and act on it; with `dry_run`, say what would be
    done and leave the store and the mailbox as they were.

    Each mail's effects are committed before it is moved, so a crash in between
    leaves a mail the store already knows (`already_handled` next time, and moved then).
    """
    summary = Summary(source.name, dry_run)
    for mail in source.mails():
        summary.counts[_one(store, source, mail, soft_limit, summary)] += 1
    return summary


def _one(
    store: Store, source: MailSource, mail: InboxMail, soft_limit: int, summary: Summary
) -> str:
    """Handle one mail; say what it was (a key of `Summary.counts`)."""
    known = bounces.outcome(store.db, mail.sha256)
    if known is not None:
        return _again(source, mail, known, summary.dry_run)
    try:
        reading, message = _understand(mail, source.max_size)
    except Unreadable as error:
        return _unreadable(store, source, mail, error.reason, summary)
    with store.transaction(commit=not summary.dry_run) as db:
        known = bounces.outcome(db, mail.sha256)  # another run may have read it meanwhile
        if known is None:
            action = judge(db, reading, message, soft_limit, mail.sha256)
            outcome = action.verdict if action.put_aside else _left(action.verdict)
            bounces.mark_seen(db, mail.sha256, outcome)
    if known is not None:
        return _again(source, mail, known, summary.dry_run)
    summary.acted(action)
    if action.put_aside and not summary.dry_run:
        source.done(mail)
    return outcome


def _left(verdict: str) -> str:
    """Why a mail stays for a person: it acts, but without proof; or it is a
    person's mail, or one we cannot read."""
    return "unverified" if verdict in ACTING else "not_understood"


def _understand(mail: InboxMail, max_size: int) -> tuple[Reading, str]:
    """Parse and classify, outside any transaction; the reading, and what names the
    mail (its Message-ID, else its key). A mail that breaks the classifier is
    unreadable too: one odd mail must not stop every run."""
    message = parse(mail.raw, max_size)
    try:
        return classify(message), header(message, "Message-ID")[:200] or mail.key
    except Exception as error:
        name = type(error).__name__
        raise Unreadable(f"it could not be classified: {name}: {error}"[:300]) from None


def _unreadable(
    store: Store, source: MailSource, mail: InboxMail, reason: str, summary: Summary
) -> str:
    """Remember it as failed (so no run trips on it again), then set it aside."""
    summary.failed.append(FailedMail(mail.key, reason))
    if not summary.dry_run:
        with store.transaction() as db:
            bounces.mark_seen(db, mail.sha256, "failed")
        source.set_aside(mail, reason)
    return "failed"


def _again(source: MailSource, mail: InboxMail, known: str, dry_run: bool) -> str:
    """A mail read before: left for a person (counted again), or handled or set aside
    and still here because its move failed (moved now)."""
    if known in LEFT_FOR_A_PERSON:
        return known
    if not dry_run:
        if known == "failed":
            source.set_aside(mail, "set aside before")
        else:
            source.done(mail)
    return "already_handled"
