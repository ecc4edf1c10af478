"""Exclusive locks on files beside the database, across processes.

`flock` locks belong to the open file, so the operating system drops them when the
process ends, even by SIGKILL: a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO


class FileLock:
    """Non-blocking: `acquire` says whether we got it; the file names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        file.seek(0)
        file.truncate()
        file.write(f"pid {os.getpid()}")
        file.flush()
        self.file = file
        return True

    def holder(self) -> str:
        """Who holds it, as the holder wrote it (`pid 1234`)."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"

    def release(self) -> None:
        if self.file:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def beside(database: Path, purpose: str) -> FileLock:
    """The lock for `purpose` (`send`, `run`) of the store at `database`."""
    return FileLock(database.with_name(f"{database.name}.{purpose}-lock"))
