"""`newsletter serve`: the app on uvicorn, with N worker processes.

The workers import the app from `app_from_environment`, which reads the same
configuration (the CLI puts its path in `NEWSLETTER_CONFIG`). `X-Forwarded-*` is
believed only from `web.trusted_proxies`. The access log never shows a token: the
path is cut after `/unsubscribe/`, `/preferences/` and `/confirm/`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

from newsletter.config import CONFIG_ENV, Config, load_config

_TOKEN_PATH = re.compile(r"(/(?:unsubscribe|preferences|confirm)/)[^\s\"?]+")


class TokenFilter(logging.Filter):
    """Cut tokens out of access-log lines (they unsubscribe whoever holds them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_PATH.sub(r"\1…", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def app_from_environment() -> Any:
    """The app factory each uvicorn worker calls."""
    from newsletter.web.app import create_app

    return create_app(load_config(os.environ.get(CONFIG_ENV)))


def serve(config: Config, host: str, port: int, workers: int) -> None:
    """Run until SIGTERM or Ctrl-C (uvicorn's own clean shutdown)."""
    import uvicorn

    if config.path:
        os.environ[CONFIG_ENV] = str(config.path)
    os.chdir(config.root)  # a config without a file means this folder
    stop = threading.Event()
    background = _start_outbox(config, stop)
    try:
        uvicorn.run(
            "newsletter.web.server:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=bool(config.web.trusted_proxies),
            forwarded_allow_ips=",".join(config.web.trusted_proxies) or None,
            server_header=False,
            access_log=config.web.access_log,
            log_config=_log_config(),
        )
    finally:
        stop.set()
        background.join(timeout=30)


def _start_outbox(config: Config, stop: threading.Event) -> threading.Thread:
    """The one background sender of queued mail (confirmations), in this process."""
    from newsletter.send.outbox import run_forever

    thread = threading.Thread(target=run_forever, args=(config, stop), daemon=True)
    thread.start()
    return thread


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    settings: dict[str, Any] = {**LOGGING_CONFIG}
    settings["filters"] = {"tokens": {"()": "newsletter.web.server.TokenFilter"}}
    handlers = {name: {**handler} for name, handler in LOGGING_CONFIG["handlers"].items()}
    handlers["access"]["filters"] = ["tokens"]
    settings["handlers"] = handlers
    return settings
