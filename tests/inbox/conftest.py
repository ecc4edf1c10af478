"""The inbox tests' subscribers (`people`) and mailboxes: `box` is each of a
Maildir, an mbox and an IMAP folder on a real Dovecot in turn; `imap` is the last
alone. One Dovecot serves the whole session (started once, stopped at the end);
each test logs in as a user of its own, so each starts with an empty INBOX. A test
that needs a differently configured server starts its own (`own_dovecot`). Without
Dovecot, the IMAP cases skip and say what to install."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newsletter.audience import subscribers
from newsletter.config import load_config
from newsletter.store import Store
from tests.helpers import ledger
from tests.imapd import Imapd, missing
from tests.inbox.boxes import ImapBox, MaildirBox, MboxBox

_users = itertools.count(1)


@pytest.fixture
def people(workspace: Path) -> dict[str, str]:
    """ann and bob on the list: their tokens by address."""
    with Store.open(load_config().database_path) as store:
        for address in ("ann@example.org", "bob@example.org"):
            subscribers.add(store, address, "", "en")
    return dict(ledger(workspace, "SELECT email, token FROM subscribers"))  # type: ignore[arg-type]


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


@pytest.fixture
def own_dovecot(tmp_path: Path) -> Iterator[Callable[[str], Imapd]]:
    """Start a Dovecot of the test's own, with more configuration (stopped after it)."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    started: list[Imapd] = []

    def start(extra: str) -> Imapd:
        server = Imapd(tmp_path / f"imapd-{len(started)}", extra)
        started.append(server)
        return server.__enter__()

    yield start
    for server in started:
        server.stop()
