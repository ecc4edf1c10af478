"""The weekly job (`run-once`, and `schedule`, which runs the same function) reads
the IMAP inbox before it sends: a hard bounce waiting in a real Dovecot keeps that
address from the new issue; a mailbox that cannot be read is one warning, and the
issue goes out all the same."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from tests.helpers import THREE, add_digest, make_site, sent_addresses, tokens
from tests.imapd import HOST, PASSWORD
from tests.inbox.boxes import ImapBox
from tests.inbox.mails import fixture_mail
from tests.smtpd import SmtpServer, free_port


@pytest.fixture(autouse=True)
def job_log() -> Iterator[None]:
    """`run-once` points the "newsletter" log at the runner's stderr: put it back after."""
    logger = logging.getLogger("newsletter")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = saved  # type: ignore[misc]


def test_a_hard_bounce_in_the_inbox_keeps_that_address_from_the_new_issue(
    workspace: Path, server: SmtpServer, imap: ImapBox
) -> None:
    site = make_site(workspace, server.port, THREE)
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0  # issue 1, to all three
    ann = fixture_mail("dsn-hard-5.1.1.eml", tokens(site)["ann@example.org"], "ann@example.org")
    imap.put(ann)
    imap.configure()
    add_digest(site, "2024-07-22.md", "2408.00001")
    result = CliRunner().invoke(cli, ["run-once"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    [inbox] = [line for line in lines if " inbox " in line]
    assert inbox.endswith(f" INFO inbox {imap.name()}: handled: 1 dead address")
    assert lines.index(inbox) < next(i for i, line in enumerate(lines) if "run finished" in line)
    assert server.handler.count() == {
        "li.wei@example.org": 2,
        "bob@example.org": 2,
        "ann@example.org": 1,
    }
    assert (imap.waiting(), imap.put_aside()) == ([], [ann])


def test_an_inbox_that_cannot_be_read_is_one_warning_and_the_issue_goes_out(
    workspace: Path, server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(workspace, server.port, THREE)
    port = free_port()  # no IMAP server there
    with (site / "newsletter.toml").open("a") as config:
        config.write(
            f'[inbox]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\nusername = "bounces"\n'
        )
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", PASSWORD)
    result = CliRunner().invoke(cli, ["run-once"])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if " WARNING inbox" in line]
    assert warning.endswith(
        f" WARNING inbox not read, sending anyway: cannot reach the IMAP server {HOST}:{port}: "
        "connection refused"
    )
    assert sent_addresses(site) == {address for address, _, _ in THREE}


def test_without_an_inbox_the_job_does_not_mention_one(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, THREE)
    result = CliRunner().invoke(cli, ["run-once"])
    assert result.exit_code == 0, result.output
    assert " inbox " not in result.stderr


def test_an_inbox_step_that_breaks_unexpectedly_still_lets_the_issue_go_out(
    workspace: Path, server: SmtpServer, imap: ImapBox
) -> None:
    """Not the tool's kind of error (here the store refuses the inbox's rows, by a real
    SQLite trigger): logged with its traceback, and the weekly issue is not held up."""
    site = make_site(workspace, server.port, THREE)
    imap.put(fixture_mail("dsn-hard-5.1.1.eml", tokens(site)["ann@example.org"], "ann@example.org"))
    imap.configure()
    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute(
            "CREATE TRIGGER broken BEFORE INSERT ON bounce_events "
            "BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END"
        )
    result = CliRunner().invoke(cli, ["run-once"])
    assert result.exit_code == 0, result.output
    assert (
        " WARNING inbox not read, sending anyway: unexpected IntegrityError: the disk is on "
        "fire\nTraceback" in result.stderr
    )
    assert sent_addresses(site) == {address for address, _, _ in THREE}
    assert imap.waiting() != []  # nothing was put aside: the store did not take it
