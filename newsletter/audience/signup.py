"""Subscribing with double opt-in: a request, a confirmation message, a confirmation.

`request` makes a pending subscription (its own table: no send can reach it) and
queues a bilingual confirmation message in the outbox, in one transaction; the
message carries `base_url/confirm/TOKEN`. `confirm` puts the address on the list
(`subscribers.activate`) for the next issue. A pending subscription expires after
`web.confirm_days`; only a SHA-256 of its token is stored.

What the person asking sees never depends on what the address is: new, pending,
active, unsubscribed, bounced or removed, the answer is the same (`request` says
which, for tests and logs; the web page does not), and so is the time it takes.
Only a new, unsubscribed or bounced address is mailed; a pending one again only
after `RESEND_AFTER` and at most `MAX_MAILS` times; an active one never (it is on
the list already); a removed one never. For the time to be the same, `request`
does the same work on every path: it reads every row it could need, makes a token,
renders the message, and writes a pending row and the outbox row; when the
address is not to be mailed, those two writes are undone at a savepoint (so no
table holds a row that is not true, and the outbox loop has nothing to skip), and
the pending row written is a new one, as for a new address.

A confirmed link stays known until it would have expired: opened again, it says
the address is confirmed (`AlreadyConfirmed`), and nothing more. Coming back after
a bounce or a complaint takes a confirmation by mail too (`needs_confirmation`):
whoever holds a subscriber's token is not proof that the mailbox wants us back.

Abuse is held off here too, in the database so that every worker process shares
it: form tokens signed with a per-install key (`form_token`, good for
`FORM_MAX_AGE`), a count of requests per client per hour (`count_client`) and of
accepted requests per hour overall (`web.confirmations_per_hour`), each counted
whether it mails anyone or not, so that the limit tells nothing about an address.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.audience.subscribers import (
    SubscriberError,
    activate,
    address_hash,
    new_token,
    normalise_email,
    normalise_name,
)
from newsletter.config import Config
from newsletter.core import clock, links, templates
from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, Subscriber
from newsletter.store import Store, bounces, limits, pending
from newsletter.store.pending import Pending

if TYPE_CHECKING:
    import jinja2

    from newsletter.mail.outbox import QueuedMail

EMAIL_MAX = 254  # RFC 5321's limit on a path; email-validator agrees
RESEND_AFTER = dt.timedelta(minutes=10)  # a pending address is mailed again after this
MAX_MAILS = 3  # confirmation messages per pending subscription, at most
FORM_MAX_AGE = 2 * 3600  # seconds a form token stays good: one visit, not a day of use
CONFIRM_KIND = "confirm"
REQUESTS = "signups"  # the site-wide counter of accepted requests (rate_counters)
_TOKEN = re.compile(r"[A-Za-z0-9]{20,64}")


class SignupProblem(NewsletterError):
    """A form field that cannot be used; `field` names it, the message is bilingual."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyConfirmed(NewsletterError):
    """A confirmation link used already: its address is on the list (or was put there)."""


class Limited(NewsletterError):
    """Too many requests: from this client (`client`) or from everyone (`busy`)."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(f"too many requests ({reason}); try again in {retry_after} s")
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignupOutcome:
    """What `request` did: `mailed`, or nothing because the address is `pending`
    (mailed recently or often enough), `active` or `suppressed` (the same work done)."""

    status: str


def clean(email: str, name: str, lang: str) -> tuple[str, str, str]:
    """The form's address, name and language as stored, or SignupProblem."""
    if not email.strip() or len(email) > EMAIL_MAX:
        raise SignupProblem("email", "Please enter your email address. · 请输入您的邮箱地址。")
    try:
        address = normalise_email(email)
    except SubscriberError:
        raise SignupProblem(
            "email", "That is not a valid email address. · 这不是有效的邮箱地址。"
        ) from None
    try:
        clean_name = normalise_name(name)
    except SubscriberError:
        raise SignupProblem(
            "name", "A name is one line of at most 100 characters. · 称呼须为一行，最多 100 字。"
        ) from None
    language = (lang or "bilingual").strip().lower()
    if language not in EDITIONS:
        raise SignupProblem("lang", "Please choose an edition. · 请选择版本。")
    return address, clean_name, language


def request(
    store: Store,
    config: Config,
    email: str,
    name: str,
    lang: str,
    at: dt.datetime | None = None,
) -> SignupOutcome:
    """Ask to subscribe `email` (already `clean`): a pending subscription and its
    confirmation message, or nothing, by what the address is, in the same time.
    Limited("busy") past `web.confirmations_per_hour` requests this hour (counted
    and asked before anything else, so that answer does not depend on the address)."""
    at = at or clock.now()
    hour, stamp = _hour(at), clock.stamp(at)
    token = new_token()
    expires = at + dt.timedelta(days=config.web.confirm_days)
    mail = _confirmation(config, email, name, lang, token, expires)
    with store.transaction() as db:
        pending.purge_expired(db, stamp)
        if limits.bump(db, REQUESTS, hour) > config.web.confirmations_per_hour:
            raise Limited("busy", _seconds_to_next_hour(at))
        status = _what_to_do(db, email, at)
        mailed = status == "mailed"
        # Not mailed: written all the same, and undone. The pending row written is then
        # one for no address at all, as for a new address (updating the row of a
        # pending one would take longer than adding a row, and tell it apart).
        stand_in = email if mailed else f"{token}@stand-in.invalid"
        with store.transaction(commit=mailed):
            pending.upsert(
                db, stand_in, name, lang, _token_hash(token), stamp, clock.stamp(expires)
            )
            _queue(db, config, mail, expires)
    return SignupOutcome(status)


def _what_to_do(db: sqlite3.Connection, email: str, at: dt.datetime) -> str:
    """`mailed` if `email` is to be mailed now, else why not: from one read that
    costs the same whatever it finds, and times compared as text (no parsing that
    only some addresses would need)."""
    known = pending.standing(db, email, address_hash(email), clock.stamp(at))
    if known.suppressed:
        return "suppressed"
    if known.status == "active":
        return "active"
    if known.mails is not None and (
        known.mails >= MAX_MAILS or (known.mailed_at or "") > clock.stamp(at - RESEND_AFTER)
    ):
        return "pending"
    return "mailed"


def needs_confirmation(store: Store, subscriber: Subscriber) -> bool:
    """Whether `subscriber` may come back only by confirming again by mail: after a
    bounce (the mailbox may have changed hands) or a complaint (they told their mail
    provider they did not want us), a token is no consent."""
    return subscriber.status == "bounced" or bounces.complained(store.db, subscriber.id)


def confirmation(store: Store, token: str, at: dt.datetime | None = None) -> Pending | None:
    """The live subscription `token` confirms, pending or `confirmed` (changes nothing)."""
    if not _TOKEN.fullmatch(token):
        return None
    return pending.find_by_token(store.db, _token_hash(token), clock.stamp(at))


def confirm(store: Store, token: str, at: dt.datetime | None = None) -> Subscriber | None:
    """Put the address `token` confirms on the list, with the name and edition it
    asked for; None for a token unknown or expired, or an address removed from the
    list since (its pending subscription is forgotten then); AlreadyConfirmed for a
    token used already (kept until it would have expired)."""
    if not _TOKEN.fullmatch(token):
        return None
    stamp = clock.stamp(at)
    with store.transaction() as db:
        waiting = pending.find_by_token(db, _token_hash(token), stamp)
        if waiting is None:
            return None
        if waiting.status == "confirmed":
            raise AlreadyConfirmed("this link was used already: the address is confirmed")
        try:
            subscriber = activate(store, waiting.email, waiting.name, waiting.lang)
        except SubscriberError:
            pending.delete(db, waiting.id)
            return None
        pending.mark_confirmed(db, waiting.id, stamp)
        return subscriber


def purge_expired(store: Store, at: dt.datetime | None = None) -> int:
    """Forget the pending subscriptions whose confirmation time ran out."""
    with store.transaction() as db:
        return pending.purge_expired(db, clock.stamp(at))


def pending_listing(store: Store) -> list[Pending]:
    return pending.listing(store.db, clock.stamp())


def pending_count(store: Store) -> int:
    return pending.count(store.db, clock.stamp())


def count_client(store: Store, config: Config, client: str, at: dt.datetime | None = None) -> None:
    """Count one request from `client` (an IP address) this hour; Limited("client")
    past `web.signups_per_client_per_hour`. An IPv6 client counts by its /64 (one
    machine usually holds a whole /64), and only a keyed hash of it is stored."""
    at = at or clock.now()
    key = hmac.new(_key(store), _network(client).encode(), hashlib.sha256).hexdigest()[:32]
    with store.transaction() as db:
        count = limits.bump(db, f"client:{key}", _hour(at))
    if count > config.web.signups_per_client_per_hour:
        raise Limited("client", _seconds_to_next_hour(at))


def form_token(store: Store, at: float | None = None) -> str:
    """A token for the subscribe form: when it was made, signed with the install's key."""
    issued = str(int(time.time() if at is None else at))
    return f"{issued}.{_sign(store, issued)}"


def form_token_valid(store: Store, token: str, at: float | None = None) -> bool:
    """Whether `token` was made here by `form_token` within FORM_MAX_AGE."""
    issued, _, signature = token.partition(".")
    if not issued.isdigit() or len(token) > 100:
        return False
    age = (time.time() if at is None else at) - int(issued)
    return -60 <= age <= FORM_MAX_AGE and hmac.compare_digest(signature, _sign(store, issued))


def _confirmation(
    config: Config, email: str, name: str, lang: str, token: str, expires: dt.datetime
) -> QueuedMail:
    """The confirmation message for `email`, its link carrying `token`."""
    from newsletter.mail.outbox import QueuedMail

    settings = config.newsletter
    link = links.confirm(settings.base_url, token)
    context = {
        "newsletter": settings,
        "confirm_url": link,
        "days": config.web.confirm_days,
        "email": email,
        "name": name,
        "lang": lang,
        "expires": expires.strftime("%Y-%m-%d %H:%M UTC"),
    }
    env = _mail_templates(config.templates_path)
    subject = (
        f"Confirm your subscription to {settings.title_en} · 请确认订阅《{settings.title_zh}》"
    )
    return QueuedMail(
        to=email,
        to_name=name,
        subject=subject,
        kind=CONFIRM_KIND,
        text=env.get_template("confirm_mail.txt.j2").render(context),
        html=env.get_template("confirm_mail.html.j2").render(context),
        headers={"Auto-Submitted": "auto-generated"},
    )


def _queue(db: sqlite3.Connection, config: Config, mail: QueuedMail, expires: dt.datetime) -> None:
    from newsletter.mail.outbox import queue

    queue(db, config.newsletter, mail, give_up_at=expires.timestamp())


@functools.cache
def _mail_templates(workspace_templates: Path) -> jinja2.Environment:
    """The confirmation message's templates: the workspace's first, then the packaged."""
    import jinja2

    return jinja2.Environment(
        loader=templates.loader(workspace_templates),
        autoescape=jinja2.select_autoescape(["html.j2"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _key(store: Store) -> bytes:
    """This install's key for form tokens and client hashes, kept in the database so
    that every worker process shares it (one primary-key read: not worth a cache)."""
    return bytes.fromhex(limits.secret(store.db, "form_key", secrets.token_hex(32)))


def _sign(store: Store, value: str) -> str:
    return hmac.new(_key(store), f"subscribe:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def _network(client: str) -> str:
    """What a client is counted as: its IPv4 address, or its IPv6 /64."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hour(at: dt.datetime) -> int:
    return int(at.timestamp()) // 3600


def _seconds_to_next_hour(at: dt.datetime) -> int:
    return 3600 - int(at.timestamp()) % 3600
