"""Look before you send: the dry run, and a test send to one address.

The dry run builds every message on the real path (every recipient, every
personal link), checks each, and writes one sample `.eml` per edition into the
issue's folder; it opens no connection and changes nothing in the database. The
test send mails the issue once to one address, outside the ledger.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator

from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.mailer import SmtpSession
from newsletter.message import MessageTemplate, Recipient
from newsletter.render import EDITIONS, GMAIL_CLIP_BYTES, UNSUBSCRIBE_PLACEHOLDER
from newsletter.send import SendReport, load_templates, pick_issue
from newsletter.store import Issue, Store
from newsletter.subscribers import normalise_email, normalise_lang

SAMPLE_RECIPIENT = Recipient("reader@example.org", "Sample Reader", "sample-token", "sample")


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
        samples: dict[str, Recipient] = {}
        for edition, recipient in _audience(store, issue):
            message = templates[edition].build(recipient)
            _check(message, recipient, report)
            sizes = report.editions.setdefault(edition, {"recipients": 0, "max_bytes": 0})
            sizes["recipients"] += 1
            sizes["max_bytes"] = max(sizes["max_bytes"], len(message))
            samples.setdefault(edition, recipient)
        report.seconds = time.perf_counter() - started
        report.samples = _write_samples(config, issue, templates, samples)
        _check_html_size(config, issue, templates, report)
        return report


def test_send(config: Config, address: str, lang: str | None, issue_number: int | None) -> str:
    """Send the issue once to `address` (bilingual unless `lang`), outside the ledger."""
    recipient_email, edition = normalise_email(address), normalise_lang(lang)
    with Store.open(config.database_path) as store:
        issue = pick_issue(store, issue_number) or _newest(store)
        templates = load_templates(config, issue)
    recipient = Recipient(recipient_email, "", "test-send", f"test-{int(time.time() * 1000)}")
    session = SmtpSession(config.smtp, config.smtp_password)
    session.open()
    try:
        outcome = session.send(templates[edition].sender, recipient_email,
                               templates[edition].build(recipient))  # fmt: skip
    finally:
        session.close()
    if outcome.status != "sent":
        raise NewsletterError(f"the server did not accept the test message: {outcome.reply}")
    return f"sent issue {issue.number} ({edition}) to {recipient_email}"


def _newest(store: Store) -> Issue:
    issues = store.issues()
    if not issues:
        raise NewsletterError("there is no issue yet: `newsletter compose` makes one")
    return issues[-1]


def _audience(store: Store, issue: Issue) -> Iterator[tuple[str, Recipient]]:
    """Who `send` would mail: the active list, or what is pending of a started send."""
    if issue.status == "composed":
        sql = ("SELECT id, email, name, token, lang FROM subscribers WHERE status = 'active' "
               "ORDER BY id")  # fmt: skip
        rows = store.db.execute(sql)
    else:
        rows = store.db.execute(
            "SELECT s.id, s.email, s.name, s.token, d.edition FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber WHERE d.issue = ? "
            "AND d.status = 'pending' AND s.status = 'active' ORDER BY s.id",
            (issue.number,),
        )
    for row in rows:
        yield row[4], Recipient(row[1], row[2], row[3], str(row[0]))


def _check(message: bytes, recipient: Recipient, report: SendReport) -> None:
    """What a subscriber would notice: their own link present, no placeholder left."""
    if UNSUBSCRIBE_PLACEHOLDER.encode() in message or recipient.token.encode() not in message:
        report.warnings.append(f"{recipient.email}: the unsubscribe link is not personalised")


def _write_samples(
    config: Config, issue: Issue, templates: dict[str, MessageTemplate],
    samples: dict[str, Recipient],
) -> list[str]:  # fmt: skip
    """One `sample-<edition>.eml` per edition, to open in a mail client."""
    written = []
    for edition in EDITIONS:
        recipient = samples.get(edition, SAMPLE_RECIPIENT)
        message = templates[edition].build(recipient)
        email.message_from_bytes(message, policy=email.policy.default)  # it parses
        path = config.issues_path / issue.folder / f"sample-{edition}.eml"
        path.write_bytes(message)
        written.append(str(path))
    return written


def _check_html_size(
    config: Config, issue: Issue, templates: dict[str, MessageTemplate], report: SendReport
) -> None:
    for edition, template in templates.items():
        size = sum(len(part) for part in template.html)
        if size > GMAIL_CLIP_BYTES:
            report.warnings.append(
                f"the {edition} edition's HTML is {size / 1024:.0f} KB: Gmail clips it"
            )
