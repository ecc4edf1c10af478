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
"""

from __future__ import annotations

import io
import os
import sys
import threading
from typing import Any

from newsletter.config import CONFIG_ENV, Config, load_config


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

    if config.path:
        os.environ[CONFIG_ENV] = str(config.path)
    os.chdir(config.root)  # a config without a file means this folder
    os.environ[SUPERVISOR_ENV] = str(os.getpid())  # what the workers follow
    stop = threading.Event()
    background = _start_outbox(config, stop)
    try:
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
    finally:
        stop.set()
        background.join(timeout=30)


def _start_outbox(config: Config, stop: threading.Event) -> threading.Thread:
    """The one background sender of queued mail (confirmations), in this process."""
    from newsletter.audience.signup import purge_expired
    from newsletter.mail.outbox import run_forever

    chores = (purge_expired,)  # pending sign-ups whose confirmation time ran out
    thread = threading.Thread(target=run_forever, args=(config, stop, chores), daemon=True)
    thread.start()
    return thread
