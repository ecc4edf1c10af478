"""What the configuration's values must be beyond their type: a real address in
`from`, an absolute http(s) `base_url`, subject patterns that name only their
fields, a VERP pattern with its token, all of `[dkim]` or none, an `[inbox]` that
can log in safely, an arXiv API URL and an interval its terms allow, a cron line
and a time zone that exist. `validate` runs them once the file is read; each broken
rule is one `ConfigError` naming the key and the file."""

from __future__ import annotations

import email.utils
import ipaddress
import re
import string
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.config.rules import SECURITY_MODES, short_repr
from newsletter.core.crontab import CronError, parse
from newsletter.core.errors import ConfigError
from newsletter.core.model import EDITIONS

if TYPE_CHECKING:
    from newsletter.config.settings import (
        ArxivSettings,
        Config,
        DkimSettings,
        InboxSettings,
        NewsletterSettings,
    )

SUBJECT_FIELDS = ("number", "date", "papers", "title_en", "title_zh")
"""What a subject pattern may name, e.g. `{title_en} #{number} ({papers} papers)`."""

_SUBJECT_SAMPLE = {"number": 1, "date": "2024-07-15", "papers": 20, "title_en": "", "title_zh": ""}
# A format spec may align, zero-pad, set a width and a precision (`{number:03d}`,
# `{title_en:.20}`), each under 100: nothing that could grow a subject without bound.
_SUBJECT_SPEC = re.compile(r"(?:[<>^]?0?[0-9]{1,2})?(?:\.[0-9]{1,2})?[ds]?")


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
            f"{source}: newsletter.from: {short_repr(letter.from_)} is not an email address "
            '(e.g. "AI Paper Digest <digest@example.org>")'
        )
    if letter.unsubscribe_mailto and not _is_address(letter.unsubscribe_mailto, bare=True):
        raise ConfigError(
            f"{source}: newsletter.unsubscribe_mailto: {short_repr(letter.unsubscribe_mailto)} "
            "is not an email address (e.g. unsubscribe@example.org; empty: the From address)"
        )
    if not _is_web_url(letter.base_url):
        raise ConfigError(
            f"{source}: newsletter.base_url: {short_repr(letter.base_url)} is not an absolute "
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
            f"{source}: bounces.address: {short_repr(pattern)} must hold {{token}} once, "
            "before the @ (e.g. bounces+{token}@example.org)"
        )
    if not _is_address(sample, bare=True):
        raise ConfigError(f"{source}: bounces.address: {short_repr(pattern)} is not an address")


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
            raise ConfigError(
                f"{source}: dkim.{key}: {short_repr(given[key])} is not a domain name"
            )


def _check_inbox(inbox: InboxSettings, source: str) -> None:
    """`[inbox]`: a security mode that exists; and, once `host` is set (IMAP is on),
    a host name, a user to log in as, and three different folders."""
    if inbox.security not in SECURITY_MODES:
        raise ConfigError(
            f"{source}: inbox.security: {inbox.security!r} is not one of "
            f"{', '.join(SECURITY_MODES)}"
        )
    if not inbox.host:
        return
    problems = [
        (
            not _is_host(inbox.host),
            "inbox.host",
            f"{short_repr(inbox.host)} is not a host name or an IP address (e.g. imap.example.org)",
        ),
        (not inbox.username, "inbox.username", "must be set when inbox.host is (IMAP logs in)"),
        (not inbox.folder, "inbox.folder", "must name a folder (e.g. INBOX)"),
        (
            not inbox.processed_folder,
            "inbox.processed_folder",
            "must name a folder (e.g. Processed)",
        ),
        (
            _same_folder(inbox.folder, inbox.processed_folder),
            "inbox.processed_folder",
            f"{short_repr(inbox.processed_folder)} is inbox.folder itself: handled mail must go "
            "elsewhere",
        ),
        (not inbox.failed_folder, "inbox.failed_folder", "must name a folder (e.g. Failed)"),
        (
            any(
                _same_folder(inbox.failed_folder, other)
                for other in (inbox.folder, inbox.processed_folder)
            ),
            "inbox.failed_folder",
            f"{short_repr(inbox.failed_folder)} is inbox.folder or inbox.processed_folder: "
            "unreadable mail must go to a folder of its own",
        ),
    ]
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


def is_arxiv_host(host: str | None) -> bool:
    """arxiv.org or one of its hosts (export.arxiv.org)."""
    name = (host or "").lower()
    return name == "arxiv.org" or name.endswith(".arxiv.org")


def _check_arxiv(arxiv: ArxivSettings, source: str) -> None:
    """An API URL the query can be appended to, and arXiv's own interval for arXiv
    (a mirror or a test server may be asked faster)."""
    from urllib.parse import urlsplit

    if not _is_web_url(arxiv.api_url):
        raise ConfigError(
            f"{source}: arxiv.api_url: {short_repr(arxiv.api_url)} is not an absolute http(s) "
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
            f"{source}: {key}: {short_repr(pattern)} is not a subject pattern ({problem}); it may "
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
