"""The weekly job, the scheduler that runs it, and `status`."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.core.locks import run_lock
from newsletter.schedule.job import run_once
from newsletter.schedule.runner import crontab_line, missed_run
from tests.conftest import newsletter_process
from tests.helpers import THREE, add_digest, make_site, many, sent_addresses
from tests.smtpd import SmtpServer, wait_until


def runs(site: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(site / "newsletter.db") as db:
        return db.execute("SELECT outcome, issue, papers, sent, failed FROM runs").fetchall()


def test_the_job_sends_what_is_new_and_then_nothing(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, THREE)  # issue 1 is composed, not sent
    first = run_once(load_config())
    assert (first.outcome, first.issue, first.papers, first.sent) == ("sent", 1, 13, 3)
    add_digest(site, "2024-07-19.md", "2408.00001", "2407.04051")
    second = run_once(load_config())
    assert (second.outcome, second.issue, second.papers, second.sent) == ("sent", 2, 1, 3)
    third = run_once(load_config())
    assert (third.outcome, third.sent) == ("nothing to send", 0)
    assert runs(site) == [
        ("sent", 1, 13, 3, 0),
        ("sent", 2, 1, 3, 0),
        ("nothing to send", None, 0, 0, 0),
    ]
    assert sum(server.handler.count().values()) == 6


def test_the_job_finishes_an_interrupted_send_first(workspace: Path, server: SmtpServer) -> None:
    server.handler.replies = {"ann@example.org": ["451 later"]}
    site = make_site(workspace, server.port, THREE, retries=0)
    assert run_once(load_config()).outcome == "incomplete"  # Ann deferred
    server.handler.replies = {}
    add_digest(site, "2024-07-19.md", "2408.00001")
    result = run_once(load_config())
    assert (result.outcome, result.issue, result.sent) == ("sent", 2, 1 + 3)
    assert server.handler.count() == {
        "li.wei@example.org": 2,
        "ann@example.org": 2,
        "bob@example.org": 2,
    }


def test_two_runs_never_overlap(workspace: Path, server: SmtpServer) -> None:
    site = make_site(workspace, server.port, THREE)
    with run_lock(site / "newsletter.db"):
        assert run_once(load_config()).outcome == "skipped"
    assert server.handler.count() == {}
    assert run_once(load_config()).outcome == "sent"


def test_a_scheduler_on_a_seconds_level_trigger_runs_the_job(
    workspace: Path, server: SmtpServer
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    make_site(workspace, server.port, THREE)
    config = load_config()
    scheduler = BackgroundScheduler()
    scheduler.add_job(run_once, CronTrigger(second="*"), args=[config], max_instances=1)
    scheduler.start()
    try:
        server.handler.wait_for(3)
    finally:
        scheduler.shutdown(wait=True)
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}


def _record_run(site: Path, when: dt.datetime) -> None:
    with sqlite3.connect(site / "newsletter.db") as db:
        db.execute(
            "INSERT INTO runs (started_at, outcome) VALUES (?, 'sent')",
            (when.strftime("%Y-%m-%dT%H:%M:%SZ"),),
        )


def test_a_run_missed_while_the_machine_was_off_is_caught_up_once(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    (site / "newsletter.toml").write_text(
        (site / "newsletter.toml").read_text()
        + '[schedule]\ncron = "0 8 * * mon"\ntimezone = "UTC"\ngrace_hours = 24\n'
    )
    config = load_config()
    monday_9 = dt.datetime(2024, 7, 15, 9, tzinfo=dt.UTC)
    assert missed_run(config, monday_9) is None  # never ran: nothing to catch up
    _record_run(site, dt.datetime(2024, 7, 1, 8, tzinfo=dt.UTC))  # two Mondays missed
    assert missed_run(config, monday_9) == dt.datetime(2024, 7, 15, 8, tzinfo=dt.UTC)
    assert missed_run(config, monday_9 + dt.timedelta(days=1, hours=1)) is None  # too late
    _record_run(site, dt.datetime(2024, 7, 15, 8, 0, 1, tzinfo=dt.UTC))
    assert missed_run(config, monday_9) is None  # it did run


def _schedule_after_a_missed_run(site: Path, schedule: str) -> subprocess.Popen[str]:
    """`newsletter schedule` every minute, the last run three minutes ago: it catches up."""
    config = site / "newsletter.toml"
    config.write_text(f"{config.read_text()}[schedule]\n{schedule}\n")
    _record_run(site, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3))
    return newsletter_process(site, "schedule", stderr=subprocess.PIPE)


def test_schedule_catches_up_and_stops_cleanly_on_sigterm(
    workspace: Path, server: SmtpServer
) -> None:
    site = make_site(workspace, server.port, THREE)
    process = _schedule_after_a_missed_run(
        site, 'cron = "* * * * *"\ntimezone = "UTC"\nlog_file = "logs/weekly.log"'
    )
    log = site / "logs" / "weekly.log"
    wait_until(lambda: log.exists() and "run finished" in log.read_text())
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert server.handler.count() == {address: 1 for address, _, _ in THREE}
    assert "catching up the run missed at" in err
    assert (
        "run started" in err and "run finished: sent; issue 1, 13 papers, 3 sent, 0 failed" in err
    )
    assert "stopping" in err and "Traceback" not in err
    assert "run finished: sent" in (site / "logs" / "weekly.log").read_text()


def test_schedule_next_and_crontab(workspace: Path) -> None:
    (workspace / "newsletter.toml").write_text(
        '[schedule]\ncron = "0 8 * * 1"\ntimezone = "America/New_York"\n'
    )
    result = CliRunner().invoke(cli, ["schedule", "--next", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(" Mon " in line and " 08:00 " in line for line in lines)
    assert all(line.endswith(("-0500 (EST)", "-0400 (EDT)")) for line in lines)
    crontab = crontab_line(load_config(), executable="/opt/venv/bin/newsletter")
    assert crontab == (
        "CRON_TZ=America/New_York\n"
        f"0 8 * * 1 cd {workspace} && /opt/venv/bin/newsletter "
        f"--config {workspace / 'newsletter.toml'} run-once"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('cron = "0 8 * *"', "schedule.cron: '0 8 * *' has 4 fields"),
        ('timezone = "Mars/Olympus"', "schedule.timezone: 'Mars/Olympus' is not an IANA time zone"),
    ],
)
def test_a_wrong_schedule_is_one_line_and_exit_1(workspace: Path, table: str, message: str) -> None:
    (workspace / "newsletter.toml").write_text(f"[schedule]\n{table}\n")
    result = CliRunner().invoke(cli, ["schedule", "--next", "1"])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {workspace / 'newsletter.toml'}: {message}")


def test_sigterm_during_a_send_finishes_the_messages_in_flight_and_records_them(
    workspace: Path, server: SmtpServer
) -> None:
    people = many(40)
    server.handler.delay = 0.1
    site = make_site(workspace, server.port, people, connections=2)
    process = _schedule_after_a_missed_run(site, 'cron = "* * * * *"\ntimezone = "UTC"')
    wait_until(lambda: len(sent_addresses(site)) >= 6)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    received = server.handler.count()
    recorded = sent_addresses(site)
    assert recorded == set(received)  # everything accepted was recorded, nothing more
    assert 0 < len(recorded) < 40
    assert "run finished: incomplete" in err
