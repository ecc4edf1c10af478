"""The one clock: a stamp written anywhere (by the code or by SQLite) reads back as the
moment it was, and a `Date:` header names the moment it was made for."""

from __future__ import annotations

import datetime as dt
import email.utils

from newsletter.core import clock
from newsletter.store import Store, runs
from newsletter.store import subscribers as rows

BEIJING = dt.timezone(dt.timedelta(hours=8))


def test_a_stamp_is_utc_to_the_second_and_reads_back() -> None:
    at = dt.datetime(2024, 7, 16, 8, 0, 5, 999_999, tzinfo=BEIJING)
    assert clock.stamp(at) == "2024-07-16T00:00:05Z"
    assert clock.parse(clock.stamp(at)) == at.replace(microsecond=0)
    assert clock.parse(clock.stamp(at)).tzinfo == dt.UTC


def test_now_is_aware_utc_and_stamps_sort_as_time_does() -> None:
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(0)
    earlier = now - dt.timedelta(seconds=1)
    assert clock.stamp(earlier) < clock.stamp(now) == clock.stamp(now)


def test_stamps_the_store_writes_itself_read_back() -> None:
    store = Store.open_in_memory()
    before = clock.now().replace(microsecond=0)
    with store.transaction() as db:
        rows.insert(db, "a@example.org", "", "en", "t" * 33)
        subscriber = rows.find(db, "a@example.org")
        assert subscriber is not None
        rows.set_unsubscribed(db, subscriber.id)  # changed_at = SQL_NOW
        runs.start(db, clock.stamp())
    after = clock.now()
    created, changed = store.db.execute("SELECT created_at, changed_at FROM subscribers").fetchone()
    started = runs.last_started(store.db)
    assert started is not None
    for text in (created, changed, started):
        assert before <= clock.parse(text) <= after, text


def test_a_date_header_names_the_moment() -> None:
    at = dt.datetime(2024, 7, 16, 8, 0, 5, tzinfo=BEIJING)
    assert email.utils.parsedate_to_datetime(clock.mail_date(at)) == at
    made = email.utils.parsedate_to_datetime(clock.mail_date())
    assert abs(made - clock.now()) < dt.timedelta(seconds=5)
