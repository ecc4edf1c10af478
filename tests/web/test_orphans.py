"""`newsletter serve --workers 2` whose supervisor is killed outright (SIGKILL): its
workers end too (web/orphans.py), the port is free, and a new serve starts on it and
sends the confirmation mail that was waiting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.mail.outbox import QueuedMail, queue
from newsletter.store import Store
from tests.helpers import THREE, make_site
from tests.smtpd import SmtpServer, free_port, wait_until
from tests.web.conftest import start_serve, stop_serve

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")


def descendants(pid: int) -> set[int]:
    """The processes `pid` started, and theirs (Linux: /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in map(int, children.read_text().split()):
            found |= {child} | descendants(child)
    return found


def running(pid: int) -> bool:
    """Alive: neither gone nor a zombie that no one has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_workers_end_with_a_killed_supervisor_and_serve_starts_again(
    workspace: Path, server: SmtpServer
) -> None:
    port = free_port()
    site = make_site(workspace, server.port, THREE, base_url=f"http://127.0.0.1:{port}")
    first = start_serve(site, port, "--workers", "2")
    workers: set[int] = set()

    def two_workers() -> bool:
        workers.update(descendants(first.pid))
        return len(workers) >= 2

    wait_until(two_workers, timeout=30)
    try:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        wait_until(lambda: not any(running(pid) for pid in workers), timeout=30)
        wait_until(lambda: port_is_free(port), timeout=10)
    finally:
        for pid in filter(running, workers):  # only if the test failed: no orphans left
            os.kill(pid, signal.SIGKILL)

    config = load_config()
    mail = QueuedMail(
        to="new.reader@example.org", subject="Confirm", text="Confirm, please.", kind="confirm"
    )
    with Store.open(config.database_path) as store, store.transaction() as db:
        queue(db, config.newsletter, mail)
    second = start_serve(site, port, "--workers", "2")
    try:
        wait_until(lambda: "new.reader@example.org" in server.handler.count(), timeout=30)
    finally:
        stop_serve(second, site)


SUPERVISOR = """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env={**os.environ,
                          "NEWSLETTER_SERVE_SUPERVISOR": str(os.getpid())})
print(worker.pid, flush=True)
time.sleep(120)
"""
WORKER = """
import os, threading, time
from newsletter.web.orphans import SUPERVISOR_ENV, _watch
supervisor = int(os.environ[SUPERVISOR_ENV])  # not getppid(): it may have died already
threading.Thread(target=_watch, args=(supervisor,), daemon=True).start()
time.sleep(120)
"""


def test_without_prctl_the_watch_ends_an_orphaned_worker(workspace: Path) -> None:
    """The portable half alone (what a worker has where PR_SET_PDEATHSIG is not)."""
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, WORKER], stdout=subprocess.PIPE, text=True
    )
    assert supervisor.stdout is not None
    with supervisor.stdout:
        worker = int(supervisor.stdout.readline())
    assert running(worker)
    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait(timeout=10)
    try:
        wait_until(lambda: not running(worker), timeout=10)
    finally:
        if running(worker):
            os.kill(worker, signal.SIGKILL)
