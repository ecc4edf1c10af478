"""Crontab expressions mean what cron means, in the schedule's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from newsletter.cron import CronError, next_runs, parse

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
    [("@weekly", "Sun 2024-03-03 00:00"), ("@daily", "Fri 2024-03-01 00:00"),
     ("@monthly", "Fri 2024-03-01 00:00"), ("@hourly", "Fri 2024-03-01 00:00")],
)  # fmt: skip
def test_macros(macro: str, first: str) -> None:
    after = dt.datetime(2024, 3, 1, 4, 30, tzinfo=UTC)  # 23:30 on Feb 29 in New York
    assert runs(macro, after, 1)[0].startswith(first)


def test_across_the_march_change_the_wall_clock_time_is_kept() -> None:
    assert runs("0 8 * * mon", dt.datetime(2024, 3, 1, tzinfo=UTC), 2) == [
        "Mon 2024-03-04 08:00 -0500",
        "Mon 2024-03-11 08:00 -0400",
    ]


def test_a_time_skipped_in_march_runs_an_hour_later() -> None:
    assert runs("30 2 * * *", dt.datetime(2024, 3, 9, tzinfo=UTC), 3) == [
        "Sat 2024-03-09 02:30 -0500",
        "Sun 2024-03-10 03:30 -0400",  # 02:30 does not exist that night
        "Mon 2024-03-11 02:30 -0400",
    ]


def test_a_time_repeated_in_november_runs_once() -> None:
    assert runs("30 1 * * *", dt.datetime(2024, 11, 2, tzinfo=UTC), 3) == [
        "Sat 2024-11-02 01:30 -0400",
        "Sun 2024-11-03 01:30 -0400",  # and not again at 01:30 -0500
        "Mon 2024-11-04 01:30 -0500",
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
    ],
)
def test_a_wrong_expression_says_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(
        CronError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
    ):
        parse(expression)
