"""Crontab expressions with cron's meaning, as APScheduler 3 triggers.

APScheduler's `CronTrigger.from_crontab` numbers the days of the week from Monday = 0,
so `0 8 * * 1` would fire on Tuesdays, and it ANDs a restricted day-of-month with a
restricted day-of-week where cron ORs them. Here the expression means what it means
in a crontab (`man 5 crontab`): day-of-week 0 and 7 are Sunday, 1 is Monday; names,
ranges, lists and steps (`1-5`, `mon-fri`, `*/2`) work; `1,15 * mon` runs on the 1st,
the 15th and every Monday; `@daily`, `@weekly` and the like are understood.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's numbering: 0..6
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# field name, lowest, highest (day-of-week 7 is Sunday too)
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12),
          ("day_of_week", 0, 7))  # fmt: skip


class CronError(ValueError):
    """An expression that is not a crontab schedule."""


def parse(expression: str) -> list[set[int] | None]:
    """The five fields as sets of allowed values (None: `*`, any value)."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{expression!r} has {len(parts)} fields; a crontab schedule has 5: "
            "minute hour day-of-month month day-of-week (e.g. '0 8 * * mon')"
        )
    values = [
        _field(part, name, low, high) for part, (name, low, high) in zip(parts, FIELDS, strict=True)
    ]
    weekdays = values[4]
    if weekdays is not None:
        values[4] = {day % 7 for day in weekdays}  # 7 is Sunday, as 0 is
    return values


def trigger(expression: str, timezone: str) -> Any:
    """An APScheduler trigger that fires when cron would fire, in `timezone`."""
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    minute, hour, day, month, weekday = parse(expression)
    zone = ZoneInfo(timezone)
    common = {"minute": _spec(minute), "hour": _spec(hour), "month": _spec(month),
              "timezone": zone}  # fmt: skip
    if day is not None and weekday is not None:  # cron ORs a restricted day and weekday
        inner: Any = OrTrigger(
            [
                CronTrigger(day=_spec(day), **common),
                CronTrigger(day_of_week=_weekday_spec(weekday), **common),
            ]
        )
    else:
        inner = CronTrigger(day=_spec(day), day_of_week=_weekday_spec(weekday), **common)
    return _OncePerWallClockTime(inner, zone)


def _once_per_wall_clock_time() -> type:
    """A trigger wrapper, built on first use so that importing this module stays cheap."""
    from apscheduler.triggers.base import BaseTrigger

    class OncePerWallClockTime(BaseTrigger):  # type: ignore[misc]
        """When clocks go back, 01:30 happens twice; cron runs the job once, and so
        do we (APScheduler 3.11 would also get stuck on the second 01:30). A time that
        does not exist when clocks go forward runs an hour later."""

        def __init__(self, inner: Any, zone: ZoneInfo) -> None:
            self.inner, self.zone = inner, zone

        def get_next_fire_time(
            self, previous: dt.datetime | None, now: dt.datetime
        ) -> dt.datetime | None:
            fire: dt.datetime | None = self.inner.get_next_fire_time(previous, now)
            while fire is not None and fire.fold == 1 and self._repeated(fire):
                after = fire.astimezone(dt.UTC)
                while self._repeated(after):  # to the end of the repeated hour
                    after += dt.timedelta(minutes=1)
                fire = self.inner.get_next_fire_time(None, after)  # "previous" would win
            if fire is None:
                return None
            return fire.astimezone(dt.UTC).astimezone(self.zone)

        def _repeated(self, moment: dt.datetime) -> bool:
            wall = moment.astimezone(self.zone).replace(tzinfo=None)
            first, second = (wall.replace(tzinfo=self.zone, fold=f) for f in (0, 1))
            return first.utcoffset() != second.utcoffset()

        def __str__(self) -> str:
            return str(self.inner)

    return OncePerWallClockTime


def _OncePerWallClockTime(inner: Any, zone: ZoneInfo) -> Any:
    return _once_per_wall_clock_time()(inner, zone)


def next_runs(expression: str, timezone: str, count: int, after: dt.datetime) -> list[dt.datetime]:
    """The next `count` times the schedule fires after `after`."""
    fires = trigger(expression, timezone)
    runs: list[dt.datetime] = []
    previous = None
    now = after
    while len(runs) < count:
        fire = fires.get_next_fire_time(previous, now)
        if fire is None:
            break
        runs.append(fire)
        previous, now = fire, fire + dt.timedelta(microseconds=1)
    return runs


def _field(text: str, name: str, low: int, high: int) -> set[int] | None:
    if text == "*":
        return None
    allowed: set[int] = set()
    for item in text.lower().split(","):
        match = re.fullmatch(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?", item)
        if not match:
            raise CronError(f"{text!r} is not a valid {name.replace('_', '-')} field")
        start_text, end_text, step_text = match.groups()
        if start_text == "*":
            if end_text:
                raise CronError(f"{text!r} is not a valid {name.replace('_', '-')} field")
            start, end = low, high if name != "day_of_week" else 6
        else:
            start = _value(start_text, name, low, high)
            end = _value(end_text, name, low, high) if end_text else start
            if step_text and not end_text:
                end = high if name != "day_of_week" else 6
        step = int(step_text) if step_text else 1
        if step < 1 or end < start:
            raise CronError(f"{item!r} is not a valid range in the {name.replace('_', '-')} field")
        allowed.update(range(start, end + 1, step))
    return allowed


def _value(text: str, name: str, low: int, high: int) -> int:
    names = {"day_of_week": DAY_NAMES, "month": MONTH_NAMES}.get(name, ())
    if text in names:
        return names.index(text) + (1 if name == "month" else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        raise CronError(
            f"{text!r} is not a {name.replace('_', '-')} ({low}-{high}"
            + (" or a name)" if names else ")")
        )
    return int(text)


def _spec(values: set[int] | None) -> str:
    return "*" if values is None else ",".join(str(value) for value in sorted(values))


def _weekday_spec(values: set[int] | None) -> str:
    """Cron's day numbers (Sunday 0) as names, which APScheduler reads unambiguously."""
    return "*" if values is None else ",".join(DAY_NAMES[value] for value in sorted(values))
