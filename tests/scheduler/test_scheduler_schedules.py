"""Next fire times (cron with time zones, intervals, one-off) and missed-fire policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from taskflow.engine.decision.schedules import due_fires, next_fire
from taskflow.model import Schedule


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_follows_the_schedules_time_zone_across_daylight_saving():
    nine_in_new_york = Schedule(cron="0 9 * * *", timezone="America/New_York")
    assert next_fire(nine_in_new_york, utc(2026, 1, 15)) == utc(2026, 1, 15, 14)  # EST, UTC-5
    assert next_fire(nine_in_new_york, utc(2026, 7, 15)) == utc(2026, 7, 15, 13)  # EDT, UTC-4
    assert next_fire(nine_in_new_york, utc(2026, 7, 15, 13)) == utc(2026, 7, 16, 13)  # strictly after
    every_quarter = Schedule(cron="*/15 * * * *")
    assert next_fire(every_quarter, utc(2026, 3, 1, 10, 7, 30)) == utc(2026, 3, 1, 10, 15)


def test_interval_is_aligned_and_at_fires_once():
    every = Schedule(every=600)
    assert next_fire(every, utc(2026, 1, 1, 0, 5)) == utc(2026, 1, 1, 0, 10)
    assert next_fire(every, utc(2026, 1, 1, 0, 10)) == utc(2026, 1, 1, 0, 20)
    once = Schedule(at=utc(2026, 12, 1, 3))
    assert next_fire(once, utc(2026, 11, 30)) == utc(2026, 12, 1, 3)
    assert next_fire(once, utc(2026, 12, 1, 3)) is None
    naive_local = Schedule(at=datetime(2026, 12, 1, 3), timezone="Europe/Berlin")
    assert next_fire(naive_local, utc(2026, 1, 1)) == utc(2026, 12, 1, 2)


@settings(max_examples=200)
@given(
    every=st.floats(1, 100_000),
    after=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)
def test_interval_next_fire_is_strictly_after_and_within_one_step(every, after):
    fire = next_fire(Schedule(every=every), after)
    assert after < fire <= after + timedelta(seconds=every) + timedelta(microseconds=2)


def test_fresh_start_plans_the_first_fire_after_now_and_fires_nothing():
    hourly = Schedule(cron="0 * * * *")
    assert due_fires(hourly, None, None, utc(2026, 1, 1, 10, 30)) == ([], utc(2026, 1, 1, 11))


def test_on_time_fire_is_fired_under_every_policy():
    for policy in ("skip", "once", "all"):
        hourly = Schedule(cron="0 * * * *", missed=policy)
        fires, planned = due_fires(hourly, utc(2026, 1, 1, 10), utc(2026, 1, 1, 11), utc(2026, 1, 1, 11, 0, 2))
        assert fires == [utc(2026, 1, 1, 11)] and planned == utc(2026, 1, 1, 12), policy


def test_missed_fire_policies_after_downtime():
    planned = utc(2026, 1, 1, 11)
    now = utc(2026, 1, 1, 15, 30)  # down from 10:30 to 15:30: 11, 12, 13, 14, 15 missed
    skip = Schedule(cron="0 * * * *", missed="skip")
    assert due_fires(skip, None, planned, now) == ([], utc(2026, 1, 1, 16))
    once = Schedule(cron="0 * * * *", missed="once")
    assert due_fires(once, None, planned, now) == ([utc(2026, 1, 1, 15)], utc(2026, 1, 1, 16))
    everything = Schedule(cron="0 * * * *", missed="all", max_missed=10)
    fires, nxt = due_fires(everything, None, planned, now)
    assert fires == [utc(2026, 1, 1, h) for h in (11, 12, 13, 14, 15)] and nxt == utc(2026, 1, 1, 16)
    capped = Schedule(cron="0 * * * *", missed="all", max_missed=2)
    assert due_fires(capped, None, planned, now)[0] == [utc(2026, 1, 1, 14), utc(2026, 1, 1, 15)]


def test_long_downtime_on_a_busy_schedule_is_cheap_and_capped():
    every_minute = Schedule(cron="* * * * *", missed="all", max_missed=3)
    fires, nxt = due_fires(every_minute, None, utc(2025, 1, 1), utc(2026, 1, 1, 0, 0, 30))
    assert fires == [utc(2025, 12, 31, 23, 58), utc(2025, 12, 31, 23, 59), utc(2026, 1, 1)]
    assert nxt == utc(2026, 1, 1, 0, 1)
    every_second = Schedule(every=1, missed="all", max_missed=4)
    fires, _ = due_fires(every_second, None, utc(2025, 1, 1), utc(2026, 1, 1, 0, 0, 0))
    assert fires == [utc(2025, 12, 31, 23, 59, 57) + timedelta(seconds=i) for i in range(4)]


def test_lost_plan_counts_fires_since_the_last_one_as_missed():
    daily = Schedule(cron="0 3 * * *", missed="once")
    fires, nxt = due_fires(daily, utc(2026, 1, 1, 3), None, utc(2026, 1, 4, 12))
    assert fires == [utc(2026, 1, 4, 3)] and nxt == utc(2026, 1, 5, 3)


def test_one_off_missed_while_down():
    at = Schedule(at=utc(2026, 6, 1, 3), missed="once")
    assert due_fires(at, None, utc(2026, 6, 1, 3), utc(2026, 6, 2)) == ([utc(2026, 6, 1, 3)], None)
    skipped = Schedule(at=utc(2026, 6, 1, 3), missed="skip")
    assert due_fires(skipped, None, utc(2026, 6, 1, 3), utc(2026, 6, 2)) == ([], None)
    assert due_fires(skipped, utc(2026, 6, 1, 3), None, utc(2026, 6, 2)) == ([], None)
