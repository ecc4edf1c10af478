"""The outbox: single messages (confirmations; later the return path's replies)
queued in the database by whoever makes them, and sent by one loop, at most once.

`queue` adds a message in the caller's transaction, so a web request never waits
for SMTP: the page answers at once and the message follows. `run_forever` is the
loop `newsletter serve` runs in a thread: every second or so it claims the oldest
due row (atomically, so two loops, in one process or several, never hold the same
one), offers it over a reused `SmtpSession`, and records the outcome at once:

- accepted: `sent`, right after the server said so (the ledger discipline of
  issues: at most a message in flight when the process is killed can go twice,
  after its claim's lease runs out);
- a 5xx (for that recipient, or about the message or the sender: nothing another
  try would change): `failed`, with the server's reply;
- a 4xx, a dropped connection, a server that cannot be reached or refuses the
  login: queued again with a doubling delay (from `smtp.retry_delay` up to five
  minutes), and the loop itself pauses as long, so a server that is down is not
  hammered; a row whose `give_up_at` has passed (a confirmation link expired by
  then) is `failed` instead.

Messages are built with `email.message.EmailMessage`: UTF-8, text then an optional
HTML part, the subject RFC 2047-encoded, and a Message-ID made when the message was
queued (the same on every try).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage

from newsletter.config import Config, NewsletterSettings
from newsletter.core import backoff, clock
from newsletter.core.errors import NewsletterError
from newsletter.core.text import header_safe
from newsletter.mail.message import sender_domain
from newsletter.mail.smtp import SmtpResult, SmtpSession, SmtpUnavailable, smtp_address
from newsletter.store import Store
from newsletter.store import outbox as rows
from newsletter.store.outbox import OutboxMessage

POLL_SECONDS = 1.0
MAX_DELAY = 300.0  # seconds: the longest wait between two tries of a message
KEEP_DAYS = 30  # sent and failed rows are forgotten after this (they hold an address)
HOUSEKEEPING_SECONDS = 60.0

log = logging.getLogger("newsletter.outbox")


@dataclass(frozen=True)
class QueuedMail:
    """A message to queue: to whom, its subject and bodies, and any extra headers."""

    to: str
    subject: str
    text: str
    html: str | None = None
    to_name: str = ""
    kind: str = "mail"  # what made it: `confirm`, …
    headers: Mapping[str, str] = field(default_factory=dict)


def queue(
    db: sqlite3.Connection,
    settings: NewsletterSettings,
    mail: QueuedMail,
    give_up_at: float | None = None,
    now: float | None = None,
) -> int:
    """Queue `mail` in the caller's transaction; its row id. After `give_up_at` (unix
    seconds) a message that could not be delivered yet is failed instead of retried."""
    message_id = f"<{mail.kind}.{secrets.token_hex(12)}@{sender_domain(settings)}>"
    return rows.insert(
        db,
        kind=mail.kind,
        recipient=mail.to,
        recipient_name=mail.to_name,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers=dict(mail.headers),
        message_id=message_id,
        now=time.time() if now is None else now,
        give_up_at=give_up_at,
    )


def build(settings: NewsletterSettings, message: OutboxMessage, date: str | None = None) -> bytes:
    """The message as SMTP DATA carries it (CRLF line ends)."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = header_safe(settings.from_)
    name, address = header_safe(message.recipient_name), smtp_address(message.recipient)
    mail["To"] = Address(name, addr_spec=address)
    mail["Subject"] = header_safe(message.subject)
    mail["Date"] = date or clock.mail_date()
    mail["Message-ID"] = message.message_id
    for name, value in message.headers.items():
        mail[name] = header_safe(value)
    mail.set_content(message.text, charset="utf-8", cte="base64")
    if message.html:
        mail.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
    return mail.as_bytes()


Chore = Callable[[Store], object]
"""A job the loop also runs every HOUSEKEEPING_SECONDS (its owner's, e.g. forgetting
expired sign-ups), so that the outbox need not know the features that use it."""


def run_forever(config: Config, stop: threading.Event, chores: Sequence[Chore] = ()) -> None:
    """Send what the outbox holds until `stop` is set (the loop `serve` runs)."""
    sender = Sender(config, stop, chores=chores)
    while not stop.is_set():
        try:
            with Store.open(config.database_path) as store:
                sender.run(store)
        except (NewsletterError, sqlite3.Error) as error:
            log.warning("outbox: %s; trying again in %.0f s", error, MAX_DELAY / 10)
            stop.wait(MAX_DELAY / 10)
        finally:
            sender.close()


class Sender:
    """One outbox loop: its SMTP session (kept while there is work), its back-off."""

    def __init__(
        self,
        config: Config,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
        chores: Sequence[Chore] = (),
    ) -> None:
        self.config, self.stop, self.clock = config, stop, clock
        self.chores = (forget_done, *chores)
        self.session = SmtpSession(config.smtp, config.smtp_password)
        self.envelope_from = email.utils.parseaddr(config.newsletter.from_)[1]
        self.lease = max(120.0, 10 * config.smtp.timeout)  # longer than any one try can take
        self.downs = 0  # tries in a row the server was away for: the loop's own back-off
        self.housekept = 0.0

    def run(self, store: Store) -> None:
        while not self.stop.is_set():
            if self.clock() - self.housekept >= HOUSEKEEPING_SECONDS:
                for chore in self.chores:
                    chore(store)
                self.housekept = self.clock()
            if not self.step(store):
                self.session.close()  # nothing due: do not hold a connection open
                self.stop.wait(POLL_SECONDS)

    def step(self, store: Store) -> bool:
        """Claim one due message and deliver it; False when none is due."""
        claim = secrets.token_hex(8)
        with store.transaction() as db:
            message = rows.claim(db, claim, self.clock(), self.lease)
        if message is None:
            return False
        outcome = self.offer(message)
        self.record(store, message, outcome)
        if outcome.status == "retry" and self.session.connection is None:
            # The server went away or cannot be reached (not one recipient's 4xx): wait.
            self.downs += 1
            self.stop.wait(backoff.delay(self.downs, self.config.smtp.retry_delay, MAX_DELAY))
        else:
            self.downs = 0
        return True

    def offer(self, message: OutboxMessage) -> SmtpResult:
        try:
            data = build(self.config.newsletter, message)
        except (ValueError, TypeError) as error:  # a header the email package refuses
            return SmtpResult("failed", f"cannot build the message: {error}")
        try:
            return self.session.send(self.envelope_from, smtp_address(message.recipient), data)
        except SmtpUnavailable as error:
            return SmtpResult("retry", str(error))

    def record(self, store: Store, message: OutboxMessage, outcome: SmtpResult) -> None:
        """Write what became of `message`, at once; a store that cannot be written is
        tried again until it can (or the loop stops: the claim's lease then lets
        another loop take it up)."""
        while True:
            try:
                with store.transaction() as db:
                    _record(db, message, outcome, self.retry_at(message))
                break
            except sqlite3.Error as error:
                log.warning("outbox: cannot record message %s: %s", message.id, error)
                if self.stop.wait(POLL_SECONDS):
                    return
        if outcome.status in ("failed", "stop"):
            log.warning(
                "outbox: message %s (%s) failed: %s", message.id, message.kind, outcome.reply
            )

    def retry_at(self, message: OutboxMessage) -> float:
        return self.clock() + backoff.delay(
            message.attempts, self.config.smtp.retry_delay, MAX_DELAY
        )

    def close(self) -> None:
        self.session.close()


def _record(
    db: sqlite3.Connection, message: OutboxMessage, outcome: SmtpResult, retry_at: float
) -> None:
    if outcome.status == "sent":
        rows.mark_sent(db, message.id, message.claim)
    elif outcome.status in ("failed", "stop"):  # a 5xx: no later try would change it
        rows.mark_failed(db, message.id, message.claim, outcome.reply)
    elif message.give_up_at is not None and retry_at > message.give_up_at:
        rows.mark_failed(
            db,
            message.id,
            message.claim,
            f"gave up after {message.attempts} tries: {outcome.reply}",
        )
    else:
        rows.release(db, message.id, message.claim, retry_at, outcome.reply)


def forget_done(store: Store) -> None:
    """Forget sent and failed messages after KEEP_DAYS."""
    before = clock.now() - dt.timedelta(days=KEEP_DAYS)
    with store.transaction() as db:
        rows.purge_done(db, clock.stamp(before))
