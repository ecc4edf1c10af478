"""Whether a configured host name or address surely is this machine.

One rule for every stage that asks: `localhost` (and `localhost.localdomain`, any
`*.localhost`) and the loopback addresses (127.0.0.0/8, ::1, with or without
brackets). Any other name may still lead here; only a connection can tell
(`mail/loopback.py` asks the socket).
"""

from __future__ import annotations

import ipaddress

LOCAL_NAMES = ("localhost", "localhost.localdomain")


def is_local(host: str) -> bool:
    """`host` is this machine by its loopback name or address."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
