"""Exclusive locks on files beside the database, across processes.

`flock` locks belong to the open file, so the operating system drops them when the
process ends, even by SIGKILL: a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import TextIO

from newsletter.core.errors import NewsletterError

HOLDER_WAIT = 2.0
"""Seconds a loser waits for the winner to write its pid (it does so at once)."""


class FileLock:
    """Non-blocking: `acquire` says whether we got it; the file names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None

    def acquire(self, command: str = "") -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        file.seek(0)
        file.truncate()
        file.write(f"pid {os.getpid()}{' ' + command if command else ''}\n")
        file.flush()
        self.file = file
        return True

    def holder(self) -> str:
        """Who holds it, as the holder wrote it (`pid 1234 send`).

        The holder takes the lock and then writes its pid: a loser that looks in
        between finds the file empty, so it waits for the line, briefly.
        """
        deadline = time.monotonic() + HOLDER_WAIT
        while True:
            try:
                text = self.path.read_text(encoding="utf-8")
            except OSError:
                text = ""
            line, newline, _ = text.partition("\n")
            if newline or time.monotonic() > deadline:
                return line.strip() or "another process"
            time.sleep(0.01)

    def release(self) -> None:
        if self.file:
            self.file.truncate(0)  # the next holder's pid is the only one ever read
            self.file.flush()
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


class Busy(NewsletterError):
    """Another process holds the lock; the message says which and what it is doing."""


class Exclusive:
    """Hold the lock for `purpose` beside the database for the block, or raise Busy.

    One way to exclude, for every purpose: one `compose` or `send` at a time
    (`issue_lock`), and one weekly job at a time (`run_lock`, whose caller skips a
    run when one is still going).
    """

    def __init__(self, database: Path, purpose: str, command: str, doing: dict[str, str]) -> None:
        self.lock = FileLock(database.with_name(f"{database.name}.{purpose}-lock"))
        self.command = command
        self.doing = doing  # what each holding command is doing, for the message

    def __enter__(self) -> Exclusive:
        if not self.lock.acquire(self.command):
            pid, _, command = self.lock.holder().removeprefix("pid ").partition(" ")
            doing = self.doing.get(command, "is running")
            who = f"`newsletter {command}` (pid {pid})" if pid.isdigit() and command else "process"
            raise Busy(
                f"another {who} {doing} from {self.lock.path.parent}; "
                f"run `newsletter {self.command}` again when it has finished"
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()


def issue_lock(database: Path, command: str) -> Exclusive:
    """One `compose` or `send` at a time per database.

    `send` holds it from reading the issue's files to the last delivery, `compose`
    from picking papers to placing the issue's folder: a compose can never change
    an issue that a send has read, nor a send start on a half-placed issue.
    """
    doing = {"send": "is delivering an issue", "compose": "is composing an issue"}
    return Exclusive(database, "send", command, doing)


def run_lock(database: Path) -> Exclusive:
    """One weekly job at a time per database, whatever starts it."""
    return Exclusive(database, "run", "run-once", {"run-once": "is running the weekly job"})
