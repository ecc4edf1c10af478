"""A local SMTP server that keeps what it receives: try `send` without mailing anyone.

`newsletter smtp-sink` listens on 127.0.0.1:1025 (aiosmtpd) and appends every message
to an mbox file that any mail client opens.

The mbox holds every address and every subscriber's unsubscribe token, so it is
readable by its owner only (mode 600), like the database, whatever the umask. One
that exists with wider permissions is tightened at start, with a line saying so,
rather than only warned about: a warning leaves the tokens readable while the sink
keeps adding more, and its owner loses nothing (a mail client runs as them). If the
file is removed while the sink runs, the next message makes it again, mode 600.
"""

from __future__ import annotations

import mailbox
import os
import signal
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from newsletter.core.errors import NewsletterError


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
            private_file(self.path)  # before `mailbox` makes it with the umask's mode
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


PRIVATE = 0o600


def private_file(path: Path) -> int:
    """Make sure `path` exists with mode 600 (created so, or tightened); the mode it
    had before, or 0 if it was made now."""
    try:
        before = path.lstat().st_mode & 0o777
    except FileNotFoundError:
        before = 0
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, PRIVATE)
        try:
            os.fchmod(handle, PRIVATE)  # exactly 600: os.open's mode only loses bits to the umask
        finally:
            os.close(handle)
    except OSError as error:
        raise NewsletterError(
            f"{path}: cannot keep messages there: {error.strerror or error}"
        ) from None
    return before


def run_sink(
    host: str, port: int, mbox: Path, announce: Callable[[str], None] | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    from aiosmtpd.controller import Controller

    before = private_file(mbox)
    if before not in (0, PRIVATE) and announce:
        announce(
            f"{mbox} was mode {before:03o}; made it 600: it holds addresses and unsubscribe tokens"
        )
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
