"""`newsletter smtp-sink`: a local server a new user can point `send` at."""

from __future__ import annotations

import mailbox
import os
import signal
import smtplib
import socket
import stat
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.smtpd import free_port, wait_until

MESSAGE = "Subject: =?utf-8?b?5rWL6K+V?=\r\nTo: a@example.org\r\n\r\nhello\r\n"


def _sink_receives_one(mbox: Path, umask: int = 0o022) -> str:
    """Start `newsletter smtp-sink` (with `umask`), send it one message, stop it with
    Ctrl-C; its stderr."""
    port = free_port()
    command = [sys.executable, "-m", "newsletter", "smtp-sink"]
    old = os.umask(umask)  # the child inherits it
    try:
        sink = subprocess.Popen(
            [*command, "--port", str(port), "--mbox", str(mbox)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.umask(old)
    try:
        wait_until(lambda: _listening(sink, port), timeout=10)
        client = smtplib.SMTP("127.0.0.1", port, timeout=5)
        client.sendmail("digest@example.org", ["a@example.org"], MESSAGE.encode())
        client.quit()
    finally:
        sink.send_signal(signal.SIGINT)
        _, err = sink.communicate(timeout=10)
    assert sink.returncode == 0, err
    return err


def _listening(sink: subprocess.Popen[str], port: int) -> bool:
    """Whether the sink takes connections yet (it must not have exited)."""
    assert sink.poll() is None, sink.communicate()[1]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return False
    return True


def _stored(mbox: Path) -> list[mailbox.mboxMessage]:
    box = mailbox.mbox(mbox)
    try:
        return list(box)
    finally:
        box.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sink_stores_what_it_receives_in_an_mbox(workspace: Path) -> None:
    mbox = workspace / "sent.mbox"
    err = _sink_receives_one(mbox)
    [stored] = _stored(mbox)
    assert stored["To"] == "a@example.org"
    assert "received #1: a@example.org: 测试" in err
    assert f"stopped: 1 messages stored in {mbox}" in err


def test_the_mbox_is_made_readable_by_its_owner_only_whatever_the_umask(
    workspace: Path,
) -> None:
    """It holds every address and unsubscribe token: mode 600, like the database."""
    for umask in (0o022, 0o000):
        mbox = workspace / f"umask-{umask:03o}.mbox"
        err = _sink_receives_one(mbox, umask)
        assert _mode(mbox) == 0o600, oct(_mode(mbox))
        assert len(_stored(mbox)) == 1
        assert "made it 600" not in err


def test_an_mbox_readable_by_others_is_tightened_and_kept(workspace: Path) -> None:
    mbox = workspace / "smtp-sink.mbox"
    _sink_receives_one(mbox)
    mbox.chmod(0o644)
    err = _sink_receives_one(mbox, 0o000)
    assert _mode(mbox) == 0o600
    assert f"{mbox} was mode 644; made it 600: it holds addresses and unsubscribe tokens" in err
    assert len(_stored(mbox)) == 2  # the messages from before are still there
