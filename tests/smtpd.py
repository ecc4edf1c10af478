"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), with faults on demand.

Faults live here, in the server's handler, never in patched clients: a reply
scripted per recipient (451 once, 550 always), a reply to MAIL FROM or after the
message for everyone, a connection dropped after N messages, a slow server, a
login that is refused, a server that does not offer PIPELINING or 8BITMIME; and a
hook that runs as each message arrives.

Messages are kept as the bytes that arrived (`decode_data=False`: aiosmtpd only
takes the dot-stuffing off), with the MAIL FROM parameters that came with them. A
server told not to offer 8BITMIME refuses `BODY=8BITMIME` and any message with a
byte beyond ASCII, as RFC 6152 lets it: a client that sends one anyway fails a test.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    recipient: str
    raw: bytes
    mail_options: list[str] = field(default_factory=list)  # BODY=8BITMIME, SMTPUTF8

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FaultyHandler:
    """Accepts mail, unless told otherwise."""

    replies: dict[str, list[str]] = field(default_factory=dict)  # per recipient, in order
    drop_after: int | None = None  # close the connection instead of accepting message N+1
    delay: float = 0.0  # seconds before answering DATA
    pipelining: bool = True  # offer PIPELINING (RFC 2920), as most servers do
    eightbit: bool = True  # offer 8BITMIME (RFC 6152), as most servers do
    eightbit_sessions: int | None = None  # offer it to this many sessions, then no more
    sessions: int = 0  # EHLOs answered
    mail_reply: str = ""  # answer every MAIL FROM with this instead of 250
    data_reply: str = ""  # answer every message with this instead of 250
    on_message: Callable[[int], None] | None = None  # told the count as each one arrives
    received: list[Received] = field(default_factory=list)
    mail_from: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        if not getattr(session, "eightbit", False) and "BODY=8BITMIME" in options:
            return "555 5.5.4 BODY=8BITMIME was not offered"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        self.mail_from.append(address)
        return "250 OK"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        with self.lock:
            self.sessions += 1
            session.eightbit = self.eightbit and (
                self.eightbit_sessions is None or self.sessions <= self.eightbit_sessions
            )
        if not session.eightbit:
            responses.remove("250-8BITMIME")
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        scripted = self.replies.get(address.lower())
        if scripted:
            reply = scripted.pop(0) if len(scripted) > 1 else scripted[0]
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.data_reply:
            return self.data_reply
        if not getattr(session, "eightbit", False) and not envelope.original_content.isascii():
            return "554 5.6.1 8-bit data, and 8BITMIME was not offered"
        with self.lock:
            if self.drop_after is not None and len(self.received) >= self.drop_after:
                self.drop_after = None  # once
                server.transport.close()
                return "421 dropped"
            for recipient in envelope.rcpt_tos:
                self.received.append(
                    Received(
                        recipient.lower(), envelope.original_content, list(envelope.mail_options)
                    )
                )
            count = len(self.received)
        if self.on_message:
            self.on_message(count)
        return "250 OK: queued"

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(item.recipient for item in self.received)

    def wait_for(self, messages: int, timeout: float = 30) -> None:
        """Until at least `messages` have arrived (or `timeout` seconds pass)."""
        wait_until(lambda: sum(self.count().values()) >= messages, timeout)


def wait_until(condition: Callable[[], object], timeout: float = 30) -> None:
    """Poll `condition` until it holds; fail the test if it does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {condition}")
        time.sleep(0.01)


class SmtpServer:
    """aiosmtpd in a thread; `port` is free, `handler` is the faulty handler."""

    def __init__(
        self,
        login: tuple[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        smtputf8: bool = False,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls_context` offers STARTTLS; `implicit_tls` speaks TLS from the start."""
        self.handler = FaultyHandler()
        self.port = free_port()
        kwargs: dict[str, Any] = {"tls_context": tls_context} if tls_context else {}
        if implicit_tls:
            kwargs["ssl_context"] = implicit_tls
        kwargs["enable_SMTPUTF8"] = smtputf8
        if login:
            kwargs.update(
                authenticator=_Authenticator(*login), auth_required=True, auth_require_tls=False
            )
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, decode_data=False, **kwargs
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.controller.stop()


class _Authenticator:
    def __init__(self, username: str, password: str) -> None:
        self.login = (username.encode(), password.encode())

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.login
        )
        return AuthResult(success=ok, handled=False)
