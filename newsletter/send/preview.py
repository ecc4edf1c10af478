"""Look before you send: the dry run, and a test send to one address.

The dry run builds every message on the real path (every recipient, every
personal link), as a server that offers 8BITMIME gets it, and checks each as a
subscriber would see it: every line whole (no bare CR or LF, none past 998 bytes),
their own unsubscribe link in the decoded text and HTML bodies, no placeholder (of the
unsubscribe or the preferences link) left anywhere. It opens no connection and
changes nothing in the database. It also writes one sample `.eml` per edition into
the issue's folder, which is committed with the archive: 8-bit, so that they read as
text in an editor or a diff and open in any mail client as sent; built for a
made-up reader (`reader@example.invalid`), never for a subscriber, so the archive
holds no address and no working token. The test send mails the issue once to one
address, outside the ledger.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import email
import email.policy
import functools
import re
import time
from collections.abc import Iterator

from newsletter.audience.subscribers import normalise_email, normalise_lang
from newsletter.compose.fit import mailed_bytes
from newsletter.compose.folder import write_sample
from newsletter.config import Config
from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, Issue, clip_warning
from newsletter.mail.body import PLACEHOLDER, PLACEHOLDERS
from newsletter.mail.message import MessageTemplate, Recipient, unsubscribe_url
from newsletter.mail.smtp import SmtpSession, smtp_address
from newsletter.send.deliver import load_templates, pick_issue
from newsletter.send.report import SendReport
from newsletter.store import Store, deliveries, issues, message_ids, subscribers

SAMPLE_RECIPIENT = Recipient("reader@example.invalid", "Sample Reader", "SampleToken", "")
"""The samples' made-up reader; each issue's samples get a tag of their own."""
HEADER_LINE = re.compile(rb"[!-9;-~]+:|[ \t]")  # a field's first line, or a folded one
MAX_LINE = 998  # bytes, without the CRLF (RFC 5322 section 2.1.1)


def dry_run(config: Config, issue_number: int | None = None) -> SendReport:
    """Build and check every message the next `send` would send; send nothing."""
    if not config.database_path.exists():
        return SendReport(dry_run=True)
    with Store.open(config.database_path) as store:
        issue = pick_issue(store, issue_number)
        report = SendReport(issue=issue.number if issue else None, dry_run=True)
        if issue is None:
            return report
        templates = load_templates(config, issue)
        started = time.perf_counter()
        for edition, recipient in _audience(store, issue):
            message = templates[edition].build(recipient)
            report.warnings.extend(check(templates[edition], message, recipient))
            sizes = report.editions.setdefault(edition, {"recipients": 0, "max_bytes": 0})
            sizes["recipients"] += 1
            sizes["max_bytes"] = max(sizes["max_bytes"], len(message))
        report.seconds = time.perf_counter() - started
        sample_tag = message_ids.message_tag(
            message_ids.read_key(store.db), issue.number, message_ids.SAMPLE_SUBSCRIBER
        )
        report.samples = _write_samples(config, issue, templates, report, sample_tag)
        _check_html_size(config, templates, report)
        return report


def send_test_message(
    config: Config, address: str, lang: str | None, issue_number: int | None
) -> str:
    """Send the issue once to `address` (bilingual unless `lang`), outside the ledger."""
    recipient_email, edition = normalise_email(address), normalise_lang(lang)
    with Store.open(config.database_path) as store:
        issue = pick_issue(store, issue_number) or _newest(store)
        templates = load_templates(config, issue)
    recipient = Recipient(recipient_email, "", "test-send", message_ids.random_tag())
    session = SmtpSession(config.smtp, config.smtp_password)
    session.open()
    try:
        message = templates[edition].mail(recipient, session.offers("8bitmime"))
        outcome = session.send(templates[edition].sender, smtp_address(recipient_email), message)
    finally:
        session.close()
    if outcome.status != "sent":
        raise NewsletterError(f"the server did not accept the test message: {outcome.reply}")
    return f"sent issue {issue.number} ({edition}) to {recipient_email}"


def _newest(store: Store) -> Issue:
    every = issues.listing(store.db)
    if not every:
        raise NewsletterError("there is no issue yet: `newsletter compose` makes one")
    return every[-1]


def _audience(store: Store, issue: Issue) -> Iterator[tuple[str, Recipient]]:
    """Who `send` would mail, with the Message-ID each would get: the active list, or
    what is pending of a started send."""
    if issue.status == "composed":
        key = message_ids.read_key(store.db)
        for person in subscribers.active(store.db):
            tag = message_ids.message_tag(key, issue.number, person.id)
            yield person.lang, Recipient(person.email, person.name, person.token, tag)
        return
    for delivery in deliveries.pending_active(store.db, issue.number):
        yield (
            delivery.edition,
            Recipient(delivery.email, delivery.name, delivery.token, delivery.message_tag),
        )


def check(template: MessageTemplate, message: bytes, recipient: Recipient) -> list[str]:
    """What a subscriber would notice, one line each: a broken header, their own
    unsubscribe link missing from the text or the HTML they read, a placeholder left."""
    head, _, body = message.partition(b"\r\n\r\n")
    problems = [f"{recipient.email}: {problem}" for problem in _header_problems(head)]
    problems += [f"{recipient.email}: {problem}" for problem in _body_problems(body)]
    for placeholder in PLACEHOLDERS:
        if placeholder in head:
            problems.append(f"{recipient.email}: a header still holds {placeholder.decode()}")
    link = unsubscribe_url(template.settings, recipient.token).encode()
    for kind, text in zip(("text", "HTML"), _decoded_parts(template, body), strict=True):
        if text is None:
            problems.append(f"{recipient.email}: the {kind} part cannot be decoded")
        elif link not in text:
            problems.append(
                f"{recipient.email}: the {kind} part's unsubscribe link is not personalised"
            )
        elif left := [p.decode() for p in PLACEHOLDERS if p in text]:
            problems.append(f"{recipient.email}: the {kind} part still holds {', '.join(left)}")
    return problems


def _header_problems(head: bytes) -> list[str]:
    """Lines that are not a field or its folded continuation, or are too long."""
    problems = []
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line or not HEADER_LINE.match(line):
            problems.append(f"a header line is broken: {line[:60]!r}")
        elif len(line) > MAX_LINE:
            problems.append(f"a header line is {len(line)} bytes long: {line[:60]!r}")
    return problems


def _body_problems(body: bytes) -> list[str]:
    """A bare CR or LF, or a line past 998 bytes: an 8-bit body keeps to both."""
    problems = []
    if body.count(b"\n") != body.count(b"\r\n") or body.count(b"\r") != body.count(b"\r\n"):
        problems.append("the body has a bare CR or LF")
    longest = max(map(len, body.split(b"\r\n")))
    if longest > MAX_LINE:
        problems.append(f"a body line is {longest} bytes long")
    return problems


def _decoded_parts(template: MessageTemplate, body: bytes) -> list[bytes | None]:
    """The text and HTML bodies as a reader's client decodes them (8bit or base64)."""
    parts = body.split(b"--" + template.boundary)[1:3]
    parts += [b""] * (2 - len(parts))
    heads = (template.texts[False].part.head, template.htmls[False].part.head)
    return [_decoded_part(part, head) for part, head in zip(parts, heads, strict=True)]


def _decoded_part(part: bytes, head: bytes) -> bytes | None:
    header, _, content = part.partition(b"\r\n\r\n")
    if b"\r\nContent-Transfer-Encoding: 8bit" in header:
        return content.removesuffix(b"\r\n") or None  # that CRLF belongs to the boundary
    return _decoded(content, head)


def _decoded(content: bytes, head: bytes) -> bytes | None:
    """`content` decoded. Its opening is the same in every message of an edition (whole
    lines of 57 bytes, encoded once): when it is, that opening is decoded once, not for
    each of a hundred thousand recipients, and the result is the same."""
    if not content:
        return None
    try:
        if head and content.startswith(head):
            return _decoded_once(head) + base64.b64decode(content[len(head) :])
        return base64.b64decode(content)
    except (binascii.Error, ValueError):
        return None


@functools.lru_cache(maxsize=8)
def _decoded_once(head: bytes) -> bytes:
    return base64.b64decode(head)


def _write_samples(
    config: Config,
    issue: Issue,
    templates: dict[str, MessageTemplate],
    report: SendReport,
    tag: str,
) -> list[str]:
    """One `sample-<edition>.eml` per edition, for a made-up reader, to open in a mail
    client (and to commit: they hold no subscriber's address or token, and a Message-ID
    tag that is no delivery's)."""
    written, reader = [], dataclasses.replace(SAMPLE_RECIPIENT, tag=tag)
    for edition in EDITIONS:
        message = templates[edition].build(reader)
        report.warnings.extend(check(templates[edition], message, reader))
        email.message_from_bytes(message, policy=email.policy.default)  # it parses
        written.append(str(write_sample(config.issues_path, issue, edition, message)))
    return written


def _check_html_size(
    config: Config, templates: dict[str, MessageTemplate], report: SendReport
) -> None:
    for edition, template in templates.items():
        html = PLACEHOLDER.join(template.html).decode("utf-8").replace("\r\n", "\n")
        warning = clip_warning(edition, mailed_bytes(html, config.newsletter.base_url))
        if warning:
            report.warnings.append(warning)
