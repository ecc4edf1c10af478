"""The subscriber list: add, import from CSV, list, remove, unsubscribe.

Addresses are checked for syntax (email-validator, no DNS look-ups) and compared
case-insensitively. Each subscriber gets an unguessable token (192 random bits,
URL-safe) that their unsubscribe links carry.
"""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.store import Store

LANGUAGES = ("bilingual", "en", "zh")
STATUSES = ("active", "unsubscribed", "bounced")


class SubscriberError(NewsletterError):
    """An address or a subscriber that cannot be used."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    lang: str
    status: str
    token: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name, "lang": self.lang,
                "status": self.status, "created_at": self.created_at}  # fmt: skip


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    problems: list[str] = field(default_factory=list)


def new_token() -> str:
    """192 random bits, URL-safe: the key to one subscriber's unsubscribe link."""
    return secrets.token_urlsafe(24)


def normalise_email(email: str) -> str:
    """The address as it will be stored and sent to, or SubscriberError saying why not."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise SubscriberError(f"{email.strip()!r} is not a valid address: {error}") from None
    return str(checked.normalized)


def normalise_lang(lang: str | None) -> str:
    value = (lang or "").strip().lower() or "bilingual"
    if value not in LANGUAGES:
        raise SubscriberError(f"{lang!r} is not a language: use {', '.join(LANGUAGES)}")
    return value


def add(store: Store, email: str, name: str = "", lang: str | None = None) -> Subscriber:
    """Add one active subscriber; an address already on the list is an error."""
    address, language = normalise_email(email), normalise_lang(lang)
    with store.transaction() as db:
        existing = find(store, address)
        if existing:
            raise SubscriberError(f"{existing.email} is already on the list ({existing.status})")
        _insert(db, address, name.strip(), language)
    found = find(store, address)
    assert found is not None
    return found


def import_csv(store: Store, path: Path) -> ImportResult:
    """Import `email,name,lang` rows: the good rows in one transaction, each bad one
    reported with its line; addresses already on the list are left as they are, so
    importing a file twice changes nothing (and never resubscribes anyone)."""
    result = ImportResult()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SubscriberError(f"{path}: cannot read: {error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise SubscriberError(f"{path}:1: the first line must be the header email,name,lang")
    with store.transaction() as db:
        for row in reader:
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if k}
            where = f"{path}:{reader.line_num}"
            try:
                address = normalise_email(row.get("email", ""))
                language = normalise_lang(row.get("lang"))
            except SubscriberError as error:
                result.problems.append(f"{where}: {error}")
                continue
            if find(store, address):
                result.already += 1
                continue
            _insert(db, address, row.get("name", "").strip(), language)
            result.added += 1
    return result


def find(store: Store, email: str) -> Subscriber | None:
    row = store.db.execute(
        "SELECT * FROM subscribers WHERE email = ? COLLATE NOCASE", (email.strip(),)
    ).fetchone()
    return _subscriber(row) if row else None


def listing(store: Store, status: str | None = None) -> list[Subscriber]:
    where, args = (" WHERE status = ?", [status]) if status else ("", [])
    rows = store.db.execute(f"SELECT * FROM subscribers{where} ORDER BY id", args)
    return [_subscriber(row) for row in rows]


def remove(store: Store, email: str) -> Subscriber:
    """Delete a subscriber and their delivery history (their personal data)."""
    with store.transaction() as db:
        subscriber = find(store, email)
        if subscriber is None:
            raise SubscriberError(f"{email.strip()} is not on the list")
        db.execute("DELETE FROM subscribers WHERE id = ?", (subscriber.id,))
    return subscriber


def unsubscribe(store: Store, token: str) -> Subscriber:
    """Unsubscribe by the token in a message's links; doing it twice is harmless."""
    with store.transaction() as db:
        row = db.execute("SELECT * FROM subscribers WHERE token = ?", (token.strip(),)).fetchone()
        if row is None:
            raise SubscriberError("no subscriber has that unsubscribe token")
        db.execute(
            "UPDATE subscribers SET status = 'unsubscribed', "
            "changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
            "WHERE id = ? AND status != 'unsubscribed'",
            (row["id"],),
        )
    found = find(store, row["email"])
    assert found is not None
    return found


def _insert(db: sqlite3.Connection, email: str, name: str, lang: str) -> None:
    db.execute(
        "INSERT INTO subscribers (email, name, lang, token) VALUES (?, ?, ?, ?)",
        (email, name, lang, new_token()),
    )


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(row["id"], row["email"], row["name"], row["lang"], row["status"],
                      row["token"], row["created_at"])  # fmt: skip
