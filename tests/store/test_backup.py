"""`newsletter backup FILE`: a consistent copy while a real send and `serve` run,
and a restore that `status` reads."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import httpx
from click.testing import CliRunner

from newsletter.cli import cli
from tests.conftest import newsletter_process
from tests.helpers import THREE, make_site, many, tokens
from tests.smtpd import SmtpServer, free_port
from tests.web.conftest import start_serve, stop_serve

ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
}


def copy_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_backup_taken_during_a_send_while_serve_answers_is_whole_and_restores(
    workspace: Path, server: SmtpServer
) -> None:
    people = many(60)
    server.handler.delay = 0.05  # about 1.5 s of sending, on 2 connections
    port = free_port()
    site = make_site(workspace, server.port, people, base_url=f"http://127.0.0.1:{port}")
    serving = start_serve(site, port, "--workers", "1")
    try:
        sending = newsletter_process(site, "send", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        server.handler.wait_for(10)
        leaving = tokens(site)[people[-1][0]]
        answer = httpx.post(f"http://127.0.0.1:{port}/unsubscribe/{leaving}", **ONE_CLICK)  # type: ignore[arg-type]
        assert answer.status_code == 200
        result = CliRunner().invoke(cli, ["backup", "backup.db"])
        assert sending.poll() is None, "the send ended before the backup: make it slower"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        sending.communicate(timeout=60)
        assert sending.returncode == 0
    finally:
        stop_serve(serving, site)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        r"Backed up \S+newsletter\.db to backup\.db: [\d.]+ KB, 60 subscribers, 1 issue\n",
        result.stdout,
    )
    copy = site / "backup.db"
    assert copy.stat().st_mode & 0o777 == 0o600
    assert not list(site.glob(".backup.db.*"))  # the temporary file is gone
    assert copy_rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert copy_rows(copy, "PRAGMA foreign_key_check") == []
    assert copy_rows(copy, "PRAGMA journal_mode") == [("delete",)]  # one file, no -wal
    # The ledger of the instant: the issue half sent, every delivery recorded as sent
    # reached the server, every subscriber has one delivery row for it.
    sent = {
        str(email)
        for (email,) in copy_rows(
            copy,
            "SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber "
            "WHERE d.status = 'sent'",
        )
    }
    assert 10 <= len(sent) < 60
    assert sent <= set(server.handler.count())
    assert copy_rows(copy, "SELECT status FROM issues") == [("sending",)]
    assert copy_rows(copy, "SELECT count(*) FROM deliveries WHERE issue = 1") == [(60,)]
    unsubscribed = "SELECT status FROM subscribers WHERE email = 'reader059@example.org'"
    assert copy_rows(copy, unsubscribed) == [("unsubscribed",)]  # serve's write, before

    # Restore: with everything stopped, the copy goes back in place of the database.
    for leftover in site.glob("newsletter.db*"):
        leftover.unlink()
    shutil.copy2(copy, site / "newsletter.db")
    status = CliRunner().invoke(cli, ["status", "--json"])
    assert status.exit_code == 0, status.output
    state = json.loads(status.stdout)
    assert state["subscribers"]["total"] == 60
    [issue] = state["issues"]
    assert (issue["number"], issue["status"]) == (1, "sending")
    assert issue["deliveries"]["sent"] == len(sent)


def test_backup_never_overwrites_without_force_and_never_creates_a_database(
    workspace: Path, server: SmtpServer
) -> None:
    empty = CliRunner().invoke(cli, ["backup", "copy.db"])
    assert (empty.exit_code, empty.stdout) == (1, "")
    assert empty.stderr == f"Error: {workspace / 'newsletter.db'}: no database here to back up\n"
    assert not (workspace / "newsletter.db").exists() and not (workspace / "copy.db").exists()

    make_site(workspace, server.port, THREE)
    (workspace / "copy.db").write_text("an older backup")
    kept = CliRunner().invoke(cli, ["backup", "copy.db"])
    assert (kept.exit_code, kept.stdout) == (1, "")
    assert kept.stderr == "Error: copy.db exists: choose another name, or --force to replace it\n"
    assert (workspace / "copy.db").read_text() == "an older backup"

    replaced = CliRunner().invoke(cli, ["backup", "copy.db", "--force"])
    assert replaced.exit_code == 0, replaced.output
    assert "3 subscribers, 1 issue" in replaced.stdout
    assert copy_rows(workspace / "copy.db", "SELECT count(*) FROM subscribers") == [(3,)]

    itself = CliRunner().invoke(cli, ["backup", "newsletter.db", "--force"])
    assert itself.exit_code == 1
    assert (
        itself.stderr == "Error: newsletter.db is the database itself: back it up to another file\n"
    )
    missing = CliRunner().invoke(cli, ["backup", "no/such/folder/copy.db"])
    assert missing.stderr == "Error: no/such/folder: no such folder for the backup\n"
