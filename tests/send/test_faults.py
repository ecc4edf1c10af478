"""`send` under faults a hostile test found: each one through the real parts.

A slow server or a tight rate, SIGTERM and Ctrl-C, a stop after the last message, a
ledger that cannot be written, addresses beyond ASCII, a server that refuses the
sender or the message, a password that would cross the network in clear, an issue
folder that names files outside itself, and a compose during a send.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.audience import subscribers
from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.schedule.job import run_once
from newsletter.send import IncompleteSend, SendOptions, send
from newsletter.store import Store
from tests.conftest import newsletter_process
from tests.helpers import THREE, import_many, ledger, make_site, many, sent_addresses
from tests.smtpd import SmtpServer, wait_until

STOPPED = "stopped: the messages in flight were finished and recorded"
REAL_BASE_URL = "https://digest.our-lab.org"  # not the example: `send` may use a relay elsewhere


def _sent_count(site: Path) -> int:
    return int(str(ledger(site, "SELECT count(*) FROM deliveries WHERE status = 'sent'")[0][0]))


def _statuses(site: Path) -> dict[str, int]:
    rows = ledger(site, "SELECT status, count(*) FROM deliveries GROUP BY status")
    return {str(status): int(str(count)) for status, count in rows}


def test_a_tight_rate_only_makes_the_run_slower(workspace: Path, server: SmtpServer) -> None:
    """1,010 subscribers at 4 messages a second: the queue stays full for seconds.
    (The old run threw the queued jobs away here and ended "done" after ~10.) The run
    keeps going until it is stopped, and leaves every unsent delivery pending."""
    stop = threading.Event()
    server.handler.on_message = lambda count: stop.set() if count == 14 else None
    site = make_site(workspace, server.port, [], connections=2, rate_per_second=4)
    import_many(site, 1_010)
    with pytest.raises(IncompleteSend, match=STOPPED) as stopped:
        send(load_config(), SendOptions(stop=stop))
    sent = stopped.value.report.sent
    assert sent >= 14
    assert _statuses(site) == {"sent": sent, "pending": 1_010 - sent}
    assert sum(server.handler.count().values()) == sent


def test_more_subscribers_than_pages_and_queue_are_all_sent_once(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, [], connections=3)
    people = import_many(site, 1_010)
    report = send(load_config())
    assert (report.sent, report.complete) == (1_010, True)
    assert server.handler.count() == {address: 1 for address, _, _ in people}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
@pytest.mark.parametrize("trial", [1, 2, 3])
def test_a_signal_stops_a_send_within_seconds_with_every_accepted_message_recorded(
    workspace: Path, server: SmtpServer, sig: signal.Signals, trial: int
) -> None:
    server.handler.delay = 0.1
    site = make_site(workspace, server.port, [], connections=2)
    people = import_many(site, 200)
    process = newsletter_process(site, "send", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: (site / "newsletter.db").exists() and _sent_count(site) >= 3 * trial)
    process.send_signal(sig)
    _, err = process.communicate(timeout=15)  # the messages in flight take 0.1 s
    assert process.returncode == 1, err
    assert err.splitlines()[-1].startswith(f"Error: {STOPPED}")
    assert "Traceback" not in err
    recorded = sent_addresses(site)
    assert recorded == set(server.handler.count())  # everything accepted, and nothing more
    assert 3 * trial <= len(recorded) < 200
    server.handler.delay = 0
    again = newsletter_process(site, "send", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert server.handler.count() == {address: 1 for address, _, _ in people}


def test_a_stop_after_the_last_message_is_a_complete_send(
    workspace: Path, server: SmtpServer
) -> None:
    stop = threading.Event()
    server.handler.on_message = lambda count: stop.set() if count == 3 else None
    site = make_site(workspace, server.port, THREE)
    report = send(load_config(), SendOptions(stop=stop))
    assert stop.is_set()
    assert (report.sent, report.complete) == (3, True)
    assert ledger(site, "SELECT status FROM issues") == [("sent",)]


def test_the_weekly_job_stopped_after_the_last_message_records_a_sent_run(
    workspace: Path, server: SmtpServer
) -> None:
    stop = threading.Event()
    server.handler.on_message = lambda count: stop.set() if count == 3 else None
    site = make_site(workspace, server.port, THREE)
    (site / "issues").rename(site / "composed-earlier")  # the job composes issue 1 itself
    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute("DELETE FROM issue_papers")
        db.execute("DELETE FROM issues")
    result = run_once(load_config(), stop)
    assert (result.outcome, result.papers, result.sent) == ("sent", 13, 3)
    runs = ledger(site, "SELECT outcome, papers, sent FROM runs")
    assert runs == [("sent", 13, 3)]


def _fill_the_disk_after(site: Path, messages: int) -> callable:  # type: ignore[valid-type]
    """A hook for the server: once `messages` have arrived, the ledger can no longer
    record a sent message (a trigger raises, as a full disk would)."""

    def hook(count: int) -> None:
        if count == messages:
            with sqlite3.connect(site / "newsletter.db", timeout=30) as db:
                db.execute(
                    "CREATE TRIGGER full BEFORE UPDATE ON deliveries WHEN NEW.status = 'sent' "
                    "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
                )

    return hook


def test_a_ledger_that_cannot_be_written_stops_the_run_and_nobody_gets_two(
    workspace: Path, server: SmtpServer
) -> None:
    people = many(12)
    site = make_site(workspace, server.port, people, connections=2)
    server.handler.on_message = _fill_the_disk_after(site, 4)
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: cannot record deliveries in ") and "disk is full" in last
    journal = site / "newsletter.db.unrecorded"
    accepted = sum(server.handler.count().values())
    assert len(journal.read_text().splitlines()) == accepted - _sent_count(site) > 0

    again = CliRunner().invoke(cli, ["send"])  # the ledger is still full: send nothing
    assert again.exit_code == 1
    assert "nothing is sent until they are recorded" in again.stderr
    assert sum(server.handler.count().values()) == accepted

    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute("DROP TRIGGER full")
    server.handler.on_message = None
    done = CliRunner().invoke(cli, ["send"])
    assert done.exit_code == 0, done.output
    assert server.handler.count() == {address: 1 for address, _, _ in people}
    assert not journal.exists()
    assert _statuses(site) == {"sent": 12}


def test_an_internationalised_domain_is_sent_in_its_ascii_form(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, [("a@bücher.example", "", "en")])
    report = send(load_config())
    assert (report.sent, report.complete) == (1, True)
    [received] = server.handler.received
    assert received.recipient == "a@xn--bcher-kva.example"
    assert _statuses(site) == {"sent": 1}


def test_an_internationalised_domain_goes_in_ascii_even_when_smtputf8_is_offered(
    workspace: Path,
) -> None:
    """Its A-label names the same domain; SMTPUTF8 would bind the message to relays that
    all offer it (RFC 6531 3.2), so it is kept for what only it can carry."""
    with SmtpServer(smtputf8=True) as server:
        make_site(workspace, server.port, [("a@bücher.example", "", "zh")])
        assert send(load_config()).sent == 1
        [received] = server.handler.received
    assert received.recipient == "a@xn--bcher-kva.example"
    assert received.mail_options == ["BODY=8BITMIME"]
    head = received.raw.partition(b"\r\n\r\n")[0]
    assert head.isascii() and head.startswith(b"To: a@xn--bcher-kva.example\r\n")


def _add_unicode_local_part(site: Path) -> None:
    """An address only SMTPUTF8 can carry, as an older database may hold one."""
    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute(
            "INSERT INTO subscribers (email, name, lang, token) "
            "VALUES ('用户@example.org', '', 'zh', 'tok-unicode')"
        )


def test_a_unicode_local_part_fails_alone_when_the_server_lacks_smtputf8(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    _add_unicode_local_part(site)
    report = send(load_config())
    assert (report.sent, report.failed, report.complete) == (3, 1, True)
    assert report.failures == [
        ("用户@example.org", "the address is not ASCII and the server does not offer SMTPUTF8")
    ]
    # Our limit, not a dead mailbox: no bounce is counted and nobody is marked bounced.
    assert ledger(site, "SELECT count(*) FROM bounce_events") == [(0,)]
    assert ledger(site, "SELECT count(*) FROM subscribers WHERE status != 'active'") == [(0,)]


def test_a_unicode_local_part_goes_out_with_smtputf8_when_offered(workspace: Path) -> None:
    with SmtpServer(smtputf8=True) as server:
        site = make_site(workspace, server.port, THREE)
        _add_unicode_local_part(site)
        report = send(load_config())
        assert (report.sent, report.failed) == (4, 0)
        assert "用户@example.org" in server.handler.count()
        options = {item.recipient: item.mail_options for item in server.handler.received}
        assert options.pop("用户@example.org") == ["BODY=8BITMIME", "SMTPUTF8"]
        assert all("SMTPUTF8" not in item for item in options.values())


@pytest.mark.parametrize(
    ("fault", "reply"),
    [
        ("mail_reply", "530 5.7.0 Authentication required"),
        ("mail_reply", "550 5.7.1 Sender address rejected"),
        ("data_reply", "552 Message size exceeds fixed maximum message size"),
        ("data_reply", "554 5.7.1 Message rejected as spam"),
    ],
)
def test_a_refusal_of_the_sender_or_the_message_stops_the_run_and_fails_nobody(
    workspace: Path, server: SmtpServer, fault: str, reply: str
) -> None:
    site = make_site(workspace, server.port, many(8), connections=2)
    setattr(server.handler, fault, reply)
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: the server refused the ") and reply in last
    assert "nobody was marked failed" in last
    assert _statuses(site) == {"pending": 8}
    assert ledger(site, "SELECT status FROM issues") == [("sending",)]
    setattr(server.handler, fault, "")
    done = CliRunner().invoke(cli, ["send"])
    assert done.exit_code == 0, done.output
    assert _statuses(site) == {"sent": 8}


def test_a_mailbox_refusal_after_the_message_is_that_recipients_failure(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    server.handler.data_reply = "552 5.2.2 Mailbox full"
    report = send(load_config())
    assert (report.failed, report.complete) == (3, True)
    assert _statuses(site) == {"failed": 3}


def test_the_password_never_crosses_the_network_in_clear(workspace: Path) -> None:
    """A login to a server elsewhere with no TLS is refused before any connection
    (192.0.2.1 is a documentation address: nothing is sent there)."""
    site = make_site(workspace, 1025, THREE, base_url=REAL_BASE_URL, username="digest")
    config = site / "newsletter.toml"
    config.write_text(config.read_text().replace('"127.0.0.1"', '"192.0.2.1"'))
    result = CliRunner().invoke(cli, ["send"], env={"NEWSLETTER_SMTP_PASSWORD": "secret"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: refusing to log in to the SMTP server 192.0.2.1:1025 with no TLS: the "
        "password would cross the network in clear; set smtp.security to starttls or tls "
        "(a server on this machine, 127.0.0.1 or localhost, may go without)\n"
    )
    assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]


def _issue_json(site: Path) -> Path:
    return site / "issues" / "0001-2024-07-15" / "issue.json"


def _edit_issue_json(site: Path, change: callable) -> None:  # type: ignore[valid-type]
    described = json.loads(_issue_json(site).read_text())
    change(described)
    _issue_json(site).write_text(json.dumps(described))


def test_an_issue_json_that_names_a_file_outside_its_folder_is_refused(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    _edit_issue_json(
        site, lambda d: d["editions"]["bilingual"].update(html="../../../../etc/passwd")
    )
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: issue 1: {_issue_json(site)} names '../../../../etc/passwd' as an edition "
        "file: only files in the issue's own folder are sent; `newsletter compose` writes a "
        "good issue.json\n"
    )
    assert server.handler.count() == {}
    assert ledger(site, "SELECT count(*) FROM deliveries") == [(0,)]


def test_an_edition_without_its_unsubscribe_link_is_never_sent(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    html = _issue_json(site).parent / "en.html"
    html.write_text(html.read_text().replace("%%UNSUBSCRIBE_URL%%", "#"))
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert "Error: issue 1: the en edition has no unsubscribe link" in result.stderr
    assert server.handler.count() == {}


def test_a_folder_that_does_not_match_the_database_is_never_sent(
    workspace: Path, server: SmtpServer
) -> None:
    """What a compose killed between its commit and placing the folder would leave."""
    site = make_site(workspace, server.port, THREE)
    _edit_issue_json(site, lambda d: d["papers"].append("2499.00001"))
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert "does not list the papers the database has for this issue" in result.stderr
    assert server.handler.count() == {}
    assert CliRunner().invoke(cli, ["compose"]).exit_code == 0  # composing again mends it
    assert CliRunner().invoke(cli, ["send"]).exit_code == 0
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}


def test_compose_waits_for_a_send_so_no_paper_is_lost(workspace: Path, server: SmtpServer) -> None:
    server.handler.delay = 0.05
    site = make_site(workspace, server.port, many(20), connections=1)
    process = newsletter_process(site, "send", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: _sent_count(site) >= 1)
    (site / "digests" / "later.md").write_text(
        "## A Later Paper\n\n[后来的论文](https://arxiv.org/abs/2499.00001)\n\n摘要。\n"
    )
    during = CliRunner().invoke(cli, ["compose"])
    assert during.exit_code == 1
    assert during.stderr.startswith(
        f"Error: another `newsletter send` (pid {process.pid}) is delivering an issue from "
    )
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    after = CliRunner().invoke(cli, ["compose", "--json"])
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["issue"] == 2
    assert json.loads(after.stdout)["papers"] == ["2499.00001"]


def test_send_waits_for_a_compose(workspace: Path, server: SmtpServer) -> None:
    from newsletter.core.locks import issue_lock

    site = make_site(workspace, server.port, THREE)
    with issue_lock(site / "newsletter.db", "compose"):
        result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: another `newsletter compose` (pid {os.getpid()}) is composing an issue from "
    )
    assert server.handler.count() == {}


def test_subscribers_stay_unchanged_by_a_refused_run(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, THREE)
    server.handler.mail_reply = "550 5.7.1 Sender address rejected"
    with pytest.raises(IncompleteSend):
        send(load_config())
    with Store.open(site / "newsletter.db") as store:
        assert {s.status for s in subscribers.listing(store)} == {"active"}


def test_send_right_after_a_killed_compose_puts_the_issue_back_and_sends_it(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    gone = subprocess.Popen(["true"])
    gone.wait()  # the pid of a compose that was killed
    folder = _issue_json(site).parent
    folder.rename(folder.with_name(f".{folder.name}.{gone.pid}.old"))
    result = CliRunner().invoke(cli, ["send"])
    assert result.exit_code == 0, result.output
    assert f"{folder}: put back as it was before an interrupted compose" in result.stderr
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}
