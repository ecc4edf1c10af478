"""Where the mail comes from: a Maildir or an mbox, behind one `Source` protocol.

A source lists its mails as `Mail` items (the raw bytes and a key) and is told
which ones were handled. A Maildir moves handled mail into its `processed`
subfolder (Maildir++ `.processed`), so the inbox keeps only what needs a person;
an mbox is left as it is (rewriting a file a mail server appends to is unsafe) and
the store remembers a SHA-256 of each handled mail instead, as it does for every
source. The IMAP source (`imap.py`) implements the same protocol.
"""

from __future__ import annotations

import hashlib
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from newsletter.errors import NewsletterError

PROCESSED = "processed"


@dataclass(frozen=True)
class Mail:
    key: str
    raw: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


class Source(Protocol):
    """A mailbox the inbox reads: its mails, and a way to put a handled one aside."""

    name: str

    def mails(self) -> Iterator[Mail]: ...

    def done(self, mail: Mail) -> None: ...


class MaildirSource:
    def __init__(self, path: Path) -> None:
        if not (path / "cur").is_dir() or not (path / "new").is_dir():
            raise NewsletterError(f"{path}: not a Maildir (no cur/ and new/ in it)")
        self.name = str(path)
        self.box = mailbox.Maildir(path, factory=None, create=False)

    def mails(self) -> Iterator[Mail]:
        for key in sorted(self.box.keys()):
            with self.box.get_file(key) as handle:
                yield Mail(key, handle.read())

    def done(self, mail: Mail) -> None:
        """Move into `.processed` (kept, flagged seen), out of the inbox."""
        folder = (
            self.box.get_folder(PROCESSED)
            if PROCESSED in self.box.list_folders()
            else self.box.add_folder(PROCESSED)
        )
        message = mailbox.MaildirMessage(mail.raw)
        message.set_subdir("cur")
        message.add_flag("S")
        folder.add(message)
        self.box.discard(mail.key)


class MboxSource:
    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise NewsletterError(f"{path}: no such mbox file")
        self.name = str(path)
        self.path = path

    def mails(self) -> Iterator[Mail]:
        box = mailbox.mbox(self.path, factory=None, create=False)
        try:
            found = [Mail(str(key), box.get_bytes(key)) for key in box.iterkeys()]
        finally:
            box.close()
        yield from found

    def done(self, mail: Mail) -> None:
        """Nothing to do: the store remembers it (see the module's docstring)."""


def open_source(maildir: Path | None, mbox: Path | None) -> Source:
    if maildir is not None:
        if not maildir.exists():
            raise NewsletterError(f"{maildir}: no such Maildir")
        return MaildirSource(maildir)
    assert mbox is not None
    return MboxSource(mbox)
