"""The subscriber list: add, import from CSV, list, remove, unsubscribe.

Addresses are checked for syntax (email-validator, no DNS look-ups) and compared
case-insensitively. Names end up in the `To:` header of every message, so they are
checked too: no control characters (a CR or LF would start a header of its own) and
at most `NAME_MAX` characters. Each subscriber gets an unguessable token (192 random
bits in letters and digits: nothing a shell or click could read as an option) that
their unsubscribe links carry.

Whoever is removed stays gone: removal erases the person (their row; their delivery
rows lose the link to them but still count) and keeps only a hash of the address in
`suppressions`, so that re-importing last year's CSV does not mail them again.
Adding them back takes `resubscribe=True` (`--resubscribe`), for when they ask.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.core import clock
from newsletter.core.errors import NewsletterError
from newsletter.core.model import EDITIONS, Subscriber
from newsletter.core.text import header_unsafe, shorten
from newsletter.store import Store, bounces, outbox, pending
from newsletter.store import subscribers as rows

NAME_MAX = 100  # characters: a display name, not a biography
TOKEN_ALPHABET = string.digits + string.ascii_letters
TOKEN_LENGTH = 33  # 62 ** 33 > 2 ** 192


class SubscriberError(NewsletterError):
    """An address or a subscriber that cannot be used."""


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    kept_off: list[str] = field(default_factory=list)  # removed earlier, each with its line
    problems: list[str] = field(default_factory=list)


TOKEN_SHAPE = r"[A-Za-z0-9_-]{16,64}"
"""What a subscriber's token may look like wherever one is read back (a link, a VERP
address, a subject): wide enough for tokens made by earlier versions (`_` and `-`),
narrow enough that nothing else passes for one."""


def new_token() -> str:
    """192 random bits as 33 letters and digits: the key to one subscriber's links.

    No `-` or `_` (secrets.token_urlsafe starts one token in 64 with `-`, which a
    command line reads as an option), so a token is also one word to double-click.
    """
    number = secrets.randbits(192)
    digits = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, len(TOKEN_ALPHABET))
        digits.append(TOKEN_ALPHABET[digit])
    return "".join(digits)


def normalise_email(email: str) -> str:
    """The address as it will be stored and sent to, or SubscriberError saying why not."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise SubscriberError(f"{email.strip()!r} is not a valid address: {error}") from None
    return str(checked.normalized)


def normalise_name(name: str | None) -> str:
    """The display name as stored (it goes into the `To:` header), or SubscriberError."""
    value = (name or "").strip()
    bad = header_unsafe(value)
    if bad:
        raise SubscriberError(
            f"the name {shorten(value)!r} contains a control character "
            f"(U+{ord(bad):04X}); names are one line of text"
        )
    if len(value) > NAME_MAX:
        raise SubscriberError(
            f"the name {shorten(value)!r} is {len(value)} characters long; "
            f"at most {NAME_MAX} are allowed"
        )
    return value


def normalise_lang(lang: str | None) -> str:
    value = (lang or "").strip().lower() or "bilingual"
    if value not in EDITIONS:
        raise SubscriberError(f"{lang!r} is not a language: use {', '.join(EDITIONS)}")
    return value


def address_hash(email: str) -> str:
    """What `suppressions` keeps of a removed address: SHA-256 of it, case-folded."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def is_suppressed(store: Store, email: str) -> bool:
    """Whether `email` was removed from the list (and so must not be added back)."""
    return rows.is_suppressed(store.db, address_hash(email))


def add(
    store: Store, email: str, name: str = "", lang: str | None = None, resubscribe: bool = False
) -> Subscriber:
    """Add one active subscriber; an address on the list, or removed from it (unless
    `resubscribe`), is an error."""
    address, language = normalise_email(email), normalise_lang(lang)
    clean_name = normalise_name(name)
    with store.transaction() as db:
        existing = find(store, address)
        if existing:
            raise SubscriberError(f"{existing.email} is already on the list ({existing.status})")
        if not _may_add(store, address, resubscribe):
            raise SubscriberError(
                f"{address} was removed from the list earlier; add it again only if they "
                "asked to come back: --resubscribe"
            )
        rows.insert(db, address, clean_name, language, new_token())
    found = find(store, address)
    assert found is not None
    return found


def activate(store: Store, email: str, name: str = "", lang: str | None = None) -> Subscriber:
    """Put a confirmed address on the list: added if new, active again (with this name
    and language) if it unsubscribed. An address removed from the list is refused:
    only the operator brings it back (`add --resubscribe`)."""
    address, language = normalise_email(email), normalise_lang(lang)
    clean_name = normalise_name(name)
    with store.transaction() as db:
        if is_suppressed(store, address):
            raise SubscriberError(f"{address} was removed from the list; it cannot rejoin here")
        existing = rows.find(db, address)
        if existing is None:
            rows.insert(db, address, clean_name, language, new_token())
        elif existing.status != "active":
            rows.set_active(db, existing.id, clean_name, language)
    found = find(store, address)
    assert found is not None
    return found


def import_csv(store: Store, path: Path, resubscribe: bool = False) -> ImportResult:
    """Import `email,name,lang` rows: the good rows in one transaction, each bad one
    reported with its line; addresses already on the list are left as they are, and
    addresses removed earlier are kept off it (unless `resubscribe`), so importing a
    file again changes nothing and never resubscribes anyone."""
    result = ImportResult()
    with store.transaction() as db:
        for line, row in _csv_rows(path):
            where = f"{path}:{line}"
            try:
                address = normalise_email(row.get("email", ""))
                name = normalise_name(row.get("name"))
                language = normalise_lang(row.get("lang"))
            except SubscriberError as error:
                result.problems.append(f"{where}: {error}")
                continue
            if find(store, address):
                result.already += 1
            elif not _may_add(store, address, resubscribe):
                result.kept_off.append(
                    f"{where}: {address} was removed from the list earlier; kept off "
                    "(--resubscribe adds it back if they asked to come back)"
                )
            else:
                rows.insert(db, address, name, language, new_token())
                result.added += 1
    return result


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row of the CSV file with the line it starts on (a quoted field may
    span lines), its columns named by the header, lower-cased. Line breaks inside
    fields are kept as they are (to be refused in a name); a file that is not valid
    CSV (a quote left open swallows the rest of the file) is an error."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SubscriberError(f"{path}: cannot read: {error}") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    line = 1
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if "email" not in header:
            raise SubscriberError(f"{path}:1: the first line must be the header email,name,lang")
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if any(cell.strip() for cell in row):
                yield line, {key: value for key, value in zip(header, row, strict=False) if key}
    except csv.Error as error:
        raise SubscriberError(f"{path}:{line}: not valid CSV: {error}") from None


def find(store: Store, email: str) -> Subscriber | None:
    return rows.find(store.db, email)


def listing(store: Store, status: str | None = None) -> list[Subscriber]:
    return rows.listing(store.db, status)


def remove(store: Store, email: str) -> str:
    """Erase a subscriber's (or a pending sign-up's) personal data and keep the address
    off the list; the address removed.

    Their delivery and bounce rows stay, without them (and without the server replies
    and bounce diagnostics, which may quote the address), so past issues keep their
    counts; a delivery still pending is skipped. A sign-up waiting for confirmation
    is deleted with its link, and every outbox message to the address with it.
    """
    now = clock.stamp()
    with store.transaction() as db:
        subscriber = rows.find(db, email)
        waiting = pending.find(db, email.strip(), now)
        if subscriber is None and waiting is None:
            raise SubscriberError(f"{email.strip()} is not on the list")
        address = subscriber.email if subscriber else waiting.email if waiting else email
        bounces.forget(db, subscriber.id if subscriber else None, address)
        outbox.forget(db, address)
        if subscriber is not None:
            rows.delete(db, subscriber.id)
        pending.forget(db, address)  # its sign-up, and a link it used, with it
        rows.suppress(db, address_hash(address))
    return address


def unsubscribe(store: Store, token: str) -> Subscriber:
    """Unsubscribe by the token in a message's links; doing it twice is harmless."""
    with store.transaction() as db:
        found = rows.find_by_token(db, token.strip())
        if found is None:
            raise SubscriberError("no subscriber has that unsubscribe token")
        rows.set_unsubscribed(db, found.id)
    gone = rows.find_by_token(store.db, found.token)
    assert gone is not None
    return gone


def _may_add(store: Store, address: str, resubscribe: bool) -> bool:
    """False for an address removed earlier; with `resubscribe`, lift that and say True."""
    if resubscribe:
        rows.lift_suppression(store.db, address_hash(address))
        return True
    return not is_suppressed(store, address)
