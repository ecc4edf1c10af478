"""A local SMTP server that keeps what it receives: try `send` without mailing anyone.

`newsletter smtp-sink` listens on 127.0.0.1:1025 (aiosmtpd) and appends every message
to an mbox file that any mail client opens.
"""

from __future__ import annotations

import mailbox
import signal
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError


class MboxHandler:
    """aiosmtpd handler: append each message to an mbox, one writer at a time."""

    def __init__(self, path: Path, announce: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.announce = announce
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.compat32)
        with self.lock:
            box = mailbox.mbox(self.path)
            box.lock()
            try:
                box.add(mailbox.mboxMessage(message))
                box.flush()
            finally:
                box.unlock()
                box.close()
            self.count += 1
        if self.announce:
            subject = message_from_bytes(content, policy=policy.default)["Subject"]
            self.announce(f"received #{self.count}: {', '.join(envelope.rcpt_tos)}: {subject}")
        return "250 OK: stored"


def run_sink(
    host: str, port: int, mbox: Path, announce: Callable[[str], None] | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    from aiosmtpd.controller import Controller

    handler = MboxHandler(mbox, announce)
    controller = Controller(handler, hostname=host, port=port)
    try:
        controller.start()
    except (OSError, RuntimeError) as error:
        raise NewsletterError(f"cannot listen on {host}:{port}: {error}") from None
    if announce:
        announce(
            f"SMTP sink listening on {host}:{port}, storing messages in {mbox}; Ctrl-C stops it"
        )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with `&`, where
        signal.signal(signum, lambda *_: stop.set())  # the shell ignores SIGINT for it
    try:
        while not stop.wait(3600):
            pass
    finally:
        controller.stop()
        if announce:
            announce(f"stopped: {handler.count} messages stored in {mbox}")
