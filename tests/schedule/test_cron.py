"""Crontab expressions mean what cron means, in the schedule's time zone."""

from __future__ import annotations

import datetime as dt
import pickle
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from newsletter.core.crontab import CronError, parse
from newsletter.schedule.cron import next_runs, trigger

NEW_YORK = "America/New_York"
UTC = dt.UTC


def runs(expression: str, after: dt.datetime, count: int = 4, zone: str = NEW_YORK) -> list[str]:
    return [
        run.strftime("%a %Y-%m-%d %H:%M %z") for run in next_runs(expression, zone, count, after)
    ]


FRIDAY = dt.datetime(2024, 3, 1, tzinfo=UTC)  # a Friday, before any DST change


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("0 8 * * 1", ["Mon", "Mon", "Mon"]),  # 1 is Monday (APScheduler's own would say Tuesday)
        ("0 8 * * mon", ["Mon", "Mon", "Mon"]),
        ("0 8 * * 0", ["Sun", "Sun", "Sun"]),
        ("0 8 * * 7", ["Sun", "Sun", "Sun"]),  # 7 is Sunday too
        ("0 8 * * SUN", ["Sun", "Sun", "Sun"]),
        ("0 8 * * 1-5", ["Fri", "Mon", "Tue"]),
        ("0 8 * * mon-fri", ["Fri", "Mon", "Tue"]),
        ("0 8 * * */2", ["Sat", "Sun", "Tue"]),  # 0,2,4,6: Sun, Tue, Thu, Sat
        ("0 8 * * 1-5/2", ["Fri", "Mon", "Wed"]),  # Mon, Wed, Fri
        ("0 8 * * 6,0", ["Sat", "Sun", "Sat"]),
        ("0 8 * * 5-7", ["Fri", "Sat", "Sun"]),
    ],
)
def test_day_of_week_numbers_names_ranges_and_steps(expression: str, days: list[str]) -> None:
    assert [run[:3] for run in runs(expression, FRIDAY, 3)] == days


def test_a_restricted_day_of_month_and_day_of_week_are_ored() -> None:
    assert runs("0 8 1,15 * mon", FRIDAY, 5) == [
        "Fri 2024-03-01 08:00 -0500",  # the 1st
        "Mon 2024-03-04 08:00 -0500",  # a Monday
        "Mon 2024-03-11 08:00 -0400",
        "Fri 2024-03-15 08:00 -0400",  # the 15th
        "Mon 2024-03-18 08:00 -0400",
    ]


def test_a_day_of_month_starting_with_a_star_is_anded_with_the_day_of_week() -> None:
    # Debian's cron ORs the two only when neither field starts with `*`.
    assert [r[:14] for r in runs("0 8 */2 * mon", FRIDAY, 3)] == [
        "Mon 2024-03-11",
        "Mon 2024-03-25",
        "Mon 2024-04-01",
    ]


def test_only_day_of_month_restricted_means_just_those_days() -> None:
    assert [r[4:14] for r in runs("0 8 13 * *", FRIDAY, 2)] == ["2024-03-13", "2024-04-13"]


def test_minutes_hours_and_months() -> None:
    assert runs("*/20 9-10 * jan,mar *", FRIDAY, 3) == [
        "Fri 2024-03-01 09:00 -0500",
        "Fri 2024-03-01 09:20 -0500",
        "Fri 2024-03-01 09:40 -0500",
    ]


@pytest.mark.parametrize(
    ("macro", "first"),
    [
        ("@weekly", "Sun 2024-03-03 00:00"),
        ("@daily", "Fri 2024-03-01 00:00"),
        ("@midnight", "Fri 2024-03-01 00:00"),
        ("@monthly", "Fri 2024-03-01 00:00"),
        ("@hourly", "Fri 2024-03-01 00:00"),
        ("@yearly", "Wed 2025-01-01 00:00"),
        ("@annually", "Wed 2025-01-01 00:00"),
        (" @WEEKLY ", "Sun 2024-03-03 00:00"),
    ],
)
def test_macros(macro: str, first: str) -> None:
    after = dt.datetime(2024, 3, 1, 4, 30, tzinfo=UTC)  # 23:30 on Feb 29 in New York
    assert runs(macro, after, 1)[0].startswith(first)


def test_across_the_march_change_the_wall_clock_time_is_kept() -> None:
    assert runs("0 8 * * mon", dt.datetime(2024, 3, 1, tzinfo=UTC), 2) == [
        "Mon 2024-03-04 08:00 -0500",
        "Mon 2024-03-11 08:00 -0400",
    ]


def test_a_time_skipped_in_march_runs_when_the_clocks_have_jumped() -> None:
    assert runs("30 2 * * *", dt.datetime(2024, 3, 9, tzinfo=UTC), 3) == [
        "Sat 2024-03-09 02:30 -0500",
        # 02:30 does not exist that night: at 02:00 the clocks jump to 03:00, and Debian's
        # cron runs the jobs of the skipped hour then, as cronsim does (not at 03:30).
        "Sun 2024-03-10 03:00 -0400",
        "Mon 2024-03-11 02:30 -0400",
    ]


def test_jobs_skipped_in_march_run_once_at_the_jump() -> None:
    assert runs("0,30 2,3 * * *", dt.datetime(2024, 3, 10, tzinfo=UTC), 3) == [
        "Sun 2024-03-10 03:00 -0400",  # 02:00, 02:30 and 03:00, once
        "Sun 2024-03-10 03:30 -0400",
        "Mon 2024-03-11 02:00 -0400",
    ]


def test_an_hourly_job_skips_the_hour_that_does_not_exist() -> None:
    assert runs("30 * * * *", dt.datetime(2024, 3, 10, 5, tzinfo=UTC), 3) == [
        "Sun 2024-03-10 00:30 -0500",
        "Sun 2024-03-10 01:30 -0500",
        "Sun 2024-03-10 03:30 -0400",
    ]


def test_a_time_repeated_in_november_runs_once() -> None:
    assert runs("30 1 * * *", dt.datetime(2024, 11, 2, tzinfo=UTC), 3) == [
        "Sat 2024-11-02 01:30 -0400",
        "Sun 2024-11-03 01:30 -0400",  # and not again at 01:30 -0500
        "Mon 2024-11-04 01:30 -0500",
    ]


def test_a_time_repeated_in_november_is_not_offered_again_from_inside_the_hour() -> None:
    # 01:10 EST, 40 minutes after the 01:30 EDT run: cronsim alone would offer that 01:30.
    assert runs("30 1 * * *", dt.datetime(2024, 11, 3, 6, 10, tzinfo=UTC), 1) == [
        "Mon 2024-11-04 01:30 -0500"
    ]


def test_an_hourly_job_runs_in_both_hours_when_clocks_go_back() -> None:
    # A job with `*` in its hour runs by the hours that pass, as in Debian's cron.
    assert runs("30 * * * *", dt.datetime(2024, 11, 3, 4, tzinfo=UTC), 4) == [
        "Sun 2024-11-03 00:30 -0400",
        "Sun 2024-11-03 01:30 -0400",
        "Sun 2024-11-03 01:30 -0500",
        "Sun 2024-11-03 02:30 -0500",
    ]


def test_across_the_november_change_the_wall_clock_time_is_kept() -> None:
    assert runs("0 8 * * mon", dt.datetime(2024, 11, 1, tzinfo=UTC), 2) == [
        "Mon 2024-11-04 08:00 -0500",
        "Mon 2024-11-11 08:00 -0500",
    ]
    assert runs("0 8 * * sun", dt.datetime(2024, 11, 1, tzinfo=UTC), 1) == [
        "Sun 2024-11-03 08:00 -0500"
    ]


def test_the_default_schedule_in_shanghai() -> None:
    after = dt.datetime(2026, 11, 25, tzinfo=UTC)
    assert runs("0 8 * * mon", after, 2, "Asia/Shanghai") == [
        "Mon 2026-11-30 08:00 +0800",
        "Mon 2026-12-07 08:00 +0800",
    ]
    assert next_runs("0 8 * * mon", "Asia/Shanghai", 1, after)[0].tzinfo == ZoneInfo(
        "Asia/Shanghai"
    )


def _due(fires: Any, first: dt.datetime, now: dt.datetime) -> list[str]:
    """The times APScheduler 3 runs for a job whose next run was `first` (coalesce off):
    it asks for the next time after each one until the answer is in the future."""
    due: list[str] = []
    fire = first
    while (
        fire.astimezone(UTC) <= now.astimezone(UTC) and len(due) < 10
    ):  # bounded: a trigger that repeats would loop
        due.append(fire.strftime("%a %Y-%m-%d %H:%M %z"))
        fire = fires.get_next_fire_time(fire, now)
    return due


def test_the_trigger_runs_a_time_repeated_in_november_once() -> None:
    fires = trigger("30 1 * * *", NEW_YORK)
    first = fires.get_next_fire_time(None, dt.datetime(2024, 11, 2, 12, tzinfo=UTC))
    after_the_night = dt.datetime(2024, 11, 3, 8, tzinfo=UTC)  # 03:00 EST
    assert _due(fires, first, after_the_night) == ["Sun 2024-11-03 01:30 -0400"]


@pytest.mark.parametrize("expression", ["30 1 * * *", "30 * * * *", "*/20 1-2 * * *", "@hourly"])
@pytest.mark.parametrize("night", [dt.datetime(2024, 11, 3, tzinfo=UTC), FRIDAY + dt.timedelta(9)])
def test_the_next_time_after_the_last_fire_time_always_moves_forward(
    expression: str, night: dt.datetime
) -> None:
    fires = trigger(expression, NEW_YORK)
    fire = fires.get_next_fire_time(None, night)
    for _ in range(60):
        # `now` an hour before the last fire time too: a clock stepped back. Compared in
        # UTC, as APScheduler does: in one zone, 01:00 EST == 01:00 EDT (fold is ignored).
        for now in (fire, fire + dt.timedelta(minutes=1), fire - dt.timedelta(hours=1)):
            assert fires.get_next_fire_time(fire, now).astimezone(UTC) > fire.astimezone(UTC)
        fire = fires.get_next_fire_time(fire, fire)


def test_the_trigger_agrees_with_next_runs_and_keeps_the_zone() -> None:
    fires = trigger("@weekly", "Asia/Shanghai")
    assert fires.zone == ZoneInfo("Asia/Shanghai")  # the scheduler's time zone
    after = dt.datetime(2026, 11, 25, tzinfo=UTC)
    fire = fires.get_next_fire_time(None, after)
    assert [fire, fires.get_next_fire_time(fire, fire)] == next_runs(
        "@weekly", "Asia/Shanghai", 2, after
    )
    assert fire.tzinfo == ZoneInfo("Asia/Shanghai")


def test_the_trigger_includes_now_and_pickles() -> None:
    from apscheduler.triggers.base import BaseTrigger

    fires = pickle.loads(pickle.dumps(trigger("0 8 * * mon", NEW_YORK)))
    assert isinstance(fires, BaseTrigger)
    monday_8 = dt.datetime(2024, 3, 4, 13, tzinfo=UTC)
    assert fires.get_next_fire_time(None, monday_8) == monday_8
    assert str(fires) == "cron['0 8 * * mon', America/New_York]"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 8 * *", "has 4 fields; a crontab schedule has 5"),
        ("0 8 * * * *", "has 6 fields"),
        ("61 * * * *", "'61' is not a minute (0-59)"),
        ("0 24 * * *", "'24' is not a hour (0-23)"),
        ("0 8 0 * *", "'0' is not a day (1-31)"),
        ("0 8 * 13 *", "'13' is not a month (1-12 or a name)"),
        ("0 8 * * 8", "'8' is not a day-of-week (0-7 or a name)"),
        ("0 8 * * funday", "'funday' is not a day-of-week"),
        ("0 8 * * 5-1", "'5-1' is not a valid range"),
        ("0 8 * * */0", "'*/0' is not a valid range"),
        ("0 8 * * mon,", "is not a valid day-of-week field"),
        ("0 8 L * *", "'L' is not a day (1-31)"),  # cronsim's last day, not Debian cron's
        ("0 8 * * mon#2", "'mon#2' is not a valid day-of-week field"),
        ("0 8 * * 5L", "'5L' is not a valid day-of-week field"),
        ("0 0 30 2 *", "'0 0 30 2 *' never fires: its months have no such day"),
    ],
)
def test_a_wrong_expression_says_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(
        CronError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        parse(expression)
