"""Does a domain's SPF record (RFC 7208) let the relay send for it?

A small evaluator, enough to answer "covered, not covered, or cannot tell" for one
address: `ip4`, `ip6`, `a`, `mx`, `include`, `all` and `redirect=`, with the
RFC's limit of 10 lookups. What it cannot decide without the message (`exists`,
`ptr`, macros) is "cannot tell", never a failure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Lookup = Callable[[str, str], list[Any]]
"""(name, type) -> dnspython rdata: `resolver.lookup` with its name server."""

MAX_LOOKUPS = 10


class CannotTell(Exception):
    """The record (or one it includes) needs what this check cannot know."""


class NotPublished(Exception):
    """The domain has no SPF record."""


@dataclass
class Evaluation:
    lookup: Lookup
    lookups: int = 0
    seen: list[str] = field(default_factory=list)

    def records(self, domain: str) -> list[str]:
        self.count()
        texts = [b"".join(r.strings).decode("ascii", "replace") for r in self.lookup(domain, "TXT")]
        return [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]

    def addresses(self, name: str) -> list[IpAddress]:
        found = [*self.lookup(name, "A"), *self.lookup(name, "AAAA")]
        return [ipaddress.ip_address(rdata.address) for rdata in found]

    def exchanges(self, name: str) -> list[str]:
        return [rdata.exchange.to_text().rstrip(".") for rdata in self.lookup(name, "MX")]

    def count(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise CannotTell(f"more than {MAX_LOOKUPS} DNS lookups (receivers fail it: permerror)")


def covers(domain: str, address: IpAddress, lookup: Lookup) -> tuple[bool, str]:
    """Whether `domain`'s SPF passes mail from `address`, and the mechanism that
    decided (or what was missed). NotPublished, CannotTell, resolver.LookupUnavailable."""
    evaluation = Evaluation(lookup)
    records = evaluation.records(domain)
    if not records:
        raise NotPublished(domain)
    return _evaluate(domain, records, address, evaluation)


def _evaluate(
    domain: str, records: list[str], address: IpAddress, evaluation: Evaluation
) -> tuple[bool, str]:
    if len(records) > 1:
        raise CannotTell(f"{domain} has {len(records)} SPF records (receivers fail it: permerror)")
    terms = records[0].split()[1:]
    redirect = None
    for term in terms:
        if "%" in term:
            raise CannotTell(f"{term!r} in {domain}'s SPF uses macros")
        if term.lower().startswith("redirect="):
            redirect = term.split("=", 1)[1]
            continue
        if "=" in term:  # another modifier (exp=)
            continue
        qualifier, mechanism = (term[0], term[1:]) if term[0] in "+-~?" else ("+", term)
        if _matches(mechanism, domain, address, evaluation):
            return qualifier == "+", f"{qualifier}{mechanism} in {domain}'s SPF"
    if redirect is not None:
        records = evaluation.records(redirect)
        if not records:
            raise CannotTell(f"{domain}'s SPF redirects to {redirect}, which has none")
        return _evaluate(redirect, records, address, evaluation)
    return False, f"no mechanism of {domain}'s SPF matches"


def _matches(mechanism: str, domain: str, address: IpAddress, evaluation: Evaluation) -> bool:
    name, _, argument = mechanism.partition(":")
    name = name.lower()
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        return address in ipaddress.ip_network(argument, strict=False)
    if name.startswith(("a", "mx")) and name.split("/")[0] in ("a", "mx"):
        return _host_matches(name, argument, domain, address, evaluation)
    if name == "include":
        records = evaluation.records(argument)
        if not records:
            raise CannotTell(f"include:{argument} has no SPF record (permerror)")
        return _evaluate(argument, records, address, evaluation)[0]
    raise CannotTell(f"{mechanism!r} in {domain}'s SPF needs the message to decide")


def _host_matches(
    name: str, argument: str, domain: str, address: IpAddress, evaluation: Evaluation
) -> bool:
    """`a`, `a:host`, `a/24`, `mx:host/24//64`: the address within a host's networks."""
    kind, *lengths = name.split("/", 1)
    target, *target_lengths = argument.split("/", 1) if argument else ("",)
    cidr = (lengths or target_lengths or [""])[0]
    four, _, six = cidr.partition("//")
    evaluation.count()
    hosts = [target or domain] if kind == "a" else evaluation.exchanges(target or domain)
    for host in hosts:
        for found in evaluation.addresses(host):
            length = (four if found.version == 4 else six) or str(found.max_prefixlen)
            if address in ipaddress.ip_network(f"{found}/{length}", strict=False):
                return True
    return False
