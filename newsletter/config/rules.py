"""What any configuration value may be, checked as it is read: the type of its
default, a bound for every number (so `inf`, `nan` and huge integers are errors,
not crashes), no control character in any text. Each broken rule is one
`ConfigError` naming the key and the file; what a section's values must be
together (`checks.py`) is checked once they are all read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from newsletter.core.errors import ConfigError
from newsletter.core.text import header_unsafe, shorten

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
    "web.request_seconds": Bound(1, 300, " seconds"),
    "bounces.soft_limit": Bound(1, 100),
    "inbox.port": Bound(1, 65535),
    "inbox.timeout": Bound(0, 600, " seconds", above_low=True),
    "inbox.max_size": Bound(100_000, 1_000_000_000, " bytes"),
    "arxiv.timeout": Bound(0, 120, " seconds", above_low=True),
    "arxiv.interval": Bound(0, 60, " seconds"),
    "arxiv.retries": Bound(0, 5),
    "arxiv.retry_delay": Bound(0, 60, " seconds"),
    "arxiv.wait": Bound(0, 86400, " seconds"),
}
"""The bounds of every number setting (the README lists them)."""

MULTILINE = {"newsletter.postal_address"}
"""Text settings that may hold line feeds (and no other control character): they
never go into a header or a path; the footer shows each line on its own."""

TEXT_LIMITS = {"newsletter.postal_address": 300}
"""The longest some text settings may be, in characters."""


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
        raise ConfigError(f"{source}: {key} must be {kind}, not {short_repr(value)}")
    if wanted is int:
        return checked_number(value, key, source)
    return checked_text(value, key, source) if wanted is str else value


Number = TypeVar("Number", int, float)


def checked_number(value: Number, key: str, where: str) -> Number:
    bound = BOUNDS.get(key)
    if bound and not bound.allows(value):
        raise ConfigError(
            f"{where}: {key}: {short_repr(value)} is out of range: it must be {bound}"
        )
    return value


def checked_text(value: str, key: str, where: str) -> str:
    limit = TEXT_LIMITS.get(key)
    if limit is not None and len(value) > limit:
        raise ConfigError(
            f"{where}: {key}: {short_repr(value)} is too long: at most {limit} characters"
        )
    # What is unsafe in a header would split one (title, From, List-Unsubscribe…) or a
    # path; only the postal address (in MULTILINE) may hold line feeds.
    control = header_unsafe(value.replace("\n", "") if key in MULTILINE else value)
    if control:
        raise ConfigError(
            f"{where}: {key}: {short_repr(value)} has a control character "
            f"(U+{ord(control):04X}); it would break a mail header or a path"
        )
    return value


def short_repr(value: Any) -> str:
    """A value as an error message quotes it: repr, cut to one readable length."""
    return shorten(repr(value), 60)
