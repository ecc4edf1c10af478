"""A worker of `newsletter serve` ends when its supervisor does, however it ends.

uvicorn's supervisor stops its workers when it is told to stop, but a supervisor
killed outright (`kill -9`, the OOM killer) leaves them serving: they hold the
port, so a new `serve` cannot start, and the outbox loop, which runs in the
supervisor, is gone, so no confirmation mail is sent. Each worker therefore asks
Linux to send it SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`), and
everywhere runs a thread that notices its parent change (it is then adopted by
init or a subreaper): it sends the same SIGTERM, uvicorn's clean shutdown, and if
the worker is still there `GRACE_SECONDS` later, SIGKILL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

SUPERVISOR_ENV = "NEWSLETTER_SERVE_SUPERVISOR"
"""The supervisor's process id, which `serve` hands to its workers."""

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5
GRACE_SECONDS = 10.0


def follow_supervisor() -> None:
    """In a worker (a process whose parent is the supervisor `SUPERVISOR_ENV` names):
    end when the supervisor ends. Elsewhere (one process, no supervisor): nothing."""
    supervisor = os.environ.get(SUPERVISOR_ENV, "")
    if not supervisor.isdigit() or int(supervisor) == os.getpid():
        return
    _die_with_parent()
    thread = threading.Thread(
        target=_watch, args=(int(supervisor),), name="supervisor-watch", daemon=True
    )
    thread.start()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    # prctl only acts on deaths to come; the watch below sees one that came before.


def _watch(supervisor: int) -> None:
    stopped = threading.Event()
    while os.getppid() == supervisor:
        stopped.wait(WATCH_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)
    stopped.wait(GRACE_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)
