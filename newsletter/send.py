"""Deliver a composed issue to every active subscriber, exactly once.

The ledger (`deliveries`) has one row per subscriber, made when the send starts:
the audience is fixed then. A row is marked sent only after the server accepted
that message, and the mark is committed at once, so a send that is killed and run
again sends only what was not accepted; at most the messages in flight at the
moment of the kill can go twice. One `send` runs at a time per database (a lock
file beside it), so two processes never both deliver to one subscriber.

Several SMTP sessions (`smtp.connections`) share the work, each reusing its
connection; `smtp.rate_per_second` caps them all together. Nothing per subscriber
is held in memory beyond the rows in flight: the ledger is read in pages.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.locks import beside
from newsletter.mailer import Outcome, SmtpSession, SmtpUnavailable
from newsletter.message import MessageTemplate, Recipient
from newsletter.render import EDITIONS
from newsletter.store import Issue, Store

PAGE = 500


@dataclass
class SendReport:
    """What one run of `send` did."""

    issue: int | None = None
    dry_run: bool = False
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    already: int = 0
    started: bool = False  # deliveries exist (false: e.g. nobody to send to)
    complete: bool = False
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    editions: dict[str, dict[str, int]] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "issue": self.issue,
            "dry_run": self.dry_run,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "deferred": self.deferred,
            "already_sent": self.already,
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            "failures": [{"email": email, "reply": reply} for email, reply in self.failures],
            "editions": self.editions,
            "samples": self.samples,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class Job:
    subscriber: int
    email: str
    name: str
    token: str
    edition: str


@dataclass
class SendOptions:
    issue: int | None = None
    stop: threading.Event | None = None  # set it to stop after the messages in flight
    started: Callable[[int], None] | None = None  # told how many deliveries are pending
    progress: Callable[[int], None] | None = None  # told of each one done


class IncompleteSend(NewsletterError):
    """The run stopped before every delivery was final; `send` again resumes it."""

    def __init__(self, message: str, report: SendReport) -> None:
        super().__init__(message)
        self.report = report


def load_templates(config: Config, issue: Issue) -> dict[str, MessageTemplate]:
    """Each edition of a composed issue, read from its folder, ready to personalise."""
    folder = config.issues_path / issue.folder
    try:
        described = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
        return {
            name: MessageTemplate(
                config.newsletter,
                issue.number,
                described["editions"][name]["subject"],
                (folder / described["editions"][name]["html"]).read_text(encoding="utf-8"),
                (folder / described["editions"][name]["text"]).read_text(encoding="utf-8"),
            )
            for name in EDITIONS
        }
    except (OSError, KeyError, ValueError) as error:
        raise NewsletterError(
            f"issue {issue.number}: cannot read its files in {folder}: {error}; "
            "`newsletter compose` writes them"
        ) from None


def pick_issue(store: Store, number: int | None) -> Issue | None:
    """`--issue N`, or the oldest issue composed and not fully sent."""
    if number is not None:
        issue = store.issue(number)
        if issue is None:
            raise NewsletterError(f"there is no issue {number}")
        return issue
    for issue in store.issues():
        if issue.status in ("composed", "sending"):
            return issue
    return None


def send(config: Config, options: SendOptions | None = None) -> SendReport:
    """Deliver the issue; raise IncompleteSend (after recording what was done) when
    the server goes away or the run is interrupted."""
    options = options or SendOptions()
    with SendLock(config.database_path), Store.open(config.database_path) as store:
        issue = pick_issue(store, options.issue)
        report = SendReport(issue=issue.number if issue else None)
        if issue is None or issue.status == "sent":
            report.complete = report.started = issue is not None
            return report
        templates = load_templates(config, issue)
        if issue.status == "composed" and not _active_subscribers(store):
            report.warnings.append(
                f"no active subscribers: issue {issue.number} waits until someone subscribes"
            )  # sending it to nobody would mark its papers sent
            return report
        first = SmtpSession(config.smtp, config.smtp_password)
        first.open()  # unreachable or login refused: stop before marking anything
        start_deliveries(store, issue)
        report.started = True
        report.skipped = skip_inactive(store, issue.number)
        report.already = _count(store, issue.number, "sent")
        pending = _count(store, issue.number, "pending")
        if options.started:
            options.started(pending)
        started = time.perf_counter()
        run = _Run(config, issue.number, templates, options, report)
        try:
            run.deliver(first, _pages(store, issue.number), pending)
        finally:
            report.seconds = time.perf_counter() - started
            report.complete = finish_issue(store, issue.number)
        if run.stopped_by:
            raise IncompleteSend(run.stopped_by, report)
        return report


def start_deliveries(store: Store, issue: Issue) -> None:
    """Fix the audience: one pending delivery per active subscriber, once per issue."""
    with store.transaction() as db:
        if issue.status != "composed":
            return
        db.execute(
            "INSERT OR IGNORE INTO deliveries (issue, subscriber, edition) "
            "SELECT ?, id, lang FROM subscribers WHERE status = 'active'",
            (issue.number,),
        )
        db.execute("UPDATE issues SET status = 'sending' WHERE number = ?", (issue.number,))


def skip_inactive(store: Store, issue: int) -> int:
    """Pending deliveries to people who unsubscribed since the send started: skipped."""
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE deliveries SET status = 'skipped', done_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
            "'now') WHERE issue = ? AND status = 'pending' AND subscriber IN "
            "(SELECT id FROM subscribers WHERE status != 'active')",
            (issue,),
        )
        return cursor.rowcount


def finish_issue(store: Store, issue: int) -> bool:
    """Mark the issue sent when every delivery is final; say whether it is."""
    with store.transaction() as db:
        if _count(store, issue, "pending"):
            return False
        db.execute(
            "UPDATE issues SET status = 'sent', "
            "sent_at = coalesce(sent_at, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) WHERE number = ?",
            (issue,),
        )
        return True


def _active_subscribers(store: Store) -> int:
    row = store.db.execute("SELECT count(*) FROM subscribers WHERE status = 'active'").fetchone()
    return int(row[0])


def _count(store: Store, issue: int, status: str) -> int:
    row = store.db.execute(
        "SELECT count(*) FROM deliveries WHERE issue = ? AND status = ?", (issue, status)
    ).fetchone()
    return int(row[0])


def _pages(store: Store, issue: int) -> Iterator[Job]:
    """The pending deliveries, a page at a time (keyset paging: no long read)."""
    last = 0
    while True:
        rows = store.db.execute(
            "SELECT d.subscriber, s.email, s.name, s.token, d.edition FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber "
            "WHERE d.issue = ? AND d.status = 'pending' AND d.subscriber > ? "
            "ORDER BY d.subscriber LIMIT ?",
            (issue, last, PAGE),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield Job(row[0], row[1], row[2], row[3], row[4])
        last = rows[-1][0]


class _Run:
    """The workers of one send: each with an SMTP session and a database connection."""

    def __init__(
        self,
        config: Config,
        issue: int,
        templates: dict[str, MessageTemplate],
        options: SendOptions,
        report: SendReport,
    ) -> None:
        self.config = config
        self.issue = issue
        self.templates = templates
        self.options = options
        self.report = report
        self.sender = next(iter(templates.values())).sender
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=PAGE * 2)
        self.stop = options.stop or threading.Event()
        self.stopped_by = ""
        self.lock = threading.Lock()
        self.limiter = RateLimiter(config.smtp.rate_per_second)

    def deliver(self, first: SmtpSession, jobs: Iterator[Job], pending: int) -> None:
        workers = max(1, min(self.config.smtp.connections, pending))
        sessions = [first] + [
            SmtpSession(self.config.smtp, self.config.smtp_password) for _ in range(workers - 1)
        ]
        threads = [
            threading.Thread(target=self._work, args=(session,), daemon=True)
            for session in sessions
        ]
        for thread in threads:
            thread.start()
        try:
            for job in jobs:
                while not self.stop.is_set():
                    try:
                        self.jobs.put(job, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self.stop.is_set():
                    break
        except KeyboardInterrupt:
            self._halt("interrupted: the messages in flight were finished and recorded")
        finally:
            for _ in threads:
                self._put_end()
            self._join(threads)
        if self.stop.is_set() and not self.stopped_by:
            self.stopped_by = "stopped: the messages in flight were finished and recorded"

    def _join(self, threads: list[threading.Thread]) -> None:
        for thread in threads:
            while thread.is_alive():
                try:
                    thread.join(timeout=0.2)
                except KeyboardInterrupt:
                    self._halt("interrupted: the messages in flight were finished and recorded")

    def _put_end(self) -> None:
        while True:
            try:
                self.jobs.put(None, timeout=0.2)
                return
            except queue.Full:
                self._drain()

    def _drain(self) -> None:
        try:
            while self.jobs.get_nowait() is not None:
                pass
        except queue.Empty:
            pass

    def _halt(self, reason: str) -> None:
        with self.lock:
            if not self.stopped_by:
                self.stopped_by = reason
        self.stop.set()
        self._drain()

    def _work(self, session: SmtpSession) -> None:
        ledger = Store.open(self.config.database_path)
        try:
            while True:
                job = self.jobs.get()
                if job is None or self.stop.is_set():
                    return
                outcome, attempts = self._attempt(session, job)
                self._record(ledger, job, outcome, attempts)
        finally:
            session.close()
            ledger.close()

    def _attempt(self, session: SmtpSession, job: Job) -> tuple[Outcome | None, int]:
        """Offer one message, retrying a 4xx or a lost connection with backoff."""
        message = self.templates[job.edition].build(
            Recipient(job.email, job.name, job.token, str(job.subscriber))
        )
        attempts, outcome = 0, None
        smtp = self.config.smtp
        for attempt in range(smtp.retries + 1):
            if attempt and self.stop.wait(smtp.retry_delay * 2 ** (attempt - 1)):
                break
            self.limiter.wait()
            attempts += 1
            try:
                outcome = session.send(self.sender, job.email, message)
            except SmtpUnavailable as error:
                outcome = Outcome("down", str(error))
            if outcome.status in ("sent", "failed"):
                break
        if outcome is not None and outcome.status == "down":
            self._halt(f"{outcome.reply}; stopped: `newsletter send` again resumes the rest")
        return outcome, attempts

    def _record(self, ledger: Store, job: Job, outcome: Outcome | None, attempts: int) -> None:
        """Commit what became of one message, right away."""
        status = outcome.status if outcome and outcome.status in ("sent", "failed") else "pending"
        ledger.db.execute(
            "UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ?, "
            "done_at = CASE WHEN ? != 'pending' THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END "
            "WHERE issue = ? AND subscriber = ? AND status = 'pending'",
            (status, attempts, outcome.reply if outcome and status != "sent" else None, status,
             self.issue, job.subscriber),
        )  # fmt: skip
        with self.lock:
            if status == "sent":
                self.report.sent += 1
            elif status == "failed":
                self.report.failed += 1
                self.report.failures.append((job.email, outcome.reply if outcome else ""))
            elif outcome is not None and outcome.status == "retry":
                self.report.deferred += 1
        if self.options.progress:
            self.options.progress(1)


class RateLimiter:
    """At most `rate` messages a second across all sessions (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class SendLock:
    """One `send` at a time per database (see `locks.py`)."""

    def __init__(self, database: Path) -> None:
        self.lock = beside(database, "send")

    def __enter__(self) -> SendLock:
        if not self.lock.acquire():
            raise NewsletterError(
                f"another `newsletter send` ({self.lock.holder()}) is delivering from "
                f"{self.lock.path.parent}; run again when it has finished"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()
