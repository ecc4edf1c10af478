"""The weekly job: read the inbox, finish an interrupted send, compose the next
issue, send it.

With an IMAP inbox configured (`inbox.host`), the run reads it first, so the
addresses that bounced or unsubscribed since the last issue are not mailed this
one; a mailbox that cannot be read is one warning in the log, and the issue goes
out all the same.

An issue waits for arXiv's metadata: when arXiv cannot be reached for the papers
about to be composed (their English abstracts make the `en` edition), the run asks
again, the pause doubling from `arxiv.retry_delay` (at most `PAUSE_CAP`), for up to
`arxiv.wait`; then it composes with what it has, and says so in the log and in the
run's note (`status`). A stop during the wait leaves composing to the next run.

Whatever runs it (`newsletter schedule`, `newsletter run-once` from cron or a
systemd timer), it is the same function. Two runs never overlap, even from two
processes: each holds an exclusive lock on a file beside the database for its whole
length. Every run logs one line when it starts and one when it ends, and is
recorded in the store's `runs` table.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass

from newsletter.compose import compose, fetch_ahead
from newsletter.config import Config
from newsletter.core import backoff, clock
from newsletter.core.errors import NewsletterError
from newsletter.core.locks import Busy, run_lock
from newsletter.inbox import process
from newsletter.inbox.imap import ImapSource
from newsletter.send import IncompleteSend, SendOptions, SendReport, send
from newsletter.store import Store, issues, runs

log = logging.getLogger("newsletter")

PAUSE_CAP = 600.0
"""The longest pause between two asks while the job waits for arXiv (seconds)."""
SHORTEST_PAUSE = 0.1
"""The first pause when `arxiv.retry_delay` is 0: the wait never spins."""


@dataclass
class RunResult:
    """What one run of the weekly job did."""

    outcome: str  # "sent", "nothing to send", "incomplete", "failed", "skipped"
    issue: int | None = None
    papers: int = 0
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    note: str | None = None  # e.g. an issue composed without some of arXiv's abstracts

    def line(self) -> str:
        issue = f"issue {self.issue}, {self.papers} papers, " if self.issue else ""
        return (
            f"run finished: {self.outcome}; {issue}{self.sent} sent, {self.failed} failed, "
            f"{self.seconds:.1f} s"
        )


def run_once(config: Config, stop: threading.Event | None = None) -> RunResult:
    """Resume, compose, send; logged and recorded. Never runs twice at once."""
    try:
        with run_lock(config.database_path):
            return _logged_run(config, stop)
    except Busy as busy:
        log.info("run skipped: %s", busy)
        return RunResult("skipped")


def _logged_run(config: Config, stop: threading.Event | None) -> RunResult:
    started = time.perf_counter()
    run_id = _record_start(config)
    log.info("run started (%s)", config.source)
    result = RunResult("failed")
    try:
        result = _run(config, stop)
    except NewsletterError as error:
        log.error("run failed: %s", error)
        raise
    finally:
        result.seconds = time.perf_counter() - started
        _record_end(config, run_id, result)
        log.info("%s", result.line())
    return result


def _run(config: Config, stop: threading.Event | None) -> RunResult:
    result = RunResult("nothing to send")
    _read_inbox(config)
    try:
        if _has_unfinished_send(config):  # an interrupted send comes first
            _add(result, send(config, SendOptions(stop=stop)))
        waited = _await_metadata(config, stop or threading.Event())
        if stop and stop.is_set():
            log.info("stopped before composing: the next run composes")
            result.outcome = "incomplete"
            return result
        composed = compose(config)
        for warning in composed.warnings:
            log.warning("%s", warning)
        if composed.unreached:
            result.note = _missing_note(len(composed.unreached), waited)
            log.warning("%s", result.note)
        if not composed.composed:
            log.info("no unsent papers: nothing to compose; waiting for the next run")
        else:
            result.papers += len(composed.papers)
            _add(result, send(config, SendOptions(stop=stop)))
    except IncompleteSend as error:
        _add(result, error.report)
        result.outcome = "incomplete"
        log.error("send stopped: %s", error)
    return result


def _await_metadata(config: Config, stop: threading.Event) -> float:
    """Ask arXiv again for what the next issue's papers lack until it answers, the
    wait is over or `stop` is set; the seconds waited (see the module's docstring)."""
    settings = config.arxiv
    if not settings.enrich or settings.wait <= 0:
        return 0.0  # compose asks once, and goes on without
    started = time.monotonic()
    attempt = 0
    while True:
        fetched = fetch_ahead(config)
        left = started + settings.wait - time.monotonic()
        if not fetched.unreached or left <= 0:
            break
        attempt += 1
        pause = backoff.delay(attempt, max(settings.retry_delay, SHORTEST_PAUSE), PAUSE_CAP)
        pause = min(pause, left)
        count = len(fetched.unreached)
        log.warning(
            "arXiv metadata missing for %d paper%s (%s): asking again in %s, composing "
            "without it in %s at the latest",
            count,
            "s" * (count != 1),
            fetched.error,
            duration(pause),
            duration(left),
        )
        if stop.wait(pause) or pause >= left:
            break  # stopping; or the wait is over, and compose asks one last time
    if attempt and not fetched.unreached:
        log.info("arXiv answered after %s: composing", duration(time.monotonic() - started))
    return time.monotonic() - started if attempt else 0.0


def _missing_note(count: int, waited: float) -> str:
    after = f" after waiting {duration(waited)}" if waited else ""
    return f"composed without arXiv abstracts for {count} paper{'s' * (count != 1)}{after}"


def duration(seconds: float) -> str:
    """`0.2 s`, `3 s`, `20 min`, `2 h`, `1.5 h`: a wait as a person says it."""
    if seconds < 0.95:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"


def _read_inbox(config: Config) -> None:
    """Act on what came back (see the module's docstring); log its summary line."""
    if not config.inbox.host:
        return
    source = ImapSource(config.inbox, config.inbox_password)
    try:
        with source, Store.open(config.database_path) as store:
            summary = process(store, source, config.bounces.soft_limit)
    except NewsletterError as error:
        log.warning("inbox not read, sending anyway: %s", error)
        return
    except Exception as error:  # a bug, or mail it chokes on: never a reason to skip an issue
        log.warning(
            "inbox not read, sending anyway: unexpected %s: %s",
            type(error).__name__,
            error,
            exc_info=True,
        )
        return
    log.info("inbox %s: %s", source.name, summary.line())


def _add(result: RunResult, report: SendReport) -> None:
    for warning in report.warnings:
        log.warning("%s", warning)
    result.issue = report.issue or result.issue
    result.sent += report.sent
    result.failed += report.failed
    if report.issue is not None and report.started:
        result.outcome = "sent" if report.complete else "incomplete"


def _has_unfinished_send(config: Config) -> bool:
    store = Store.open_existing(config.database_path)
    if store is None:
        return False
    with store:
        return any(issue.status == "sending" for issue in issues.listing(store.db))


def _record_start(config: Config) -> int:
    with Store.open(config.database_path) as store, store.transaction() as db:
        return runs.start(db, clock.stamp())


def _record_end(config: Config, run_id: int, result: RunResult) -> None:
    with Store.open(config.database_path) as store, store.transaction() as db:
        runs.finish(
            db,
            run_id,
            clock.stamp(),
            result.outcome,
            result.issue,
            result.papers,
            result.sent,
            result.failed,
            result.note,
        )


def last_run_started(config: Config) -> dt.datetime | None:
    """When the weekly job last started, if ever."""
    store = Store.open_existing(config.database_path)
    if store is None:
        return None
    with store:
        started = runs.last_started(store.db)
    if started is None:
        return None
    return clock.parse(started)


def setup_logging(config: Config) -> None:
    """One line per event to stderr, and to the log file when one is configured."""
    logger = logging.getLogger("newsletter")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S%z")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if config.log_path:
        config.log_path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(config.log_path, encoding="utf-8"))
    logger.handlers.clear()
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
