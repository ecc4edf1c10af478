"""One way to stop a long run: SIGTERM and Ctrl-C set a `threading.Event`.

`send` and `schedule` both run with `stop_on_signals`: the signal handler only sets
the event, the workers finish the message in hand, record it and leave, and the
command ends normally. Nothing raises `KeyboardInterrupt` in the middle of a
ledger write or a queue operation.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """Within the block, SIGTERM and SIGINT set the event it yields.

    Off the main thread (where Python cannot install handlers) the event is only
    set by whoever holds it.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
