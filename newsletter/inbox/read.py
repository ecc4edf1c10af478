"""Where the mail comes from: a Maildir or an mbox, behind one `MailSource` protocol.

A source lists its mails one at a time as `InboxMail` items (a key, the start of the
raw bytes, the size and a SHA-256 of the whole) and is told what became of each:
`done` (handled) or `set_aside` (unreadable, `parse.py`). A Maildir moves a
handled mail into its `processed` subfolder (Maildir++ `.processed`, flagged
seen) and an unreadable one into `.failed`, so the inbox keeps only what needs a
person; an mbox is left as it is (rewriting a file a mail server appends to is
unsafe) and the store remembers a SHA-256 of each mail instead, as it does for
every source. The IMAP source (`imap.py`) implements the same protocol.

No source holds more than one mail, nor more than `max_size` + 1 bytes of it: a
50 MB mail is hashed as it streams past and only its start is kept.
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from newsletter.config import InboxSettings
from newsletter.core.errors import NewsletterError

PROCESSED = "processed"
FAILED = "failed"
MAX_SIZE = InboxSettings.max_size
CHUNK = 1 << 20


@dataclass(frozen=True)
class InboxMail:
    """One mail: `raw` is all of it, or its first `max_size` + 1 bytes when it is
    larger (`size` says how large); `sha256` is of the whole mail as the source has it."""

    key: str
    raw: bytes
    size: int
    sha256: str

    @classmethod
    def whole(cls, key: str, raw: bytes) -> InboxMail:
        return cls(key, raw, len(raw), hashlib.sha256(raw).hexdigest())

    @classmethod
    def streamed(cls, key: str, handle: Readable, limit: int) -> InboxMail:
        """Read `handle` to its end, keeping its first `limit` bytes and hashing it all."""
        digest, head, size = hashlib.sha256(), bytearray(), 0
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if len(head) < limit:
                head += chunk[: limit - len(head)]
        return cls(key, bytes(head), size, digest.hexdigest())


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class MailSource(Protocol):
    """A mailbox the inbox reads: its mails, and ways to put one aside."""

    name: str
    max_size: int  # bytes of a mail that `parse` reads; sources keep one more

    def mails(self) -> Iterator[InboxMail]: ...

    def done(self, mail: InboxMail) -> None: ...

    def set_aside(self, mail: InboxMail, reason: str) -> None: ...


class MaildirSource:
    def __init__(self, path: Path, max_size: int = MAX_SIZE) -> None:
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise NewsletterError(f"{path}: not a Maildir (no cur/ and new/ in it)")
        self.name = str(path)
        self.path = path
        self.max_size = max_size
        self.files: dict[str, Path] = {}  # key -> file, of the mails given out

    def mails(self) -> Iterator[InboxMail]:
        found = {}
        for subdir in ("new", "cur"):
            for entry in os.scandir(self.path / subdir):
                if not entry.name.startswith(".") and entry.is_file():
                    found[entry.name.split(":")[0]] = Path(entry.path)
        for key in sorted(found):
            try:
                with found[key].open("rb") as handle:
                    mail = InboxMail.streamed(key, handle, self.max_size + 1)
            except FileNotFoundError:
                continue  # taken by another reader meanwhile
            self.files[key] = found[key]
            yield mail

    def done(self, mail: InboxMail) -> None:
        """Move into `.processed/cur` (flagged seen), out of the inbox."""
        source = self.files.pop(mail.key)
        flags = set(source.name.partition(":2,")[2]) | {"S"}
        self._move(source, PROCESSED, f"cur/{mail.key}:2,{''.join(sorted(flags))}")

    def set_aside(self, mail: InboxMail, reason: str) -> None:
        """Move into `.failed`, as it was (new mail stays new), for a person to look at."""
        source = self.files.pop(mail.key)
        self._move(source, FAILED, f"{source.parent.name}/{source.name}")

    def _move(self, source: Path, folder: str, name: str) -> None:
        target = self.path / f".{folder}"
        if not target.is_dir():
            mailbox.Maildir(self.path, factory=None, create=False).add_folder(folder)
        os.rename(source, target / name)


class MboxSource:
    def __init__(self, path: Path, max_size: int = MAX_SIZE) -> None:
        if not path.is_file():
            raise NewsletterError(f"{path}: no such mbox file")
        self.name = str(path)
        self.path = path
        self.max_size = max_size

    def mails(self) -> Iterator[InboxMail]:
        box = mailbox.mbox(self.path, factory=None, create=False)
        try:
            for key in box.iterkeys():
                with box.get_file(key) as handle:
                    yield InboxMail.streamed(str(key), handle, self.max_size + 1)
        finally:
            box.close()

    def done(self, mail: InboxMail) -> None:
        """Nothing to do: the store remembers it (see the module's docstring)."""

    def set_aside(self, mail: InboxMail, reason: str) -> None:
        """Nothing to do either: the store remembers it as failed."""


def open_source(maildir: Path | None, mbox: Path | None, max_size: int = MAX_SIZE) -> MailSource:
    if maildir is not None:
        if not maildir.exists():
            raise NewsletterError(f"{maildir}: no such Maildir")
        return MaildirSource(maildir, max_size)
    assert mbox is not None
    return MboxSource(mbox, max_size)
