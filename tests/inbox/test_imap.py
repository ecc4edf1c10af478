"""`newsletter inbox` over IMAP against a real Dovecot on 127.0.0.1: what it does
to the server's folders (handled mail moved and marked seen, the rest left unread),
TLS, and each way a server fails: one line naming it, exit 1, and nothing
half-done in the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from tests.dropping import DroppingRelay
from tests.helpers import ledger
from tests.imapd import HOST, PASSWORD, Imapd
from tests.inbox.boxes import ImapBox
from tests.inbox.mails import fixture_mail, status_of
from tests.smtpd import free_port


def inbox(*args: str) -> Result:
    return CliRunner().invoke(cli, ["inbox", *args])


def hard_bounce(people: dict[str, str]) -> bytes:
    return fixture_mail("dsn-hard-5.1.1.eml", people["ann@example.org"], "ann@example.org")


def reply(people: dict[str, str]) -> bytes:
    return fixture_mail("human-reply.eml", people["ann@example.org"], "ann@example.org")


def one_error_line(result: Result) -> str:
    """The single `Error: …` line of a failed run (exit 1, nothing on stdout)."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    return line


def test_handled_mail_is_moved_and_seen_and_the_rest_left_unread(
    workspace: Path, people: dict[str, str], imap: ImapBox
) -> None:
    imap.put(hard_bounce(people), reply(people))
    imap.configure()
    result = inbox("--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["counts"] == {"dead": 1, "not_understood": 1}
    assert document["source"] == imap.name()
    assert "%40example.org@127.0.0.1:" in document["source"]  # the user's own @ escaped
    assert PASSWORD not in result.output
    assert imap.waiting() == [reply(people)]
    assert all("\\Seen" not in flags for flags in imap.flags())  # left for a person, unread
    assert imap.put_aside() == [hard_bounce(people)]
    assert all("\\Seen" in flags for flags in imap.flags("Processed"))
    assert imap.server.folders(imap.user, subscribed=True) == ["Processed"]  # a client shows it
    assert status_of(workspace)["ann@example.org"] == "bounced"


def test_a_dry_run_opens_the_folder_read_only(
    workspace: Path, people: dict[str, str], imap: ImapBox
) -> None:
    imap.put(hard_bounce(people), reply(people))
    imap.configure()
    result = inbox("--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stderr == "would handle: 1 dead address, 1 not understood\n"
    assert imap.server.folders(imap.user) == ["INBOX"]  # no processed folder made
    # EXAMINE: not even \Recent was taken
    seen_recent = [("\\Seen" in flags, "\\Recent" in flags) for flags in imap.flags()]
    assert seen_recent == [(False, True), (False, True)]
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(0,)]


@pytest.mark.parametrize(
    "capability",
    ["IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"],
    ids=["uid-expunge", "expunge"],
)
def test_a_server_without_move_gets_copy_deleted_and_expunge(
    workspace: Path,
    people: dict[str, str],
    own_dovecot: Callable[[str], Imapd],
    monkeypatch: pytest.MonkeyPatch,
    capability: str,
) -> None:
    server = own_dovecot(f"imap_capability = {capability}\n")
    box = ImapBox(server, "bounces@example.org", workspace, monkeypatch)
    box.put(hard_bounce(people), reply(people))
    box.configure()
    result = inbox()
    assert result.exit_code == 0, result.output
    assert box.waiting() == [reply(people)]
    assert box.flags() == [set()]  # neither seen nor deleted
    assert box.put_aside() == [hard_bounce(people)]
    assert "\\Deleted" not in box.flags("Processed")[0]


def test_a_mail_whose_move_failed_is_moved_by_the_next_run(
    workspace: Path, people: dict[str, str], imap: ImapBox
) -> None:
    imap.put(hard_bounce(people))
    imap.configure(processed_folder="~Processed")  # a name Dovecot refuses to create
    line = one_error_line(inbox())
    assert line.startswith(
        f"Error: the IMAP server {HOST}:{imap.server.port} refused to create the folder "
        "'~Processed': [CANNOT] Invalid mailbox name"
    )
    assert line.endswith("(it is handled: the next run moves it)")
    assert status_of(workspace)["ann@example.org"] == "bounced"  # the store was committed
    assert imap.waiting() == [hard_bounce(people)]
    imap.configure()
    result = inbox("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {"already_handled": 1}
    assert (imap.waiting(), imap.put_aside()) == ([], [hard_bounce(people)])
    assert ledger(workspace, "SELECT count(*) FROM bounce_events") == [(1,)]


def test_a_folder_name_beyond_ascii_goes_as_modified_utf7(
    workspace: Path, people: dict[str, str], imap: ImapBox
) -> None:
    imap.put(hard_bounce(people))
    imap.configure(processed_folder="台北")
    assert inbox().exit_code == 0
    assert imap.server.folders(imap.user) == ["&U,BTFw-", "INBOX"]  # RFC 3501's own example
    assert imap.put_aside("&U,BTFw-") == [hard_bounce(people)]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_check_the_certificate(
    workspace: Path,
    people: dict[str, str],
    imap: ImapBox,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    port = imap.server.tls_port if security == "tls" else imap.server.port
    imap.configure(security=security, port=port)
    imap.put(hard_bounce(people))
    monkeypatch.setenv("SSL_CERT_FILE", str(workspace / "no-such-ca.pem"))
    line = one_error_line(inbox())
    assert "certificate verify failed: self-signed certificate" in line
    assert imap.waiting() == [hard_bounce(people)]
    monkeypatch.setenv("SSL_CERT_FILE", str(imap.server.cert))  # now trusted
    result = inbox()
    assert result.exit_code == 0, result.output
    assert result.stderr == "handled: 1 dead address\n"


def test_a_password_beyond_ascii_logs_in_with_authenticate_plain(
    workspace: Path,
    people: dict[str, str],
    own_dovecot: Callable[[str], Imapd],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = own_dovecot("passdb {\n  driver = static\n  args = password=密码-pässwort\n}\n")
    box = ImapBox(server, "bounces@example.org", workspace, monkeypatch)
    box.put(hard_bounce(people))
    box.configure()
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", "密码-pässwort")
    result = inbox()
    assert result.exit_code == 0, result.output
    assert box.put_aside() == [hard_bounce(people)]


def test_a_wrong_password_is_one_line(
    workspace: Path, people: dict[str, str], imap: ImapBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap.put(hard_bounce(people))
    imap.configure()
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", "not-the-Pa55word")
    result = inbox()
    assert one_error_line(result) == (
        f"Error: the IMAP server {HOST}:{imap.server.port} refused the login of "
        f"'{imap.user}': [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert "not-the-Pa55word" not in result.output
    assert status_of(workspace)["ann@example.org"] == "active"
    assert imap.flags() == [{"\\Recent"}]


def test_a_server_that_is_down_is_one_line(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    (workspace / "newsletter.toml").write_text(
        f'[inbox]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\nusername = "bounces"\n'
    )
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", PASSWORD)
    assert one_error_line(inbox()) == (
        f"Error: cannot reach the IMAP server {HOST}:{port}: connection refused"
    )


@pytest.mark.parametrize(
    ("trigger", "handled"),
    [(b"UID FETCH", False), (b"UID STORE", True)],
    ids=["while-fetching", "while-moving"],
)
def test_a_server_that_drops_the_session_leaves_nothing_half_done(
    workspace: Path, people: dict[str, str], imap: ImapBox, trigger: bytes, handled: bool
) -> None:
    imap.put(hard_bounce(people))
    with DroppingRelay(imap.server.port, trigger) as relay:
        imap.configure(port=relay.port)
        line = one_error_line(inbox())
    assert relay.dropped.is_set()
    assert f"the IMAP server {HOST}:{relay.port} failed to " in line
    assert "connection lost" in line
    assert line.endswith("(it is handled: the next run moves it)") == handled
    events = ledger(workspace, "SELECT count(*) FROM bounce_events")
    assert (events, status_of(workspace)["ann@example.org"]) == (
        ([(1,)], "bounced") if handled else ([(0,)], "active")
    )
    assert imap.waiting() == [hard_bounce(people)]
    imap.configure()  # straight to the server again
    result = inbox("--json")
    assert result.exit_code == 0, result.output
    counts = {"already_handled": 1} if handled else {"dead": 1}
    assert json.loads(result.stdout)["counts"] == counts
    assert (imap.waiting(), imap.put_aside()) == ([], [hard_bounce(people)])


def test_a_missing_folder_is_one_line(workspace: Path, imap: ImapBox) -> None:
    imap.configure(folder="Bounces")
    line = one_error_line(inbox())
    assert line.startswith(
        f"Error: the IMAP server {HOST}:{imap.server.port} refused to open the folder 'Bounces': "
        "Mailbox doesn't exist: Bounces"
    )
    assert line.endswith("(inbox.folder)")


def test_no_password_in_the_environment_is_one_line(workspace: Path) -> None:
    (workspace / "newsletter.toml").write_text(
        '[inbox]\nhost = "imap.example.org"\nusername = "bounces"\n'
    )
    assert one_error_line(inbox()) == (
        "Error: no password for the IMAP server imap.example.org:993: the environment "
        "variable NEWSLETTER_INBOX_PASSWORD (inbox.password_env) is not set"
    )


def test_a_password_in_clear_to_another_machine_is_refused_before_connecting(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "newsletter.toml").write_text(
        '[inbox]\nhost = "192.0.2.7"\nport = 143\nsecurity = "none"\nusername = "bounces"\n'
    )
    monkeypatch.setenv("NEWSLETTER_INBOX_PASSWORD", PASSWORD)
    line = one_error_line(inbox())
    assert line.startswith(
        "Error: refusing to log in to the IMAP server 192.0.2.7:143 with no TLS: the password "
        "would cross the network in clear"
    )
