"""DNS lookups for the checks of a sending setup (`dkim check`, `doctor`), with
dnspython: the system's resolver, or one name server named `IP[:PORT]` (tests
point it at a server of their own on 127.0.0.1).

A name with no record of the type asked is an empty answer; a lookup that cannot
be made (no resolver, a server failure, a timeout) is `LookupUnavailable`, so that
a check can say "cannot tell" rather than "missing".
"""

from __future__ import annotations

import ipaddress
from typing import Any

LOOKUP_SECONDS = 5.0
NAMESERVER_ENV = "NEWSLETTER_NAMESERVER"
"""The environment variable `doctor` and `dkim check` take their `--nameserver` from."""


class LookupUnavailable(Exception):
    """The DNS could not be asked (no network, no resolver, a server failure)."""


def parse_nameserver(value: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT` or `[IPv6]:PORT`, HOST an IP address; ValueError if not."""
    host, port = value, "53"
    if value.startswith("[") and "]:" in value:
        host, port = value[1:].split("]:", 1)
    elif value.count(":") == 1:
        host, port = value.split(":")
    ipaddress.ip_address(host)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{port!r} is not a port")
    return host, int(port)


def lookup(name: str, rdtype: str, nameserver: str | None = None) -> list[Any]:
    """The records of type `rdtype` at `name` (dnspython rdata); [] when none exist."""
    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=nameserver is None)
    except dns.exception.DNSException as error:  # no /etc/resolv.conf, say
        raise LookupUnavailable(str(error)) from None
    if nameserver:
        host, port = parse_nameserver(nameserver)
        resolver.nameservers, resolver.port = [host], port
    resolver.lifetime = LOOKUP_SECONDS
    try:
        return list(resolver.resolve(name, rdtype, search=False))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.NoNameservers:
        raise LookupUnavailable(f"no name server answered for {name} ({rdtype})") from None
    except dns.exception.Timeout:
        raise LookupUnavailable(f"the lookup of {name} ({rdtype}) timed out") from None
    except (dns.exception.DNSException, OSError) as error:
        raise LookupUnavailable(f"{name} ({rdtype}): {error}") from None


def txt_records(name: str, nameserver: str | None = None) -> list[bytes]:
    """The TXT records at `name`, each with its strings joined; [] when none exist."""
    return [b"".join(rdata.strings) for rdata in lookup(name, "TXT", nameserver)]
