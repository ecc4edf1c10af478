"""`newsletter smtp-sink`: a local server a new user can point `send` at."""

from __future__ import annotations

import mailbox
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.smtpd import free_port


def test_the_sink_stores_what_it_receives_in_an_mbox(workspace: Path) -> None:
    port, mbox = free_port(), workspace / "sent.mbox"
    sink = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "smtp-sink", "--port", str(port), "--mbox", str(mbox)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        message = "Subject: =?utf-8?b?5rWL6K+V?=\r\nTo: a@example.org\r\n\r\nhello\r\n"
        client.sendmail("digest@example.org", ["a@example.org"], message.encode())
        client.quit()
    finally:
        sink.send_signal(signal.SIGINT)
        _, err = sink.communicate(timeout=10)
    assert sink.returncode == 0, err
    box = mailbox.mbox(mbox)
    try:
        [stored] = list(box)
    finally:
        box.close()
    assert stored["To"] == "a@example.org"
    assert "received #1: a@example.org: 测试" in err
    assert f"stopped: 1 messages stored in {mbox}" in err
