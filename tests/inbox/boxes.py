"""The three mailboxes `newsletter inbox` reads, behind one face for the tests: a
Maildir, an mbox file, and a folder on a real Dovecot over IMAP.

Each one takes mail (`put`), says how `inbox` is pointed at it (`args`: options,
or for IMAP an `[inbox]` table in the workspace's config and the password in the
environment), and shows what is still waiting in it and what was put aside
(`waiting`, `put_aside`, and `failed` for unreadable mail: raw mails). An mbox is
never rewritten: nothing is put aside (`moves` is False).
"""

from __future__ import annotations

import mailbox
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.imapd import HOST, PASSWORD, Imapd


class MaildirBox:
    kind, moves = "maildir", True

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / "Maildir"
        mailbox.Maildir(self.path)  # created empty

    def put(self, *mails: bytes) -> None:
        box = mailbox.Maildir(self.path)
        for raw in mails:
            box.add(raw)

    def args(self) -> list[str]:
        return ["--maildir", str(self.path)]

    def waiting(self) -> list[bytes]:
        return _raw(mailbox.Maildir(self.path))

    def put_aside(self) -> list[bytes]:
        return self._folder("processed")

    def failed(self) -> list[bytes]:
        return self._folder("failed")

    def _folder(self, name: str) -> list[bytes]:
        box = mailbox.Maildir(self.path)
        return _raw(box.get_folder(name)) if name in box.list_folders() else []


class MboxBox:
    kind, moves = "mbox", False

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / "bounces.mbox"
        self.path.touch()

    def put(self, *mails: bytes) -> None:
        box = mailbox.mbox(self.path)
        for raw in mails:
            box.add(raw)
        box.close()

    def args(self) -> list[str]:
        return ["--mbox", str(self.path)]

    def waiting(self) -> list[bytes]:
        box = mailbox.mbox(self.path)
        try:
            return sorted(box.get_bytes(key) for key in box.iterkeys())
        finally:
            box.close()

    def put_aside(self) -> list[bytes]:
        return []

    def failed(self) -> list[bytes]:
        return []


class ImapBox:
    """A user of its own on the shared Dovecot: an empty INBOX."""

    kind, moves = "imap", True

    def __init__(self, server: Imapd, user: str, workspace: Path, monkeypatch: pytest.MonkeyPatch):
        self.server, self.user, self.workspace = server, user, workspace
        monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", PASSWORD)

    def name(self) -> str:
        """How `inbox` names this mailbox in its summary (the user's `@` escaped)."""
        return f"imap://{quote(self.user, safe='')}@{HOST}:{self.server.port}/INBOX"

    def settings(self, **overrides: object) -> str:
        """The `[inbox]` table for this mailbox (plain IMAP: the server is on 127.0.0.1)."""
        table = {
            "host": HOST,
            "port": self.server.port,
            "security": "none",
            "username": self.user,
            "timeout": 10,
            **overrides,
        }
        lines = [f"{key} = {value!r}".replace("'", '"') for key, value in table.items()]
        return "[inbox]\n" + "\n".join(lines) + "\n"

    def configure(self, **overrides: object) -> None:
        """Write the `[inbox]` table into the workspace's config (kept apart from the rest)."""
        config = self.workspace / "newsletter.toml"
        kept = config.read_text().partition("[inbox]")[0] if config.exists() else ""
        config.write_text(kept + self.settings(**overrides))

    def put(self, *mails: bytes) -> None:
        self.server.append(self.user, *mails)

    def args(self) -> list[str]:
        config = self.workspace / "newsletter.toml"
        if not config.exists() or "[inbox]" not in config.read_text():
            self.configure()
        return []

    def waiting(self) -> list[bytes]:
        return sorted(raw for _, raw in self.server.mails(self.user))

    def put_aside(self, folder: str = "Processed") -> list[bytes]:
        return sorted(raw for _, raw in self.server.mails(self.user, folder))

    def failed(self) -> list[bytes]:
        return self.put_aside("Failed")

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        return [flags for flags, _ in self.server.mails(self.user, folder)]


def _raw(box: mailbox.Maildir) -> list[bytes]:
    return sorted(box.get_bytes(key) for key in box.iterkeys())
