"""Placeholder: the outbox of queued mail (confirmations) is being built."""

from __future__ import annotations

import threading

from newsletter.config import Config


def run_forever(config: Config, stop: threading.Event) -> None:
    stop.wait()
