"""SMTP sessions with `smtplib`, and what each server reply means for a delivery.

A session is opened once and reused for many messages. Replies are sorted into
three outcomes: accepted; refused for good (a 5xx for that recipient: list hygiene,
the run goes on); or try again later (a 4xx, a dropped connection, a timeout). A
server that cannot be reached, or that refuses the login, is `SmtpUnavailable`:
the run stops there and leaves the rest to resume.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from newsletter.config import SmtpSettings
from newsletter.errors import NewsletterError


class SmtpUnavailable(NewsletterError):
    """The server cannot be reached or will not let us in: nothing can be sent."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `sent`, `failed` (for good) or `retry`."""

    status: str
    reply: str = ""


SENT = Outcome("sent")


class SmtpSession:
    """One connection to the server, logged in, reused for many messages."""

    def __init__(self, settings: SmtpSettings, password: str) -> None:
        self.settings = settings
        self.password = password
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect (TLS or STARTTLS as configured, certificates checked) and log in."""
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            if settings.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )  # fmt: skip
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
        except (OSError, smtplib.SMTPException) as error:
            raise SmtpUnavailable(
                f"cannot reach the SMTP server {where}: {_describe(error)}"
            ) from None
        if settings.username:
            try:
                connection.login(settings.username, self.password)
            except (OSError, smtplib.SMTPException) as error:
                connection.close()
                raise SmtpUnavailable(
                    f"the SMTP server {where} refused the login of {settings.username!r}: "
                    f"{_describe(error)}"
                ) from None
        self.connection = connection

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Offer one message; say what the server made of it."""
        if self.connection is None:
            self.open()
        assert self.connection is not None
        try:
            return self._transaction(self.connection, sender, recipient, message)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            return Outcome("retry", f"connection lost: {_describe(error)}")

    def _transaction(
        self, connection: smtplib.SMTP, sender: str, recipient: str, message: bytes
    ) -> Outcome:
        """MAIL, RCPT, DATA. Like `smtplib.sendmail`, but the message is known to have
        CRLF line ends already, so it skips the two regular expressions that
        `sendmail` runs over every message (a third of the time per message)."""
        for command, argument in (("mail", sender), ("rcpt", recipient)):
            code, reply = getattr(connection, command)(argument)
            if code not in (250, 251):
                self._reset_after(code)
                return _by_code(code, reply)
        connection.putcmd("data")
        code, reply = connection.getreply()
        if code != 354:
            self._reset_after(code)
            return _by_code(code, reply)
        stuffed = message.replace(b"\r\n.", b"\r\n..")  # RFC 5321 4.5.2 dot-stuffing
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        connection.send(stuffed + (b"" if stuffed.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        code, reply = connection.getreply()
        if code != 250:
            self._reset_after(code)
            return _by_code(code, reply)
        return SENT

    def _reset_after(self, code: int) -> None:
        """After a refused transaction, start the next one clean (or reconnect)."""
        if code == 421 or self.connection is None:
            self.close()
            return
        try:
            self.connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


def _by_code(code: int, reply: bytes | str) -> Outcome:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    status = "failed" if 500 <= code < 600 else "retry"
    return Outcome(status, f"{code} {text}".strip())


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {text}"
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return str(error) or type(error).__name__
