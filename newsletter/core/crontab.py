"""The syntax of a crontab line, checked with cron's meaning (`cronsim`, which
follows Debian's cron): five fields or an `@weekly`-style macro, with messages that
name the wrong field. Shared ground: the configuration checks a schedule with it,
and `schedule` turns it into a trigger.
"""

from __future__ import annotations

import datetime as dt
import re

from cronsim import CronSim, CronSimError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day", "1-31"),
    ("month", "1-12 or a name"),
    ("day-of-week", "0-7 or a name"),
)
ITEM = re.compile(r"(\*|\d+|[a-z]+)(-(?:\d+|[a-z]+))?(/\d+)?", re.IGNORECASE)


class CronError(ValueError):
    """An expression that is not a crontab schedule."""


def parse(expression: str) -> str:
    """The expression as five crontab fields, macros expanded; CronError if it is not one."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"{expression!r} has {len(fields)} fields; a crontab schedule has 5: "
            "minute hour day-of-month month day-of-week (e.g. '0 8 * * mon')"
        )
    for index, field in enumerate(fields):
        for item in field.split(","):
            _check(item, field, index)
    if not _accepted(fields):  # each field is valid, but cronsim knows `0 0 30 2 *` never fires
        raise CronError(f"{expression!r} never fires: its months have no such day")
    return " ".join(fields)


def _check(item: str, field: str, index: int) -> None:
    name, values = FIELDS[index]
    shape = ITEM.fullmatch(item)
    if shape is None:
        raise CronError(f"{field!r} is not a valid {name} field")
    alone = ["*"] * 5
    alone[index] = item
    # Names are months and days; cronsim's `L` and `LW` days are not Debian cron's.
    if (index < 3 and re.search("[a-z]", item, re.IGNORECASE)) or not _accepted(alone):
        if shape[2] or shape[3]:
            raise CronError(f"{item!r} is not a valid range in the {name} field")
        raise CronError(f"{item!r} is not a {name} ({values})")


def _accepted(fields: list[str]) -> bool:
    try:
        CronSim(" ".join(fields), dt.datetime(2000, 1, 1))
    except CronSimError:
        return False
    return True
