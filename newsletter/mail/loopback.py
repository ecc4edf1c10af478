"""Whether a server is on this machine: the one case where a password may go
without TLS (nothing crosses a network). Decided twice: from the configured host
before connecting (an address or `localhost`), and for a name, from the address
the connection reached.

Both the SMTP sessions (`send/smtp.py`) and the IMAP source of the inbox ask it.
"""

from __future__ import annotations

import ipaddress
import socket

from newsletter.core.hosts import is_local


def may_be_loopback(host: str) -> bool:
    """False only when `host` surely is another machine: an address that is not a
    loopback one. A name (other than `localhost`) is decided once connected."""
    if is_local(host):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True  # a name: decided once connected
    return False


def peer_is_loopback(sock: socket.socket | None) -> bool:
    """Whether a connected socket reached an address of this machine."""
    try:
        peer = sock.getpeername()[0] if sock is not None else ""
        return ipaddress.ip_address(peer).is_loopback
    except (OSError, ValueError):
        return False
