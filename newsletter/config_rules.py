"""What each configuration value may be: a bound for every number, no control
character in any text, a real address in `from`, an absolute http(s) `base_url`,
subject patterns that name only their fields, a cron line and a time zone that
exist, an arXiv API URL and an interval its terms allow. Each broken rule is one
`ConfigError` naming the key and the file."""

from __future__ import annotations

import email.utils
import ipaddress
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ConfigError
from newsletter.model import EDITIONS
from newsletter.text import shorten

if TYPE_CHECKING:
    from newsletter.config import (
        ArxivSettings,
        Config,
        DkimSettings,
        InboxSettings,
        NewsletterSettings,
    )

SECURITY_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class Bound:
    """The values a number setting may take. Every number has one, so `inf`, `nan`
    or a huge integer is a config error, not an OverflowError or a hang later."""

    low: float
    high: float
    unit: str = ""
    above_low: bool = False  # the low end itself is not allowed (a timeout of 0)

    def allows(self, value: float) -> bool:
        above = value > self.low if self.above_low else value >= self.low
        return above and value <= self.high  # False for nan

    def __str__(self) -> str:
        low = f"more than {self.low:g}" if self.above_low else f"at least {self.low:g}"
        return f"{low} and at most {self.high:g}{self.unit}"


BOUNDS = {
    "newsletter.max_papers": Bound(1, 1000),
    "smtp.port": Bound(1, 65535),
    "smtp.timeout": Bound(0, 600, " seconds", above_low=True),
    "smtp.connections": Bound(1, 100),
    "smtp.rate_per_second": Bound(0, 10000, " (0: unlimited)"),
    "smtp.retries": Bound(0, 10),
    "smtp.retry_delay": Bound(0, 300, " seconds"),
    "schedule.grace_hours": Bound(0, 744, " hours"),
    "web.port": Bound(1, 65535),
    "web.workers": Bound(1, 64),
    "web.confirm_days": Bound(1, 90, " days"),
    "web.signups_per_client_per_hour": Bound(1, 10000),
    "web.confirmations_per_hour": Bound(1, 1000000),
    "bounces.soft_limit": Bound(1, 100),
    "inbox.port": Bound(1, 65535),
    "inbox.timeout": Bound(0, 600, " seconds", above_low=True),
    "arxiv.timeout": Bound(0, 120, " seconds", above_low=True),
    "arxiv.interval": Bound(0, 60, " seconds"),
    "arxiv.retries": Bound(0, 5),
    "arxiv.retry_delay": Bound(0, 60, " seconds"),
}
"""The bounds of every number setting (the README lists them)."""

# Control characters (and the Unicode line separators) in a value would split a mail
# header (title, From, List-Unsubscribe…) or a path; only the postal address (in
# MULTILINE) may hold line feeds.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

MULTILINE = {"newsletter.postal_address"}
"""Text settings that may hold line feeds (and no other control character): they
never go into a header or a path; the footer shows each line on its own."""

TEXT_LIMITS = {"newsletter.postal_address": 300}
"""The longest some text settings may be, in characters."""


SUBJECT_FIELDS = ("number", "date", "papers", "title_en", "title_zh")
"""What a subject pattern may name, e.g. `{title_en} #{number} ({papers} papers)`."""

_SUBJECT_SAMPLE = {"number": 1, "date": "2024-07-15", "papers": 20, "title_en": "", "title_zh": ""}
# A format spec may align, zero-pad, set a width and a precision (`{number:03d}`,
# `{title_en:.20}`), each under 100: nothing that could grow a subject without bound.
_SUBJECT_SPEC = re.compile(r"(?:[<>^]?0?[0-9]{1,2})?(?:\.[0-9]{1,2})?[ds]?")


def coerce(value: Any, default: Any, key: str, source: str) -> Any:
    """Check `value` has the type of the key's default, and return it in that type:
    numbers within their bounds, strings without control characters."""
    wanted = type(default)
    if wanted is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{source}: {key} must be a list of strings, not {value!r}")
        return tuple(checked_text(item, key, source) for item in value)
    if wanted is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(checked_number(value, key, source))  # bounded first: no OverflowError
    if not isinstance(value, wanted) or isinstance(value, bool) != isinstance(default, bool):
        kind = {int: "a whole number", float: "a number", str: "a string"}.get(wanted, "")
        raise ConfigError(f"{source}: {key} must be {kind}, not {_short(value)}")
    if wanted is int:
        return checked_number(value, key, source)
    return checked_text(value, key, source) if wanted is str else value


Number = TypeVar("Number", int, float)


def checked_number(value: Number, key: str, where: str) -> Number:
    bound = BOUNDS.get(key)
    if bound and not bound.allows(value):
        raise ConfigError(f"{where}: {key}: {_short(value)} is out of range: it must be {bound}")
    return value


def checked_text(value: str, key: str, where: str) -> str:
    limit = TEXT_LIMITS.get(key)
    if limit is not None and len(value) > limit:
        raise ConfigError(
            f"{where}: {key}: {_short(value)} is too long: at most {limit} characters"
        )
    control = _CONTROL.search(value.replace("\n", "") if key in MULTILINE else value)
    if control:
        raise ConfigError(
            f"{where}: {key}: {_short(value)} has a control character "
            f"(U+{ord(control.group()):04X}); it would break a mail header or a path"
        )
    return value


def _short(value: Any) -> str:
    """A value as an error message quotes it: repr, cut to one readable length."""
    return shorten(repr(value), 60)


def validate(config: Config, source: str) -> None:
    """The checks a type alone cannot make (numbers were bounded as they were read)."""
    smtp, letter = config.smtp, config.newsletter
    checks = [
        (
            smtp.security in SECURITY_MODES,
            "smtp.security",
            f"{smtp.security!r} is not one of {', '.join(SECURITY_MODES)}",
        ),
        (bool(letter.digests), "newsletter.digests", "must name at least one file or glob"),
    ]
    for ok, key, message in checks:
        if not ok:
            raise ConfigError(f"{source}: {key}: {message}")
    _check_links(letter, source)
    _check_bounce_address(config.bounces.address, source)
    _check_dkim(config.dkim, source)
    _check_inbox(config.inbox, source)
    _check_arxiv(config.arxiv, source)
    for edition in EDITIONS:
        _check_subject(
            getattr(letter, f"subject_{edition}"), f"newsletter.subject_{edition}", source
        )
    try:
        from newsletter.schedule.cron import CronError, parse

        parse(config.schedule.cron)
    except CronError as error:
        raise ConfigError(f"{source}: schedule.cron: {error}") from None
    try:
        ZoneInfo(config.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{source}: schedule.timezone: {config.schedule.timezone!r} is not an IANA "
            "time zone (e.g. Asia/Shanghai)"
        ) from None


def _check_links(letter: NewsletterSettings, source: str) -> None:
    """The sender and the unsubscribe targets: a wrong one sends `From: not` or
    relative unsubscribe links to every subscriber."""
    if not _is_address(letter.from_):
        raise ConfigError(
            f"{source}: newsletter.from: {_short(letter.from_)} is not an email address "
            '(e.g. "AI Paper Digest <digest@example.org>")'
        )
    if letter.unsubscribe_mailto and not _is_address(letter.unsubscribe_mailto, bare=True):
        raise ConfigError(
            f"{source}: newsletter.unsubscribe_mailto: {_short(letter.unsubscribe_mailto)} "
            "is not an email address (e.g. unsubscribe@example.org; empty: the From address)"
        )
    if not _is_web_url(letter.base_url):
        raise ConfigError(
            f"{source}: newsletter.base_url: {_short(letter.base_url)} is not an absolute "
            "http(s) URL without query or fragment (e.g. https://digest.example.org)"
        )


def _check_bounce_address(pattern: str, source: str) -> None:
    """`bounces.address`: empty, or a bare address with `{token}` in its local part
    (VERP: the envelope sender names the subscriber, so a bounce does too)."""
    if not pattern:
        return
    sample = pattern.replace("{token}", "Tok3n", 1)
    if "{token}" not in pattern.partition("@")[0] or "{" in sample or "}" in sample:
        raise ConfigError(
            f"{source}: bounces.address: {_short(pattern)} must hold {{token}} once, "
            "before the @ (e.g. bounces+{token}@example.org)"
        )
    if not _is_address(sample, bare=True):
        raise ConfigError(f"{source}: bounces.address: {_short(pattern)} is not an address")


# A domain name (letters, digits, hyphens; dots between labels), and a selector: one
# or more such labels (RFC 6376 section 3.1).
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _check_dkim(dkim: DkimSettings, source: str) -> None:
    """All three keys or none (half a setup would send unsigned mail unnoticed); the
    key itself is read when a send starts (`send.dkim.load_signer`)."""
    given = {"domain": dkim.domain, "selector": dkim.selector, "key_file": dkim.key_file}
    if any(given.values()) and not all(given.values()):
        missing = ", ".join(f"dkim.{key}" for key, value in given.items() if not value)
        raise ConfigError(
            f"{source}: [dkim] is half set: {missing} missing (set all three to sign, or none)"
        )
    for key in ("domain", "selector"):
        if given[key] and not checked_dkim_name(given[key]):
            raise ConfigError(f"{source}: dkim.{key}: {_short(given[key])} is not a domain name")


def _check_inbox(inbox: InboxSettings, source: str) -> None:
    """`[inbox]`: a security mode that exists; and, once `host` is set (IMAP is on),
    a host name, a user to log in as, and two different folders."""
    if inbox.security not in SECURITY_MODES:
        raise ConfigError(
            f"{source}: inbox.security: {inbox.security!r} is not one of "
            f"{', '.join(SECURITY_MODES)}"
        )
    if not inbox.host:
        return
    problems = [
        (not _is_host(inbox.host), "inbox.host",
         f"{_short(inbox.host)} is not a host name or an IP address (e.g. imap.example.org)"),
        (not inbox.username, "inbox.username", "must be set when inbox.host is (IMAP logs in)"),
        (not inbox.folder, "inbox.folder", "must name a folder (e.g. INBOX)"),
        (not inbox.processed_folder, "inbox.processed_folder",
         "must name a folder (e.g. Processed)"),
        (_same_folder(inbox.folder, inbox.processed_folder), "inbox.processed_folder",
         f"{_short(inbox.processed_folder)} is inbox.folder itself: handled mail must go "
         "elsewhere"),
    ]  # fmt: skip
    for wrong, key, message in problems:
        if wrong:
            raise ConfigError(f"{source}: {key}: {message}")


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value.removeprefix("[").removesuffix("]"))
    except ValueError:
        return checked_dkim_name(value)
    return True


def _same_folder(one: str, other: str) -> bool:
    """IMAP folder names compare exactly, except INBOX, which is any case (RFC 3501)."""
    return one == other or one.upper() == other.upper() == "INBOX"


ARXIV_MIN_INTERVAL = 3.0
"""arXiv's terms of use: no more than one request every three seconds."""


def _check_arxiv(arxiv: ArxivSettings, source: str) -> None:
    """An API URL the query can be appended to, and arXiv's own interval for arXiv
    (a mirror or a test server may be asked faster)."""
    from urllib.parse import urlsplit

    from newsletter.enrich.atom import is_arxiv_host

    if not _is_web_url(arxiv.api_url):
        raise ConfigError(
            f"{source}: arxiv.api_url: {_short(arxiv.api_url)} is not an absolute http(s) "
            "URL without query or fragment (e.g. https://export.arxiv.org/api/query)"
        )
    host = urlsplit(arxiv.api_url).hostname
    if is_arxiv_host(host) and arxiv.interval < ARXIV_MIN_INTERVAL:
        raise ConfigError(
            f"{source}: arxiv.interval: {arxiv.interval:g} is too short for {host}: its "
            f"terms of use ask for at most one request every {ARXIV_MIN_INTERVAL:g} seconds"
        )


def checked_dkim_name(value: str) -> bool:
    """A DKIM domain or selector: dot-separated labels of letters, digits, hyphens."""
    return len(value) <= 253 and bool(_DOMAIN.fullmatch(value))


def _is_address(value: str, bare: bool = False) -> bool:
    """One address, `Name <addr>` or (always, or with `bare` only) `addr`, whose
    address part is valid for SMTP without SMTPUTF8 (as subscribers' are)."""
    from email_validator import EmailNotValidError, validate_email

    pairs = email.utils.getaddresses([value])
    if len(pairs) != 1 or (bare and pairs[0][1] != value.strip()):
        return False
    try:
        validate_email(pairs[0][1], check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return True


def _is_web_url(value: str) -> bool:
    """An absolute http(s) URL that links can be appended to (`/unsubscribe/…`)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port_ok
        and not (parts.username or parts.password)
        and not re.search(r"[\s?#]", value)  # `/unsubscribe/…` is appended to it
    )


def _check_subject(pattern: str, key: str, source: str) -> None:
    """A subject pattern may only name the fields in SUBJECT_FIELDS, plainly: no
    attribute or index access (`{title_en.__doc__}`), no conversions, and only short
    format specs (`{number:03d}`)."""
    problem = _subject_problem(pattern)
    if problem:
        raise ConfigError(
            f"{source}: {key}: {_short(pattern)} is not a subject pattern ({problem}); it may "
            "name " + ", ".join("{" + name + "}" for name in SUBJECT_FIELDS)
        )


def _subject_problem(pattern: str) -> str | None:
    try:
        fields_ = list(string.Formatter().parse(pattern))
    except ValueError as error:  # a lone `{` or `}`
        return str(error)
    for _, name, spec, conversion in fields_:
        if name is None:
            continue
        if name not in SUBJECT_FIELDS:
            return f"{{{name}}} is not a field" if name else "{} names no field"
        if conversion:
            return f"!{conversion} is not allowed"
        if spec and not _SUBJECT_SPEC.fullmatch(spec):
            return f"the format {spec!r} is not allowed"
    try:
        pattern.format(**_SUBJECT_SAMPLE)
    except ValueError as error:  # a spec that does not suit the field, e.g. {date:d}
        return str(error)
    return None
