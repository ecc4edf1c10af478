"""Deliver a composed issue to every active subscriber, exactly once.

The ledger (`store.deliveries`) has one row per subscriber, made when the send
starts: the audience is fixed then. A row is marked sent only after the server
accepted that message, and the mark is committed at once, so a send that is killed
and run again sends only what was not accepted; at most the messages in flight at
the moment of the kill can go twice. One `send` or `compose` runs at a time per
database (`locks.issue_lock`), so two processes never both deliver to one subscriber.

A run stops early, and `send` exits 1, only when asked to (`options.stop`, set by
SIGTERM or Ctrl-C), when the server goes away or refuses us or the message, or when
the ledger cannot be written; the workers (`workers.py`) finish the messages in
flight and record them first. Nothing per subscriber is held in memory beyond the
rows in flight: the ledger is read in pages.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from newsletter.compose.folder import read_folder
from newsletter.compose.recovery import recover
from newsletter.config import Config
from newsletter.core import origin_guard
from newsletter.core.errors import NewsletterError
from newsletter.core.locks import issue_lock
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER, Issue
from newsletter.mail.dkim import load_signer
from newsletter.mail.message import MessageTemplate
from newsletter.mail.smtp import SmtpSession
from newsletter.send.journal import Journal
from newsletter.send.report import IncompleteSend, SendReport
from newsletter.send.workers import Workers
from newsletter.store import Store, deliveries, issues, subscribers
from newsletter.store.deliveries import Delivery

PAGE = 500

__all__ = ["IncompleteSend", "SendOptions", "SendReport", "load_templates", "pick_issue", "send"]


@dataclass
class SendOptions:
    issue: int | None = None
    stop: threading.Event | None = None  # set it to stop after the messages in flight
    started: Callable[[int], None] | None = None  # told how many deliveries are pending
    progress: Callable[[int], None] | None = None  # told of each one done


def load_templates(config: Config, issue: Issue) -> dict[str, MessageTemplate]:
    """Each edition of a composed issue, from its folder, ready to personalise; an
    edition without the unsubscribe link is never sent. Each signs its messages when
    `[dkim]` is set; a key that cannot be used stops the send before it starts."""
    folder = read_folder(config.issues_path, issue)
    signer = load_signer(config)
    templates = {
        name: MessageTemplate(config.newsletter, issue.number, e.subject, e.html, e.text, signer)
        for name, e in folder.editions.items()
    }
    for name, template in templates.items():
        if len(template.html) < 2 or len(template.text) < 2:
            raise NewsletterError(
                f"issue {issue.number}: the {name} edition has no unsubscribe link "
                f"({UNSUBSCRIBE_PLACEHOLDER} is missing from its HTML or text): "
                "every message must carry one; fix the template and `newsletter compose` again"
            )
    return templates


def pick_issue(store: Store, number: int | None) -> Issue | None:
    """`--issue N`, or the oldest issue composed and not fully sent."""
    if number is not None:
        issue = issues.get(store.db, number)
        if issue is None:
            raise NewsletterError(f"there is no issue {number}")
        return issue
    for issue in issues.listing(store.db):
        if issue.status in ("composed", "sending"):
            return issue
    return None


def send(config: Config, options: SendOptions | None = None) -> SendReport:
    """Deliver the issue. Raise IncompleteSend (after recording what was done) when
    the run did not complete: stopped, the server gone or refusing, deliveries
    deferred, or the ledger not writable."""
    options = options or SendOptions()
    stop = options.stop or threading.Event()
    with issue_lock(config.database_path, "send"), Store.open(config.database_path) as store:
        Journal(config.database_path).replay(store)
        notes = recover(config.issues_path, lambda n: issues.get(store.db, n))
        issue = pick_issue(store, options.issue)
        report = SendReport(issue=issue.number if issue else None, warnings=notes)
        if issue is None or issue.status == "sent":
            report.complete = report.started = issue is not None
            return report
        templates = load_templates(config, issue)
        if issue.status == "composed" and not subscribers.count_active(store.db):
            report.warnings.append(
                f"no active subscribers: issue {issue.number} waits until someone subscribes"
            )  # sending it to nobody would mark its papers sent
            return report
        _guard_base_url(config, report)
        if stop.is_set():
            raise IncompleteSend("stopped before sending anything", report)
        first = SmtpSession(config.smtp, config.smtp_password)
        first.open()  # unreachable or login refused: stop before marking anything
        if issue.status == "composed":
            with store.transaction() as db:
                deliveries.start(db, issue.number)
        return _deliver(config, store, issue.number, templates, first, options, stop, report)


def _guard_base_url(config: Config, report: SendReport) -> None:
    """Refuse a real relay while base_url is the example; warn for a local one."""
    base_url, host = config.newsletter.base_url, config.smtp.host
    refusal = origin_guard.send_refusal(base_url, host)
    if refusal:
        raise NewsletterError(refusal)
    warning = origin_guard.send_warning(base_url, host)
    if warning:
        report.warnings.append(warning)


def _deliver(
    config: Config,
    store: Store,
    issue: int,
    templates: dict[str, MessageTemplate],
    first: SmtpSession,
    options: SendOptions,
    stop: threading.Event,
    report: SendReport,
) -> SendReport:
    """Run the workers over the pending deliveries, then say how it ended."""
    report.started = True
    with store.transaction() as db:
        report.skipped = deliveries.skip_inactive(db, issue)
    report.already = deliveries.count(store.db, issue, "sent")
    pending = deliveries.count(store.db, issue, "pending")
    if options.started:
        options.started(pending)
    workers = Workers(config, issue, templates, stop, report, options.progress)
    started = time.perf_counter()
    try:
        workers.deliver(first, _pages(store, issue), pending)
    finally:
        report.seconds = time.perf_counter() - started
        workers.record_leftovers(store, Journal(config.database_path))
        report.complete = _finish(store, issue, workers)
    if report.complete:
        return report  # a stop that came after the last message changes nothing
    if workers.stopped_by:
        raise IncompleteSend(workers.stopped_by, report)
    left = deliveries.count(store.db, issue, "pending")
    raise IncompleteSend(
        f"{left} deliver{'ies' if left != 1 else 'y'} deferred: the server said to try "
        "again later; `newsletter send` again retries them",
        report,
    )


def _finish(store: Store, issue: int, workers: Workers) -> bool:
    """Mark the issue sent if every delivery is final; say whether it is."""
    try:
        with store.transaction() as db:
            return deliveries.finish(db, issue)
    except sqlite3.Error as error:
        workers.halt(f"cannot update the ledger in {store.path}: {error}")
        return False


def _pages(store: Store, issue: int) -> Iterator[Delivery]:
    """The pending deliveries, a page at a time (keyset paging: no long read)."""
    last = 0
    while page := deliveries.pending_page(store.db, issue, last, PAGE):
        yield from page
        last = page[-1].subscriber
