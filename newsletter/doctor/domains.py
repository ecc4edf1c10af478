"""The DNS of the domains mail goes out under: the From domain (what readers and
DMARC see) and the envelope domain (MAIL FROM, where bounces return: the domain of
`bounces.address`, or From's). SPF of each covers the relay; the DKIM record
matches the key (`dkim check`'s own test); DMARC is published for From and aligns
with it; the envelope domain has an MX, so bounces can arrive.

Lookups go to the system's resolver, or to `nameserver` (`--nameserver`,
`$NEWSLETTER_NAMESERVER`). A lookup that cannot be made is "cannot tell" (a
warning), never a failure.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
from functools import partial
from typing import Any

import newsletter.doctor.spf as spf
from newsletter.config import Config
from newsletter.core.errors import NewsletterError
from newsletter.doctor.check import Check, fail, ok, skip, warn
from newsletter.mail.resolver import LookupUnavailable, lookup, txt_records


def checks(config: Config, nameserver: str | None) -> list[Check]:
    from_domain = _domain(email.utils.parseaddr(config.newsletter.from_)[1])
    envelope = _domain(config.bounces.address) or from_domain
    ask = partial(_lookup, nameserver=nameserver)
    relay = _relay_addresses(config.smtp.host)
    return [
        _spf("dns.spf.from", from_domain, relay, ask),
        _spf("dns.spf.envelope", envelope, relay, ask),
        _dkim(config, nameserver),
        _dmarc(config, from_domain, envelope, nameserver),
        _mx(envelope, ask),
    ]


def _lookup(name: str, rdtype: str, nameserver: str | None) -> list[Any]:
    return lookup(name, rdtype, nameserver)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().rstrip(".").lower() if "@" in address else ""


def _relay_addresses(host: str) -> list[spf.IpAddress] | str:
    """The relay's addresses, as the system resolves them for a send; or why not."""
    try:
        found = socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)
    except OSError as error:
        return f"cannot resolve the relay {host}: {error}"
    return list(dict.fromkeys(ipaddress.ip_address(item[4][0]) for item in found))


def _spf(name: str, domain: str, relay: list[spf.IpAddress] | str, ask: spf.Lookup) -> Check:
    if isinstance(relay, str):
        return warn(name, f"cannot tell whether {domain}'s SPF covers the relay: {relay}")
    verdicts: list[str] = []
    for address in relay:
        try:
            covered, why = spf.covers(domain, address, ask)
        except spf.NotPublished:
            return fail(
                name,
                f"{domain} has no SPF record: publish one that covers the relay, e.g. "
                f'`{domain}. IN TXT "v=spf1 ip4:{address} -all"` (or your provider\'s include:)',
            )
        except (spf.CannotTell, LookupUnavailable) as error:
            return warn(name, f"cannot tell whether {domain}'s SPF covers {address}: {error}")
        if not covered and address.is_loopback:
            return warn(
                name,
                f"cannot tell: {domain}'s SPF does not cover {address}, but the relay is on "
                "this machine: it must cover the public address this machine sends from",
            )
        if not covered:
            return fail(
                name,
                f"{domain}'s SPF does not cover the relay's address {address} ({why}): add "
                f"ip4:/ip6: for it, or the include: your relay's provider documents",
            )
        verdicts.append(f"{address} ({why})")
    return ok(name, f"{domain}'s SPF covers the relay: {', '.join(verdicts)}")


def _dkim(config: Config, nameserver: str | None) -> Check:
    from newsletter.mail.dkim_check import check

    if not (config.dkim.domain and config.dkim.selector and config.dkim.key_file):
        return warn(
            "dns.dkim",
            "[dkim] is not set: mail goes out unsigned, and large receivers (Gmail, Yahoo) "
            "want bulk mail signed: `newsletter dkim keygen`",
        )
    key = config.resolve(config.dkim.key_file)
    if key.is_file() and key.stat().st_mode & 0o077:
        return skip("dns.dkim", f"{key} is open to others: see files.dkim_key")
    try:
        result = check(config, nameserver=nameserver)
    except NewsletterError as error:
        return fail("dns.dkim", str(error))
    if not result.published:
        return warn("dns.dkim", f"cannot tell: {result.note}")
    return ok("dns.dkim", result.note)


def _dmarc(config: Config, domain: str, envelope: str, nameserver: str | None) -> Check:
    try:
        where, tags = _dmarc_record(domain, nameserver)
    except LookupUnavailable as error:
        return warn("dns.dmarc", f"cannot tell: {error}")
    if tags is None:
        return fail(
            "dns.dmarc",
            f"no DMARC record at _dmarc.{domain}: publish one, e.g. `_dmarc.{domain}. IN TXT "
            f'"v=DMARC1; p=none; rua=mailto:dmarc@{domain}"`',
        )
    if tags.get("p") not in ("none", "quarantine", "reject"):
        return fail("dns.dmarc", f"the DMARC record at {where} has no valid p= tag: add p=none")
    signer = config.dkim.domain.lower() if config.dkim.key_file else ""
    by = []
    if signer and _aligned(signer, domain, tags.get("adkim", "r")):
        by.append(f"DKIM d={signer}")
    if _aligned(envelope, domain, tags.get("aspf", "r")):
        by.append(f"SPF envelope {envelope}")
    if not by:
        return fail(
            "dns.dmarc",
            f"mail would fail DMARC at {where}: neither the DKIM domain ({signer or 'unsigned'}) "
            f"nor the envelope domain ({envelope}) aligns with From's {domain}: set [dkim] "
            f"domain to {domain} (or a parent), or bounces.address under {domain}",
        )
    return ok("dns.dmarc", f"{where} p={tags['p']}; aligned by {' and '.join(by)}")


def _dmarc_record(domain: str, nameserver: str | None) -> tuple[str, dict[str, str] | None]:
    """The DMARC tags for `domain`: its own record, else its organisational domain's."""
    for name in dict.fromkeys([domain, _organisational(domain)]):
        for record in txt_records(f"_dmarc.{name}", nameserver):
            text = record.decode("ascii", "replace")
            if text.replace(" ", "").lower().startswith("v=dmarc1"):
                pairs = (part.split("=", 1) for part in text.split(";") if "=" in part)
                return f"_dmarc.{name}", {k.strip().lower(): v.strip() for k, v in pairs}
    return f"_dmarc.{domain}", None


def _organisational(domain: str) -> str:
    """The last two labels: the registered domain for most (not `example.co.uk`)."""
    return ".".join(domain.split(".")[-2:])


def _aligned(one: str, other: str, mode: str) -> bool:
    if mode.lower() == "s":
        return one == other
    return _organisational(one) == _organisational(other)


def _mx(domain: str, ask: spf.Lookup) -> Check:
    if not domain:
        return skip("dns.mx.envelope", "no envelope domain")
    try:
        found = ask(domain, "MX")
    except LookupUnavailable as error:
        return warn("dns.mx.envelope", f"cannot tell: {error}")
    hosts = [f"{r.exchange.to_text().rstrip('.')} ({r.preference})" for r in found]
    if all(r.exchange.to_text() == "." for r in found):  # none, or a null MX (RFC 7505)
        return fail(
            "dns.mx.envelope",
            f"{domain} has no MX record: bounces to it cannot arrive; publish an MX for the "
            "mail server your [inbox] reads",
        )
    return ok("dns.mx.envelope", f"{domain} receives mail: {', '.join(hosts)}")
