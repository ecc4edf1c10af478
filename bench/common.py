"""What the benchmarks share: the one address they use, where Debian's tools live,
and a free port on it."""

from __future__ import annotations

import os
import socket

HOST = "127.0.0.1"  # the only address a benchmark sends to
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
"""Where Debian puts smtp-sink, nginx and wrk (/usr/sbin is not on every PATH)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
