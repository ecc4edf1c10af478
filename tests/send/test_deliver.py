"""`send` against a real SMTP server (aiosmtpd on 127.0.0.1) and a real SQLite ledger."""

from __future__ import annotations

import email.utils
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.audience import subscribers
from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.core.model import UNSUBSCRIBE_PLACEHOLDER
from newsletter.send import IncompleteSend, send
from newsletter.send.preview import dry_run
from newsletter.store import Store
from tests.conftest import newsletter_process
from tests.helpers import SUBJECTS, THREE, ledger, make_site, many, sent_addresses, tokens
from tests.smtpd import SmtpServer, free_port


def test_each_subscriber_gets_one_message_in_their_language(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    report = send(load_config())
    assert (report.issue, report.sent, report.failed, report.complete) == (1, 3, 0, True)
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}
    token_of = tokens(site)
    message_ids = set()
    for received in server.handler.received:
        message = received.message
        lang = next(lang for address, _, lang in THREE if address == received.recipient)
        token = token_of[received.recipient]
        assert message["Subject"] == SUBJECTS[lang]
        assert message["From"] == "AI Paper Digest <digest@example.org>"
        assert email.utils.parseaddr(message["To"])[1] == received.recipient
        assert email.utils.parsedate_to_datetime(message["Date"]).year >= 2024
        assert message["List-Id"] == "AI Paper Digest <ai-paper-digest.digest.example.org>"
        assert message["List-Unsubscribe"] == (
            f"<mailto:digest@example.org?subject=unsubscribe%20{token}>, "
            f"<https://digest.example.org/unsubscribe/{token}>"
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        message_ids.add(message["Message-ID"])
        text, html = message.iter_parts()
        assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
        assert text.get_content_charset() == html.get_content_charset() == "utf-8"
        link = f"https://digest.example.org/unsubscribe/{token}"
        assert f'href="{link}"' in html.get_content() and link in text.get_content()
        assert UNSUBSCRIBE_PLACEHOLDER.encode() not in received.raw
        assert "阅读原文" in html.get_content() or lang == "en"
    assert len(message_ids) == 3
    assert ledger(site, "SELECT DISTINCT status FROM deliveries") == [("sent",)]
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]


def test_a_second_send_sends_nothing(workspace: Path, server: SmtpServer) -> None:
    make_site(workspace, server.port, THREE)
    send(load_config())
    again = send(load_config())
    assert (again.issue, again.sent) == (None, 0)
    assert sum(server.handler.count().values()) == 3
    rerun = send(load_config(), options=_issue(1))
    assert (rerun.issue, rerun.sent, rerun.complete) == (1, 0, True)
    assert sum(server.handler.count().values()) == 3


def _issue(number: int):  # type: ignore[no-untyped-def]
    from newsletter.send import SendOptions

    return SendOptions(issue=number)


def test_temporary_and_permanent_refusals_and_a_dropped_connection(
    workspace: Path, server: SmtpServer
) -> None:
    people = many(10)
    server.handler.replies = {
        "reader003@example.org": ["451 4.7.1 greylisted, try later", "250 OK"],
        "reader005@example.org": ["550 5.1.1 no such user"],
    }
    server.handler.drop_after = 6
    site = make_site(workspace, server.port, people, connections=1)
    result = CliRunner().invoke(cli, ["send", "--json"])
    assert result.exit_code == 0, result.output
    counts = server.handler.count()
    assert counts == {address: 1 for address, _, _ in people if address != "reader005@example.org"}
    rows = dict(
        (address, (status, attempts, error))
        for address, status, attempts, error in ledger(
            site,
            "SELECT s.email, d.status, d.attempts, d.error FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber",
        )
    )
    assert rows["reader005@example.org"][:2] == ("failed", 1)
    assert "550 5.1.1 no such user" in str(rows["reader005@example.org"][2])
    assert rows["reader003@example.org"][:2] == ("sent", 2)
    assert sum(1 for status, _, _ in rows.values() if status == "sent") == 9
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]
    assert '"failed": 1' in result.stdout and '"sent": 9' in result.stdout
    assert "refused" not in result.stdout


def test_a_recipient_refused_for_a_while_is_deferred_then_resumed(
    workspace: Path, server: SmtpServer
) -> None:
    server.handler.replies = {"ann@example.org": ["451 4.3.0 mailbox busy"]}
    site = make_site(workspace, server.port, THREE, retries=2)
    with pytest.raises(IncompleteSend, match="1 delivery deferred") as stopped:
        send(load_config())
    first = stopped.value.report
    assert (first.sent, first.deferred, first.complete) == (2, 1, False)
    assert ledger(site, "SELECT status FROM issues") == [("sending",)]
    ann = ledger(
        site,
        "SELECT d.attempts, d.status FROM deliveries d JOIN subscribers s "
        "ON s.id = d.subscriber WHERE s.email = 'ann@example.org'",
    )
    assert ann == [(3, "pending")]
    result = CliRunner().invoke(cli, ["send"])  # still refused: the run did not complete
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: 1 delivery deferred: the server said to try again later; "
        "`newsletter send` again retries them"
    )
    server.handler.replies = {}
    second = send(load_config())
    assert (second.sent, second.already, second.complete) == (1, 2, True)
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}


def test_someone_who_unsubscribes_before_the_send_gets_nothing(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    result = CliRunner().invoke(cli, ["unsubscribe", tokens(site)["ann@example.org"]])
    assert result.exit_code == 0, result.output
    assert result.stdout == "unsubscribed ann@example.org\n"
    assert send(load_config()).sent == 2
    assert "ann@example.org" not in server.handler.count()


def test_someone_who_unsubscribes_during_a_send_is_skipped(
    workspace: Path, server: SmtpServer
) -> None:
    server.handler.replies = {"ann@example.org": ["451 later"]}
    site = make_site(workspace, server.port, THREE, retries=0)
    with pytest.raises(IncompleteSend):
        send(load_config())
    with Store.open(site / "newsletter.db") as store:
        subscribers.unsubscribe(store, tokens(site)["ann@example.org"])
    server.handler.replies = {}
    report = send(load_config())
    assert (report.sent, report.skipped, report.complete) == (0, 1, True)
    assert "ann@example.org" not in server.handler.count()


def test_a_refused_login_is_one_line_exit_1_and_marks_nothing(workspace: Path) -> None:
    with SmtpServer(login=("digest", "right")) as server:
        site = make_site(workspace, server.port, THREE, username="digest")
        result = CliRunner().invoke(cli, ["send"], env={"NEWSLETTER_SMTP_PASSWORD": "wrong"})
        assert result.exit_code == 1
        [line] = result.stderr.splitlines()
        assert line.startswith(f"Error: the SMTP server 127.0.0.1:{server.port} refused the login")
        assert "wrong" not in result.output
        assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]
        assert ledger(site, "SELECT status FROM issues") == [("composed",)]
        ok = CliRunner().invoke(cli, ["send"], env={"NEWSLETTER_SMTP_PASSWORD": "right"})
        assert ok.exit_code == 0, ok.output
        assert sum(server.handler.count().values()) == 3


def test_a_server_that_is_down_is_one_line_exit_1_and_marks_nothing(workspace: Path) -> None:
    port = free_port()
    site = make_site(workspace, port, THREE)
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot reach the SMTP server 127.0.0.1:{port}: connection refused\n"
    )
    assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]


def _send_process(site: Path) -> subprocess.Popen[str]:
    return newsletter_process(site, "send", stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_send_killed_halfway_resumes_without_sending_twice(
    workspace: Path, server: SmtpServer
) -> None:
    people = many(30)
    server.handler.delay = 0.05
    site = make_site(workspace, server.port, people, connections=2)
    process = _send_process(site)
    server.handler.wait_for(10)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    recorded = sent_addresses(site)
    assert 0 < len(recorded) < 30
    server.handler.delay = 0
    rerun = _send_process(site)
    _, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    counts = server.handler.count()
    assert set(counts) == {address for address, _, _ in people}  # everybody has it
    assert all(counts[address] == 1 for address in recorded)  # the recorded ones once
    assert sum(counts.values()) - 30 <= 2  # at most the two messages in flight again
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]


def test_two_sends_at_once_never_deliver_twice(workspace: Path, server: SmtpServer) -> None:
    people = many(20)
    server.handler.delay = 0.05
    site = make_site(workspace, server.port, people, connections=2)
    first, second = _send_process(site), _send_process(site)
    results = [process.communicate(timeout=60) for process in (first, second)]
    codes = sorted([first.returncode, second.returncode])
    assert codes[0] == 0
    assert server.handler.count() == {address: 1 for address, _, _ in people}
    if codes[1] != 0:
        loser = results[0 if first.returncode else 1][1]
        winner = first.pid if first.returncode == 0 else second.pid
        assert f"another `newsletter send` (pid {winner}) is delivering an issue" in loser
        assert "Traceback" not in loser


def test_a_dry_run_builds_every_message_and_sends_nothing(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    before = ledger(site, "SELECT * FROM issues"), ledger(site, "SELECT * FROM deliveries")
    report = dry_run(load_config())
    assert {name: sizes["recipients"] for name, sizes in report.editions.items()} == {
        "zh": 1,
        "en": 1,
        "bilingual": 1,
    }
    assert report.warnings == []
    assert server.handler.count() == {}
    assert (
        ledger(site, "SELECT * FROM issues"),
        ledger(site, "SELECT * FROM deliveries"),
    ) == before
    folder = site / "issues" / "0001-2024-07-15"
    for lang, subject in SUBJECTS.items():
        raw = (folder / f"sample-{lang}.eml").read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == subject
    cli_run = CliRunner().invoke(cli, ["send", "--dry-run"])
    assert cli_run.exit_code == 0, cli_run.output
    assert "Dry run of issue 1: 3 messages built and checked, none sent." in cli_run.stdout


def test_a_test_send_goes_to_one_address_outside_the_ledger(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    result = CliRunner().invoke(cli, ["send", "--to", "Editor@Example.org", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "sent issue 1 (zh) to Editor@example.org\n"
    [received] = server.handler.received
    assert received.recipient == "editor@example.org"
    assert received.message["Subject"] == SUBJECTS["zh"]
    assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]
    assert ledger(site, "SELECT status FROM issues") == [("composed",)]


def test_an_issue_is_not_spent_on_an_empty_list(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, [])
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    assert "no active subscribers: issue 1 waits until someone subscribes" in result.stderr
    assert ledger(site, "SELECT status FROM issues") == [("composed",)]
    CliRunner().invoke(cli, ["subscribers", "add", "ann@example.org"])
    assert send(load_config()).sent == 1
