"""Crontab expressions with cron's meaning, as APScheduler 3 triggers.

`cronsim` (Healthchecks.io's cron, which follows Debian's) says when an expression fires:
day-of-week 0 and 7 are Sunday, a restricted day-of-month and day-of-week are ORed
(`1,15 * mon`: the 1st, the 15th and every Monday) unless either starts with `*`. On
the nights the clocks change, a job at a fixed time runs as Debian's cron runs it: a
time skipped in spring runs when the clocks have jumped (02:30 at 03:00), a time
repeated in autumn runs once. The syntax (messages that name the wrong field, the
`@weekly`-style macros) is `core/crontab.py`; this module adds the fire times and
the trigger.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from newsletter.core.crontab import parse

MICROSECOND = dt.timedelta(microseconds=1)


def next_runs(expression: str, timezone: str, count: int, after: dt.datetime) -> list[dt.datetime]:
    """The next `count` times the schedule fires, from `after` on."""
    fires = _fires(parse(expression), ZoneInfo(timezone), after.astimezone(dt.UTC) - MICROSECOND)
    return list(itertools.islice(fires, count))


def _fires(expression: str, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    """The fire times strictly after `after`, in `zone`, in order, each once."""
    after = after.astimezone(dt.UTC)
    for fire in CronSim(expression, after.astimezone(zone)):
        # cronsim counts a fixed-time job in wall-clock time, so from 01:10 in the hour
        # repeated in autumn it offers the 01:30 that already ran. Compare in UTC: two
        # datetimes in one zone compare by wall clock, fold ignored.
        moment = fire.astimezone(dt.UTC)
        if moment > after:
            yield moment.astimezone(zone)


def trigger(expression: str, timezone: str) -> Any:
    """An APScheduler 3 trigger that fires when cron would fire, in `timezone`."""
    return _trigger_class()(parse(expression), ZoneInfo(timezone))


@functools.cache
def _trigger_class() -> type:
    """Built on first use: importing APScheduler takes some 50 ms, which every command that
    reads the config (and so imports this module) would pay."""
    from apscheduler.triggers.base import BaseTrigger

    class CrontabTrigger(BaseTrigger):  # type: ignore[misc]
        """Each time once: APScheduler asks again with the last fire time until the
        answer is in the future, so the answer is always after that time."""

        def __init__(self, expression: str, zone: ZoneInfo) -> None:
            self.expression, self.zone = expression, zone

        def get_next_fire_time(
            self, previous_fire_time: dt.datetime | None, now: dt.datetime
        ) -> dt.datetime | None:
            after = previous_fire_time or now.astimezone(dt.UTC) - MICROSECOND
            return next(_fires(self.expression, self.zone, after), None)

        def __reduce__(self) -> tuple[Any, ...]:  # pickled by the factory: this class is local
            return trigger, (self.expression, self.zone.key)

        def __str__(self) -> str:
            return f"cron[{self.expression!r}, {self.zone.key}]"

    return CrontabTrigger
