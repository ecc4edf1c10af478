"""Deliver a composed issue to every active subscriber, exactly once.

The ledger (`deliveries`) has one row per subscriber, made when the send starts:
the audience is fixed then. A row is marked sent only after the server accepted
that message, and the mark is committed at once, so a send that is killed and run
again sends only what was not accepted; at most the messages in flight at the
moment of the kill can go twice. One `send` runs at a time per database (a lock
file beside it), so two processes never both deliver to one subscriber.

Several SMTP sessions (`smtp.connections`) share the work, each reusing its
connection; `smtp.rate_per_second` caps them all together. Nothing per subscriber
is held in memory beyond the rows in flight: the ledger is read in pages, and a
small queue hands them to the workers (a slow server only makes the run slower).

A run stops early, and `send` exits 1, only when asked to (`options.stop`, set by
SIGTERM or Ctrl-C), when the server goes away or refuses us or the message, or
when the ledger cannot be written; the workers finish the messages in flight and
record them first. A message the server accepted but the ledger could not record
goes into a journal beside the database, replayed before the next run sends.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.archive import recover
from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.locks import IssueLock
from newsletter.mailer import Outcome, SmtpSession, SmtpUnavailable, smtp_address
from newsletter.message import MessageTemplate, Recipient
from newsletter.render import EDITIONS, UNSUBSCRIBE_PLACEHOLDER
from newsletter.store import Issue, Store

PAGE = 500
QUEUED_PER_CONNECTION = 4
"""Jobs waiting per worker: enough to never starve one, few enough to stop at once."""


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
    """Each edition of a composed issue, read from its folder, ready to personalise.

    The folder is checked first: it must describe the issue the database knows
    (a compose interrupted between the two could leave them apart), name files
    inside itself only, and carry the unsubscribe link in every edition.
    """
    folder = config.issues_path / issue.folder
    where = f"issue {issue.number}: {folder / 'issue.json'}"
    try:
        described = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
        editions = {name: described["editions"][name] for name in EDITIONS}
        if described.get("papers") != list(issue.papers):
            raise NewsletterError(
                f"{where} does not list the papers the database has for this issue "
                "(was a compose interrupted?): `newsletter compose` writes it again"
            )
        templates = {
            name: MessageTemplate(
                config.newsletter,
                issue.number,
                edition["subject"],
                _edition_file(folder, edition["html"], where),
                _edition_file(folder, edition["text"], where),
            )
            for name, edition in editions.items()
        }
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise NewsletterError(
            f"issue {issue.number}: cannot read its files in {folder}: {error}; "
            "`newsletter compose` writes them"
        ) from None
    for name, template in templates.items():
        if len(template.html) < 2 or len(template.text) < 2:
            raise NewsletterError(
                f"issue {issue.number}: the {name} edition has no unsubscribe link "
                f"({UNSUBSCRIBE_PLACEHOLDER} is missing from its HTML or text): "
                "every message must carry one; fix the template and `newsletter compose` again"
            )
    return templates


def _edition_file(folder: Path, name: object, where: str) -> str:
    """An edition's file, which must be a plain file inside the issue's folder."""
    path = (folder / str(name)).resolve()
    if not isinstance(name, str) or path.parent != folder.resolve() or not path.is_file():
        raise NewsletterError(
            f"{where} names {name!r} as an edition file: only files in the issue's own "
            "folder are sent; `newsletter compose` writes a good issue.json"
        )
    return path.read_text(encoding="utf-8")


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
    """Deliver the issue. Raise IncompleteSend (after recording what was done) when
    the run did not complete: stopped, the server gone or refusing, deliveries
    deferred, or the ledger not writable."""
    options = options or SendOptions()
    stop = options.stop or threading.Event()
    with IssueLock(config.database_path, "send"), Store.open(config.database_path) as store:
        Journal(config.database_path).replay(store)
        notes = recover(config.issues_path, store.issue)  # what a killed compose left
        issue = pick_issue(store, options.issue)
        report = SendReport(issue=issue.number if issue else None, warnings=notes)
        if issue is None or issue.status == "sent":
            report.complete = report.started = issue is not None
            return report
        templates = load_templates(config, issue)
        if issue.status == "composed" and not _active_subscribers(store):
            report.warnings.append(
                f"no active subscribers: issue {issue.number} waits until someone subscribes"
            )  # sending it to nobody would mark its papers sent
            return report
        if stop.is_set():
            raise IncompleteSend("stopped before sending anything", report)
        first = SmtpSession(config.smtp, config.smtp_password)
        first.open()  # unreachable or login refused: stop before marking anything
        start_deliveries(store, issue)
        return _deliver(config, store, issue.number, templates, first, options, stop, report)


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
    report.skipped = skip_inactive(store, issue)
    report.already = _count(store, issue, "sent")
    pending = _count(store, issue, "pending")
    if options.started:
        options.started(pending)
    run = _Run(config, issue, templates, options, stop, report)
    started = time.perf_counter()
    try:
        run.deliver(first, _pages(store, issue), pending)
    finally:
        report.seconds = time.perf_counter() - started
        run.record_leftovers(store, Journal(config.database_path))
        report.complete = _finish(store, issue, run)
    if report.complete:
        return report  # a stop that came after the last message changes nothing
    if run.stopped_by:
        raise IncompleteSend(run.stopped_by, report)
    left = _count(store, issue, "pending")
    raise IncompleteSend(
        f"{left} deliver{'ies' if left != 1 else 'y'} deferred: the server said to try "
        "again later; `newsletter send` again retries them",
        report,
    )


def _finish(store: Store, issue: int, run: _Run) -> bool:
    try:
        return finish_issue(store, issue)
    except sqlite3.Error as error:
        run.halt(f"cannot update the ledger in {store.path}: {error}")
        return False


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


def mark_delivery(
    db: sqlite3.Connection, issue: int, subscriber: int, status: str, attempts: int,
    error: str | None,
) -> None:  # fmt: skip
    """Record what became of one pending delivery (`pending` again: deferred)."""
    db.execute(
        "UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ?, "
        "done_at = CASE WHEN ? != 'pending' THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END "
        "WHERE issue = ? AND subscriber = ? AND status = 'pending'",
        (status, attempts, error, status, issue, subscriber),
    )


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
            yield Job(row[0], smtp_address(row[1]), row[2], row[3], row[4])
        last = rows[-1][0]


@dataclass(frozen=True)
class Result:
    """What became of one job, as the ledger will record it."""

    job: Job
    status: str  # sent, failed, pending
    attempts: int
    error: str | None


class _Run:
    """The workers of one send: each with an SMTP session and a database connection.

    The main thread feeds a small queue; each worker takes a job, offers the
    message, and commits the outcome at once. There are no end markers to lose:
    a worker leaves when `stop` is set (after the message in hand) or when the
    feed is done and the queue is empty.
    """

    def __init__(
        self,
        config: Config,
        issue: int,
        templates: dict[str, MessageTemplate],
        options: SendOptions,
        stop: threading.Event,
        report: SendReport,
    ) -> None:
        self.config = config
        self.issue = issue
        self.templates = templates
        self.options = options
        self.report = report
        self.sender = next(iter(templates.values())).sender
        workers = max(1, config.smtp.connections)
        self.jobs: queue.Queue[Job] = queue.Queue(maxsize=workers * QUEUED_PER_CONNECTION)
        self.fed = threading.Event()
        self.stop = stop
        self.stopped_by = ""
        self.lock = threading.Lock()
        self.limiter = RateLimiter(config.smtp.rate_per_second, stop)
        self.unrecorded: list[Result] = []

    def deliver(self, first: SmtpSession, jobs: Iterator[Job], pending: int) -> None:
        count = max(1, min(self.config.smtp.connections, pending))
        sessions = [first] + [
            SmtpSession(self.config.smtp, self.config.smtp_password) for _ in range(count - 1)
        ]
        threads = [
            threading.Thread(target=self._work, args=(session,), daemon=True)
            for session in sessions
        ]
        for thread in threads:
            thread.start()
        try:
            for job in jobs:
                if not self._put(job, threads):
                    break
        except BaseException:
            self.stop.set()  # e.g. KeyboardInterrupt in a caller without signal handlers
            raise
        finally:
            self.fed.set()
            for thread in threads:
                thread.join()
        if self.stop.is_set() and not self.stopped_by:
            self.stopped_by = (
                "stopped: the messages in flight were finished and recorded; "
                "`newsletter send` again resumes the rest"
            )

    def _put(self, job: Job, threads: list[threading.Thread]) -> bool:
        """Queue one job, waiting as long as the workers are busy; False: stop feeding."""
        while not self.stop.is_set():
            try:
                self.jobs.put(job, timeout=0.1)
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
                    job = self.jobs.get(timeout=0.1)
                except queue.Empty:
                    if self.fed.is_set():
                        return
                    continue
                self._record(ledger, self._attempt(session, job))
        except Exception as error:  # a bug or a broken machine: stop cleanly, say what
            self.halt(f"sending stopped on an unexpected {type(error).__name__}: {error}")
        finally:
            session.close()
            if ledger is not None:
                ledger.close()

    def _attempt(self, session: SmtpSession, job: Job) -> Result:
        """Offer one message, retrying a 4xx or a lost connection with backoff."""
        message = self.templates[job.edition].build(
            Recipient(job.email, job.name, job.token, str(job.subscriber))
        )
        attempts, outcome = 0, Outcome("retry", "not tried")
        smtp = self.config.smtp
        for attempt in range(smtp.retries + 1):
            if attempt and self.stop.wait(smtp.retry_delay * 2 ** (attempt - 1)):
                break
            if not self.limiter.wait():
                break
            attempts += 1
            try:
                outcome = session.send(self.sender, job.email, message)
            except SmtpUnavailable as error:
                outcome = Outcome("down", str(error))
            if outcome.status != "retry":
                break
        if outcome.status == "down":
            self.halt(f"{outcome.reply}; stopped: `newsletter send` again resumes the rest")
        elif outcome.status == "stop":
            self.halt(
                f"{outcome.reply}; nobody was marked failed: once the server accepts us, "
                "`newsletter send` again resumes"
            )
        status = outcome.status if outcome.status in ("sent", "failed") else "pending"
        deferred = outcome.status == "retry" and attempts > 0
        with self.lock:
            self.report.deferred += deferred
        said = outcome.reply if status != "sent" and attempts else None
        return Result(job, status, attempts if outcome.status != "stop" else 0, said)

    def _record(self, ledger: Store, result: Result) -> None:
        """Commit what became of one message, right away; if the ledger cannot take
        it, keep it for `record_leftovers` and stop the run."""
        try:
            mark_delivery(ledger.db, self.issue, result.job.subscriber, result.status,
                          result.attempts, result.error)  # fmt: skip
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
            elif result.status == "failed":
                self.report.failed += 1
                self.report.failures.append((result.job.email, result.error or ""))
        if self.options.progress:
            self.options.progress(1)

    def record_leftovers(self, store: Store, journal: Journal) -> None:
        """Try once more to record what the workers could not; what still fails goes
        into the journal (replayed before the next send), so nobody gets it twice."""
        left: list[Result] = []
        for result in self.unrecorded:
            try:
                mark_delivery(store.db, self.issue, result.job.subscriber, result.status,
                              result.attempts, result.error)  # fmt: skip
                self._count(result)
            except sqlite3.Error:
                left.append(result)
        accepted = [result for result in left if result.status == "sent"]
        if accepted:
            try:
                journal.write(self.issue, accepted)
            except OSError as error:
                addresses = ", ".join(result.job.email for result in accepted)
                self.halt(f"the server accepted messages to {addresses} that neither the "
                          f"ledger nor {journal.path} could record ({error}): do not "
                          "send again before marking them sent")  # fmt: skip


class Journal:
    """Deliveries the server accepted that the ledger could not record (a locked or
    full database): one JSON line each, beside the database, fsynced. The next
    `send` records them before it sends anything, and refuses to send while it
    cannot."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(f"{database.name}.unrecorded")

    def write(self, issue: int, results: list[Result]) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            for result in results:
                line = {"issue": issue, "subscriber": result.job.subscriber,
                        "attempts": result.attempts}  # fmt: skip
                file.write(json.dumps(line) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def replay(self, store: Store) -> int:
        """Record the journal's deliveries as sent, then remove it; how many."""
        if not self.path.exists():
            return 0
        try:
            lines = [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]
            with store.transaction() as db:
                for line in lines:
                    mark_delivery(db, int(line["issue"]), int(line["subscriber"]), "sent",
                                  int(line["attempts"]), None)  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as error:
            raise NewsletterError(
                f"{self.path}: cannot record the deliveries an earlier send could not "
                f"({error}); nothing is sent until they are recorded"
            ) from None
        self.path.unlink()
        return len(lines)


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
