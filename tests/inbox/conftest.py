"""The inbox tests' mailboxes: `box` is each of a Maildir, an mbox and an IMAP
folder on a real Dovecot in turn; `imap` is the last alone. One Dovecot serves the
whole session (started once, stopped at the end); each test logs in as a user of
its own, so each starts with an empty INBOX. Without Dovecot, the IMAP cases skip
and say what to install."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.imapd import Imapd, missing
from tests.inbox.boxes import ImapBox, MaildirBox, MboxBox

_users = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imapd]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    with Imapd(tmp_path_factory.mktemp("imapd")) as server:
        yield server


@pytest.fixture
def imap(dovecot: Imapd, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> ImapBox:
    """An empty IMAP INBOX of a user of its own (an address, as many servers' users are)."""
    return ImapBox(dovecot, f"bounces-{next(_users)}@example.org", workspace, monkeypatch)


@pytest.fixture(params=["maildir", "mbox", "imap"])
def box(request: pytest.FixtureRequest, workspace: Path) -> MaildirBox | MboxBox | ImapBox:
    if request.param == "imap":
        found: ImapBox = request.getfixturevalue("imap")
        return found
    return MaildirBox(workspace) if request.param == "maildir" else MboxBox(workspace)
