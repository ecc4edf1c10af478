"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), with faults on demand.

Faults live here, in the server's handler, never in patched clients: a reply
scripted per recipient (451 once, 550 always), a connection dropped after N
messages, a slow server, a login that is refused.
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
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
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
        with self.lock:
            if self.drop_after is not None and len(self.received) >= self.drop_after:
                self.drop_after = None  # once
                server.transport.close()
                return "421 dropped"
            for recipient in envelope.rcpt_tos:
                self.received.append(Received(recipient.lower(), envelope.original_content))
        return "250 OK: queued"

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(item.recipient for item in self.received)

    def wait_for(self, messages: int, timeout: float = 30) -> None:
        """Until at least `messages` have arrived (or `timeout` seconds pass)."""
        deadline = time.monotonic() + timeout
        while sum(self.count().values()) < messages and time.monotonic() < deadline:
            time.sleep(0.01)


class SmtpServer:
    """aiosmtpd in a thread; `port` is free, `handler` is the faulty handler."""

    def __init__(
        self, login: tuple[str, str] | None = None, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.handler = FaultyHandler()
        self.port = free_port()
        kwargs: dict[str, Any] = {"tls_context": tls_context} if tls_context else {}
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

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:  # fmt: skip
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.login
        )
        return AuthResult(success=ok, handled=False)
