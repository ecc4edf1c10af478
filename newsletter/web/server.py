"""`newsletter serve`: the app on uvicorn, with N worker processes.

The workers import the app from `app_from_environment`, which reads the same
configuration (the CLI puts its path in `NEWSLETTER_CONFIG`). `X-Forwarded-*` is
believed only from `web.trusted_proxies`. The access log never shows a token: the
path is cut after `/unsubscribe/`, `/preferences/` and `/confirm/` (`access_log.py`).

uvicorn runs our protocol (`protocol.py`: a request's head is at most 64 kB and
must arrive within `web.request_seconds`), answers a WebSocket upgrade as plain HTTP (there is
no WebSocket route; its refusal would be a bare 403), and writes the security
headers into every response it makes, the app's and its own (400, 431, 500).
Workers end with their supervisor, even one killed outright (`orphans.py`).

What each worker holds (its database thread, the archive's copy) starts and stops in
the app's lifespan (`app.py`). The outbox, which sends the confirmation mail, is
one thread for the whole of `serve`, in this process (`outbox_running`): the one
process that lives as long as `serve` does, whatever the number of workers (uvicorn
starts a worker again if one dies; a sender in a worker would stop with it). It
stops after the workers, once the message in hand is sent and recorded: a SIGTERM
or Ctrl-C only ends the command once the outbox has stopped.
"""

from __future__ import annotations

import errno
import io
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from newsletter.config import CONFIG_ENV, Config, load_config
from newsletter.core.errors import NewsletterError
from newsletter.core.stopping import stop_on_signals


def app_from_environment() -> Any:
    """The app factory each uvicorn worker calls."""
    from newsletter.web.app import create_app
    from newsletter.web.orphans import follow_supervisor
    from newsletter.web.protocol import limit_requests

    follow_supervisor()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # the access log, a line at a time
    config = load_config(os.environ.get(CONFIG_ENV))
    limit_requests(config.web.request_seconds)
    return create_app(config)


def serve(config: Config, host: str, port: int, workers: int) -> None:
    """Run until SIGTERM or Ctrl-C (uvicorn's own clean shutdown)."""
    import uvicorn

    from newsletter.web.app import SECURITY_HEADERS
    from newsletter.web.orphans import SUPERVISOR_ENV
    from newsletter.web.protocol import BoundedHttpToolsProtocol

    check_address(host, port)
    if config.path:
        os.environ[CONFIG_ENV] = str(config.path)
    os.chdir(config.root)  # a config without a file means this folder
    os.environ[SUPERVISOR_ENV] = str(os.getpid())  # what the workers follow
    # uvicorn raises the signal it stopped on again once it is done: with one worker
    # (served in this process) that would kill the process before the outbox stops.
    with outbox_running(config) as stop, stop_on_signals(stop):
        uvicorn.run(
            "newsletter.web.server:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            http=BoundedHttpToolsProtocol,
            ws="none",
            headers=SECURITY_HEADERS,
            proxy_headers=bool(config.web.trusted_proxies),
            forwarded_allow_ips=",".join(config.web.trusted_proxies) or None,
            server_header=False,
            access_log=False,  # ours (web/access_log.py): cheaper, and it cuts the tokens
        )


def check_address(host: str, port: int) -> None:
    """One clear line before anything starts when `serve` cannot listen at host:port
    (uvicorn would print its own "Address already in use" and exit 3)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise NewsletterError(f"cannot listen on {host}: {error.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise NewsletterError(
                    f"port {port} on {host} is in use (another serve, or another program): "
                    "stop it, or choose another port with --port or web.port"
                ) from None
            raise NewsletterError(f"cannot listen on {host}:{port}: {error.strerror}") from None


@contextmanager
def outbox_running(config: Config) -> Iterator[threading.Event]:
    """The one background sender of queued mail (confirmations) while the block runs,
    with the housekeeping of sign-ups as its chore; stopped and joined at its end."""
    from newsletter.audience.signup import purge_expired
    from newsletter.mail.outbox import run_forever

    stop = threading.Event()
    chores = (purge_expired,)  # pending sign-ups whose confirmation time ran out
    thread = threading.Thread(target=run_forever, args=(config, stop, chores), name="outbox")
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join()
