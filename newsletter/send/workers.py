"""The workers of one send: SMTP sessions in threads, fed from the ledger.

The main thread builds each message (DKIM-signing it, which holds the GIL, while
the workers wait on the network) and feeds it to a small queue; each worker takes a
delivery and its message, offers it (retrying a 4xx or a lost connection with
doubling delays), and commits the outcome at once on its own database connection;
`smtp.rate_per_second` caps them all together. Right before each attempt the worker
reads the subscriber's status again (one lookup by primary key on its own connection):
someone who unsubscribed since the send started (or since their message was built and
queued) is marked `skipped`, so an unsubscribe committed before that read never gets a
later message; only the messages already on the wire can still go out. There are no
end markers to lose: a worker leaves when `stop` is set (after the message in hand)
or when the feed is done and the queue empty. A delivery the ledger cannot take is
kept for `record_leftovers`.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsletter.audience.bounce_policy import refused_at_send
from newsletter.config import Config
from newsletter.core import backoff
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.mail.smtp import SmtpResult, SmtpSession, SmtpUnavailable, smtp_address
from newsletter.send.journal import Journal, Recorded
from newsletter.send.report import SendReport
from newsletter.store import Store, deliveries, subscribers
from newsletter.store.deliveries import Delivery

if TYPE_CHECKING:
    from newsletter.mail.smtp import SmtpMessage

QUEUED_PER_CONNECTION = 4
RETRY_WAIT_CAP = 600.0
"""The longest one wait between two tries of a delivery (seconds): the doubling from
`retry_delay` stops here, so the largest settings (10 retries from 300 s) wait 1.6
hours in all, not 42."""
"""Deliveries waiting per worker: enough to never starve one, few enough to stop at once."""

STOPPED = (
    "stopped: the messages in flight were finished and recorded; "
    "`newsletter send` again resumes the rest"
)


@dataclass(frozen=True)
class Result:
    """What became of one delivery, as the ledger records it."""

    delivery: Delivery
    status: str  # sent, failed, skipped (left meanwhile), pending (deferred, or not tried)
    attempts: int
    error: str | None
    bounced: bool = False  # failed: the server refused the mailbox (a hard bounce, mostly)


class Workers:
    """`smtp.connections` SMTP sessions delivering one issue's pending deliveries."""

    def __init__(
        self,
        config: Config,
        issue: int,
        templates: dict[str, MessageTemplate],
        stop: threading.Event,
        report: SendReport,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.config, self.issue, self.templates = config, issue, templates
        self.stop, self.report, self.progress = stop, report, progress
        self.sender = next(iter(templates.values())).sender
        self.bounces = config.bounces.address  # VERP: bounces+{token}@…, or the From address
        size = max(1, config.smtp.connections) * QUEUED_PER_CONNECTION
        self.queue: queue.Queue[tuple[Delivery, SmtpMessage]] = queue.Queue(maxsize=size)
        self.eightbit = False  # build 8-bit bodies: decided by the first session (`deliver`)
        self.fed = threading.Event()
        self.stopped_by = ""
        self.lock = threading.Lock()
        self.limiter = RateLimiter(config.smtp.rate_per_second, stop)
        self.unrecorded: list[Result] = []

    def deliver(self, first: SmtpSession, pending: Iterator[Delivery], count: int) -> None:
        """Send every delivery `pending` yields (`count` of them), until done or stopped.

        Messages are built before a session takes them, so the first session, open
        already, decides how: with 8-bit bodies if its server offers 8BITMIME. A session
        of the pool whose server does not gets each 8-bit message built again in base64
        (`SmtpMessage.seven_bit`, in that worker): one more build and signature per message there,
        and never 8-bit data to a server that did not offer it (RFC 6152)."""
        self.eightbit = first.offers("8bitmime")
        sessions = [first] + [
            SmtpSession(self.config.smtp, self.config.smtp_password)
            for _ in range(max(1, min(self.config.smtp.connections, count)) - 1)
        ]
        threads = [threading.Thread(target=self._work, args=(s,), daemon=True) for s in sessions]
        for thread in threads:
            thread.start()
        try:
            for delivery in pending:
                if not self._put(delivery, threads):
                    break
        except BaseException:
            self.stop.set()  # e.g. KeyboardInterrupt in a caller without signal handlers
            raise
        finally:
            self.fed.set()
            for thread in threads:
                thread.join()
        if self.stop.is_set() and not self.stopped_by:
            self.stopped_by = STOPPED

    def _put(self, delivery: Delivery, threads: list[threading.Thread]) -> bool:
        """Queue one delivery with its message, waiting as long as the workers are busy;
        False: stop. Messages are built (and signed) here, in the feeding thread, so that
        building the next overlaps the workers' waits on the network."""
        try:
            message = self._build(delivery)
        except Exception as error:  # a bug: stop cleanly after the messages in flight
            self.halt(f"sending stopped on an unexpected {type(error).__name__}: {error}")
            return False
        while not self.stop.is_set():
            try:
                self.queue.put((delivery, message), timeout=0.1)
                return True
            except queue.Full:
                if not any(thread.is_alive() for thread in threads):
                    return False
        return False

    def halt(self, reason: str) -> None:
        """Stop the run after the messages in flight, saying why (the first reason wins)."""
        with self.lock:
            if not self.stopped_by:
                self.stopped_by = reason
        self.stop.set()

    def _work(self, session: SmtpSession) -> None:
        ledger: Store | None = None
        try:
            ledger = Store.open(self.config.database_path)
            while not self.stop.is_set():
                try:
                    delivery, message = self.queue.get(timeout=0.1)
                except queue.Empty:
                    if self.fed.is_set():
                        return
                    continue
                self._record(ledger, self._attempt(session, ledger, delivery, message))
        except Exception as error:  # a bug or a broken machine: stop cleanly, say what
            self.halt(f"sending stopped on an unexpected {type(error).__name__}: {error}")
        finally:
            session.close()
            if ledger is not None:
                ledger.close()

    def _build(self, delivery: Delivery) -> SmtpMessage:
        address = smtp_address(delivery.email)
        return self.templates[delivery.edition].mail(
            Recipient(address, delivery.name, delivery.token, delivery.message_tag),
            self.eightbit,
        )

    def _attempt(
        self, session: SmtpSession, ledger: Store, delivery: Delivery, message: SmtpMessage
    ) -> Result:
        """Offer one message, retrying a 4xx or a lost connection with backoff; not at
        all once its subscriber has left (`skipped`), checked just before each try."""
        address = smtp_address(delivery.email)
        attempts, outcome = 0, SmtpResult("retry", "not tried")
        smtp = self.config.smtp
        for attempt in range(smtp.retries + 1):
            wait = backoff.delay(attempt, smtp.retry_delay, RETRY_WAIT_CAP)
            if attempt and self.stop.wait(wait):
                break
            if not self.limiter.wait():
                break
            if not subscribers.is_active(ledger.db, delivery.subscriber):
                return Result(delivery, "skipped", attempts, None)
            attempts += 1
            try:
                outcome = session.send(self.envelope_sender(delivery), address, message)
            except SmtpUnavailable as error:
                outcome = SmtpResult("down", str(error))
            if outcome.status != "retry":
                break
        return self._judge(delivery, outcome, attempts)

    def envelope_sender(self, delivery: Delivery) -> str:
        """MAIL FROM: with a VERP pattern, an address that names the subscriber, so a
        bounce says whose mailbox is gone however mangled its report is."""
        return self.bounces.replace("{token}", delivery.token) if self.bounces else self.sender

    def _judge(self, delivery: Delivery, outcome: SmtpResult, attempts: int) -> Result:
        """The ledger's view of an outcome; a server gone or refusing us stops the run."""
        status = outcome.status if outcome.status in ("sent", "failed") else "pending"
        said = outcome.reply if status != "sent" and attempts else None
        if outcome.status == "down":
            self.halt(f"{outcome.reply}; stopped: `newsletter send` again resumes the rest")
        elif outcome.status == "stop":
            self.halt(
                f"{outcome.reply}; nobody was marked failed: once the server accepts us, "
                "`newsletter send` again resumes"
            )
            attempts = 0  # not this recipient's fault: their attempts are not spent
        if outcome.status == "retry" and attempts:
            with self.lock:
                self.report.deferred += 1
        return Result(delivery, status, attempts, said, outcome.bounced and status == "failed")

    def _record(self, ledger: Store, result: Result) -> None:
        """Commit what became of one message, right away; if the ledger cannot take
        it, keep it for `record_leftovers` and stop the run."""
        try:
            _mark(ledger, self.issue, result, self.config.bounces.soft_limit)
        except sqlite3.Error as error:
            with self.lock:
                self.unrecorded.append(result)
            self.halt(f"cannot record deliveries in {self.config.database_path}: {error}")
            return
        self._count(result)

    def _count(self, result: Result) -> None:
        with self.lock:
            if result.status == "sent":
                self.report.sent += 1
            elif result.status == "skipped":
                self.report.skipped += 1
            elif result.status == "failed":
                self.report.failed += 1
                self.report.failures.append((result.delivery.email, result.error or ""))
        if self.progress:
            self.progress(1)

    def record_leftovers(self, store: Store, journal: Journal) -> None:
        """Try once more to record what the workers could not; what still fails goes
        into the journal (replayed before the next send), so nobody gets it twice."""
        left: list[Result] = []
        for result in self.unrecorded:
            try:
                _mark(store, self.issue, result, self.config.bounces.soft_limit)
                self._count(result)
            except sqlite3.Error:
                left.append(result)
        accepted = [r for r in left if r.status == "sent"]
        if not accepted:
            return
        try:
            journal.write(
                [Recorded(self.issue, r.delivery.subscriber, r.attempts) for r in accepted]
            )
        except OSError as error:
            addresses = ", ".join(result.delivery.email for result in accepted)
            self.halt(
                f"the server accepted messages to {addresses} that neither the ledger "
                f"nor {journal.path} could record ({error}): do not send again before "
                "marking them sent"
            )


def _mark(store: Store, issue: int, result: Result, soft_limit: int) -> None:
    """Record one outcome; a refused mailbox is a bounce too, in the same transaction."""
    delivery = result.delivery
    if not result.bounced:
        deliveries.mark(
            store.db, issue, delivery.subscriber, result.status, result.attempts, result.error
        )
        return
    with store.transaction() as db:
        deliveries.mark(
            db, issue, delivery.subscriber, result.status, result.attempts, result.error
        )
        person = subscribers.find(db, delivery.email)
        if person is not None:
            refused_at_send(db, person, issue, result.error or "", soft_limit)


class RateLimiter:
    """At most `rate` messages a second across all sessions (0: no limit)."""

    def __init__(self, rate: float, stop: threading.Event) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()
        self.stop = stop

    def wait(self) -> bool:
        """Wait for this message's slot; False when the run is stopped meanwhile."""
        if not self.interval:
            return True
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        return slot <= now or not self.stop.wait(slot - now)
