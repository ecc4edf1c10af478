"""The inbox reading a large Maildir while `newsletter serve` takes one-click
unsubscribes and `newsletter subscribers add` runs: each mail's effects are written
in a short transaction of its own, so no one waits on the inbox for long."""

from __future__ import annotations

import mailbox
import subprocess
import time
from pathlib import Path

from newsletter.audience import subscribers
from newsletter.config import load_config
from newsletter.store import Store
from tests.conftest import newsletter_process
from tests.helpers import ledger
from tests.inbox.mails import bulk_mails
from tests.smtpd import wait_until
from tests.web.conftest import Web

MAILS = 1_500
READERS = 40
ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
}


def readers(site: Path) -> list[str]:
    """`READERS` more subscribers; their tokens."""
    with Store.open(load_config(site / "newsletter.toml").database_path) as store:
        for n in range(READERS):
            subscribers.add(store, f"reader{n}@example.org", "", "en")
    rows = ledger(site, "SELECT token FROM subscribers WHERE email LIKE 'reader%'")
    return [str(token) for (token,) in rows]


def test_unsubscribes_and_adds_go_through_while_the_inbox_reads(web: Web) -> None:
    tokens = readers(web.site)
    box = mailbox.Maildir(web.site / "Maildir")
    for raw in bulk_mails(MAILS):
        box.add(raw)
    log = (web.site / "inbox.log").open("w")
    reading = newsletter_process(
        web.site,
        "inbox",
        "--maildir",
        str(web.site / "Maildir"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    seen = "SELECT count(*) FROM inbox_seen"
    wait_until(lambda: reading.poll() is not None or ledger(web.site, seen)[0][0] > 0)
    adding = newsletter_process(
        web.site,
        "subscribers",
        "add",
        "late@example.org",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    slowest = 0.0
    with web.client() as client:
        for token in tokens:
            started = time.monotonic()
            answer = client.post(f"/unsubscribe/{token}", **ONE_CLICK)  # type: ignore[arg-type]
            slowest = max(slowest, time.monotonic() - started)
            assert answer.status_code == 200, answer.text
    read_meanwhile = ledger(web.site, seen)[0][0]
    _, err = adding.communicate(timeout=60)
    assert adding.returncode == 0, err
    assert reading.wait(timeout=120) == 0, (web.site / "inbox.log").read_text()
    assert 0 < read_meanwhile < MAILS  # the POSTs met the inbox at work
    assert slowest < 1.0
    unsubscribed = "SELECT count(*) FROM subscribers WHERE email LIKE 'reader%' AND status = ?"
    assert ledger(web.site, unsubscribed, "unsubscribed") == [(READERS,)]
    assert ledger(
        web.site, "SELECT status FROM subscribers WHERE email = ?", "late@example.org"
    ) == [("active",)]
    assert ledger(web.site, seen) == [(MAILS,)]
