"""The one clock, and the one way a moment is written down.

`now` is what time it is (aware, UTC). The database and the run records keep a moment
as a `stamp`, `2024-07-04T17:59:21Z` (UTC to the second: it sorts as text, and it is
how arXiv writes times), read back by `parse`; `SQL_NOW` is the same stamp made by
SQLite, for a statement that stamps its row itself. `mail_date` is a message's
`Date:` header (RFC 5322, in local time). Functions that take `at` take it for tests.
"""

from __future__ import annotations

import datetime as dt
import email.utils

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SQL_NOW = f"strftime('{FORMAT}', 'now')"


def now() -> dt.datetime:
    """The time now, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def stamp(at: dt.datetime | None = None) -> str:
    """`at` (now by default) as the store writes it: `2024-07-04T17:59:21Z`."""
    return (now() if at is None else at).astimezone(dt.UTC).strftime(FORMAT)


def parse(text: str) -> dt.datetime:
    """A `stamp` read back, aware, in UTC; ValueError if `text` is not one."""
    return dt.datetime.strptime(text, FORMAT).replace(tzinfo=dt.UTC)


def mail_date(at: dt.datetime | None = None) -> str:
    """A `Date:` header value for `at` (now by default), in the local time zone."""
    return email.utils.format_datetime((now() if at is None else at).astimezone())
