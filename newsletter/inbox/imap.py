"""The IMAP source of `newsletter inbox`: the `[inbox]` folder on a mail server,
read with the standard library's `imaplib`.

Opening it connects (IMAPS for `tls`, STARTTLS for `starttls`, certificates
checked; plain for `none`, which only a server on this machine may use, as the
password would otherwise cross the network in clear), logs in, selects the folder
and lists its mail by UID. The mails are fetched one at a time as the inbox asks
for them, with `BODY.PEEK[]` so mail left for a person stays unread, and no more
than `max_size` + 1 bytes of each (`RFC822.SIZE` says how large it is): a 50 MB
mail never crosses the network whole. No fetch happens inside a store transaction,
so no network wait holds the store's write lock.

A handled mail is moved to `processed_folder`, an unreadable one to
`failed_folder` (each created and subscribed when missing): `UID MOVE` (RFC 6851)
where the server offers it, else UID COPY, \\Deleted and UID EXPUNGE (plain
EXPUNGE without UIDPLUS). Mail not understood is not touched. The store commits
before any mail is moved, so a mail whose move failed is known to it: the next
run counts it `already_handled` and moves it then.

Every failure is one `ImapUnavailable` line that names the server.
"""

from __future__ import annotations

import base64
import hashlib
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from typing import Any
from urllib.parse import quote

from newsletter.config import InboxSettings
from newsletter.core.errors import NewsletterError
from newsletter.inbox.read import InboxMail
from newsletter.mail.loopback import may_be_loopback, peer_is_loopback

Reply = tuple[str, list[Any]]
_SIZE = re.compile(r"RFC822\.SIZE (\d+)", re.IGNORECASE)

_CLEAR_PASSWORD = (
    "refusing to log in to the IMAP server {where} with no TLS: the password would "
    "cross the network in clear; set inbox.security to tls or starttls "
    "(a server on this machine, 127.0.0.1 or localhost, may go without)"
)


class ImapUnavailable(NewsletterError):
    """The IMAP server cannot be reached, refuses the login, or fails a command."""


class ImapSource:
    """One session with the server, for one run of the inbox (a context manager)."""

    def __init__(self, settings: InboxSettings, password: str, readonly: bool = False) -> None:
        self.settings = settings
        self.password = password
        self.readonly = readonly  # a dry run: EXAMINE the folder, never change it
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        self.where = f"{host}:{settings.port}"
        self.name = f"imap://{quote(settings.username, safe='')}@{self.where}/{settings.folder}"
        self.connection: imaplib.IMAP4 | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.max_size = settings.max_size
        self.uids: list[str] = []
        self.folders_ready: set[str] = set()

    def __enter__(self) -> ImapSource:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect, log in, select the folder and list the UIDs of its mail."""
        if not self.password:
            variable = self.settings.password_env
            raise ImapUnavailable(
                f"no password for the IMAP server {self.where}: "
                + (
                    f"the environment variable {variable} (inbox.password_env) is not set"
                    if variable
                    else "inbox.password_env names no environment variable"
                )
            )
        self.connection = self._connect()
        try:
            self._login()
            self._select()
            self.uids = self._search()
        except BaseException:
            self.close()
            raise

    def mails(self) -> Iterator[InboxMail]:
        """Each mail listed at opening, fetched when it is asked for."""
        for uid in self.uids:
            mail = self._fetch(uid)
            if mail is not None:  # None: expunged meanwhile by another client
                yield mail

    def done(self, mail: InboxMail) -> None:
        """Move a handled mail, marked seen, to the processed folder."""
        self._move(mail, self.settings.processed_folder, seen=True)

    def set_aside(self, mail: InboxMail, reason: str) -> None:
        """Move an unreadable mail, still unread, to the failed folder."""
        self._move(mail, self.settings.failed_folder, seen=False)

    def _move(self, mail: InboxMail, folder: str, seen: bool) -> None:
        doing = f"move mail UID {mail.key} to the folder {folder!r}"
        target = mailbox_name(folder)
        try:
            self._ensure_folder(folder)
            if seen:
                self._uid(doing, "STORE", mail.key, "+FLAGS.SILENT", r"(\Seen)")  # as in a Maildir
            if "MOVE" in self.capabilities:
                self._uid(doing, "MOVE", mail.key, target)
                return
            self._uid(doing, "COPY", mail.key, target)
            self._uid(doing, "STORE", mail.key, "+FLAGS.SILENT", r"(\Deleted)")
            if "UIDPLUS" in self.capabilities:
                self._uid(doing, "EXPUNGE", mail.key)
            else:
                self._call(doing, self._live().expunge)
        except ImapUnavailable as error:
            raise ImapUnavailable(f"{error} (it is handled: the next run moves it)") from None

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.logout()
        except (imaplib.IMAP4.error, OSError):
            with suppress(OSError):
                connection.shutdown()  # logout() did not get that far

    def _connect(self) -> imaplib.IMAP4:
        settings = self.settings
        if settings.security == "none" and not may_be_loopback(settings.host):
            raise ImapUnavailable(_CLEAR_PASSWORD.format(where=self.where))
        try:
            if settings.security == "tls":
                connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host,
                    settings.port,
                    ssl_context=ssl.create_default_context(),
                    timeout=settings.timeout,
                )
            else:
                connection = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        except (imaplib.IMAP4.error, OSError) as error:
            raise ImapUnavailable(
                f"cannot reach the IMAP server {self.where}: {describe(error)}"
            ) from None
        self.connection = connection
        try:
            self._secure(connection)
        except BaseException:
            self.close()
            raise
        return connection

    def _secure(self, connection: imaplib.IMAP4) -> None:
        """STARTTLS when asked for; no password in clear to another machine."""
        if self.settings.security == "starttls":
            if "STARTTLS" not in connection.capabilities:
                raise ImapUnavailable(
                    f"the IMAP server {self.where} does not offer STARTTLS "
                    "(inbox.security): use tls (IMAPS, port 993) if it offers that"
                )
            context = ssl.create_default_context()
            self._call("start TLS", partial(connection.starttls, context))
        elif self.settings.security == "none" and not peer_is_loopback(connection.sock):
            raise ImapUnavailable(_CLEAR_PASSWORD.format(where=self.where))

    def _login(self) -> None:
        """LOGIN, which every server takes; AUTHENTICATE PLAIN for a user name or
        password that is not ASCII (LOGIN cannot carry it)."""
        connection, user, password = self._live(), self.settings.username, self.password
        login: Callable[[], object]
        if user.isascii() and password.isascii():
            login = partial(connection.login, quoted(user), password)  # imaplib quotes this one
        elif "AUTH=PLAIN" in connection.capabilities:
            credentials = f"\0{user}\0{password}".encode()
            login = partial(connection.authenticate, "PLAIN", lambda _challenge: credentials)
        else:
            raise ImapUnavailable(
                f"the IMAP server {self.where} does not offer AUTH=PLAIN, needed for a user "
                "name or password that is not ASCII"
            )
        try:
            login()
        except (imaplib.IMAP4.abort, OSError) as error:
            raise ImapUnavailable(
                f"the IMAP server {self.where} failed to log in: {describe(error)}"
            ) from None
        except imaplib.IMAP4.error as error:
            raise ImapUnavailable(
                f"the IMAP server {self.where} refused the login of {user!r}: {describe(error)}"
            ) from None
        listed = self._call("ask for its capabilities", connection.capability)
        self.capabilities = frozenset(text(listed[-1]).upper().split())  # the latest word

    def _select(self) -> None:
        folder = self.settings.folder
        select = partial(self._live().select, mailbox_name(folder), self.readonly)
        self._call(f"open the folder {folder!r}", select, hint=" (inbox.folder)")

    def _search(self) -> list[str]:
        """The UIDs of every mail not marked deleted."""
        folder = self.settings.folder
        [found] = self._uid(f"list the mail in {folder!r}", "SEARCH", "UNDELETED")
        return text(found).split()

    def _fetch(self, uid: str) -> InboxMail | None:
        """One mail's size and first `max_size` + 1 bytes, without setting \\Seen.

        A mail cut short is hashed with its size, so the same mail is known again."""
        items = f"(RFC822.SIZE BODY.PEEK[]<0.{self.max_size + 1}>)"
        data = self._uid(f"fetch mail UID {uid}", "FETCH", uid, items)
        raw = next((part[1] for part in data if isinstance(part, tuple)), None)
        if not isinstance(raw, bytes):
            return None
        said = " ".join(text(part[0] if isinstance(part, tuple) else part) for part in data)
        found = _SIZE.search(said)
        size = int(found.group(1)) if found else len(raw)
        if size <= len(raw):
            return InboxMail.whole(uid, raw)
        digest = hashlib.sha256(raw + b"\0size=%d" % size).hexdigest()
        return InboxMail(uid, raw, size, digest)

    def _ensure_folder(self, folder: str) -> None:
        if folder in self.folders_ready:
            return
        name = mailbox_name(folder)
        listed = self._call(
            f"look for the folder {folder!r}", partial(self._live().list, '""', name)
        )
        if not any(listed):
            self._call(f"create the folder {folder!r}", partial(self._live().create, name))
            self._call(f"subscribe to the folder {folder!r}", partial(self._live().subscribe, name))
        self.folders_ready.add(folder)

    def _uid(self, doing: str, command: str, *args: str) -> list[Any]:
        return self._call(doing, partial(self._live().uid, command, *args))

    def _call(self, doing: str, command: Callable[[], Reply], hint: str = "") -> list[Any]:
        """Run one command; its data, or one line saying what failed and why (and,
        when the server refused it, the `hint` of the setting to check)."""
        try:
            status, data = command()
        except (imaplib.IMAP4.error, OSError) as error:
            raise ImapUnavailable(
                f"the IMAP server {self.where} failed to {doing}: {describe(error)}"
            ) from None
        if status != "OK":
            raise ImapUnavailable(
                f"the IMAP server {self.where} refused to {doing}: "
                f"{text(data[-1] if data else '')}{hint}"
            )
        return data

    def _live(self) -> imaplib.IMAP4:
        if self.connection is None:
            raise ImapUnavailable(f"the IMAP server {self.where}: not connected")
        return self.connection


def mailbox_name(name: str) -> str:
    """A folder name as IMAP carries it: modified UTF-7 (RFC 3501 5.1.3), quoted."""

    def encoded(run: re.Match[str]) -> str:
        data = base64.b64encode(run.group().encode("utf-16-be")).decode("ascii")
        return "&" + data.rstrip("=").replace("/", ",") + "-"

    utf7 = re.sub(r"[^\x20-\x7e]+", encoded, name.replace("&", "&-"))
    return quoted(utf7)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text(value: object) -> str:
    """What a server said, as text (imaplib gives bytes, in lists or in exceptions)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def describe(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    said = text(error.args[0]) if error.args else ""
    if isinstance(error, imaplib.IMAP4.abort):
        return f"connection lost ({said})" if said else "connection lost"
    return said or str(error) or type(error).__name__
