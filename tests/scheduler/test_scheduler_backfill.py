"""Backfill, pure: the slots of a schedule in a range, and roots that wait for the run
before them (``after``) so the slots of one backfill run one at a time, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskflow.engine.decision.scheduler import SchedRun, Scheduler
from taskflow.engine.decision.schedules import slots_between
from taskflow.model import RunState, Schedule

S = RunState


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def root(run_id: str, after: str | None = None, **kw) -> SchedRun:
    return SchedRun(id=run_id, task="nightly", root_id=run_id, parent_id=None, is_group=False, after=after, **kw)


def started(sched: Scheduler, now: float = 0.0) -> list[str]:
    return [run.id for run in sched.take(now)[0]]


# ---------------------------------------------------------------------- slots in a range

def test_daily_slots_in_a_range_include_both_ends():
    daily = Schedule(cron="0 2 * * *")
    slots = slots_between(daily, utc(2026, 1, 1, 2), utc(2026, 1, 4, 2), 1000)
    assert slots == [utc(2026, 1, d, 2) for d in (1, 2, 3, 4)]
    assert slots_between(daily, utc(2026, 1, 1, 2, 1), utc(2026, 1, 4, 1, 59), 1000) == [
        utc(2026, 1, 2, 2), utc(2026, 1, 3, 2)]


def test_naive_range_ends_are_read_in_the_schedules_timezone():
    two_in_berlin = Schedule(cron="0 2 * * *", timezone="Europe/Berlin")
    slots = slots_between(two_in_berlin, datetime(2026, 1, 1), datetime(2026, 1, 2, 23, 59), 1000)
    assert slots == [utc(2026, 1, 1, 1), utc(2026, 1, 2, 1)]  # 02:00 CET is 01:00 UTC
    assert slots_between(two_in_berlin, datetime(2026, 1, 1, 2, 30), datetime(2026, 1, 2, 1), 1000) == []


def test_interval_and_one_off_slots():
    hourly = Schedule(every=3600)
    assert slots_between(hourly, utc(2026, 3, 1, 0, 30), utc(2026, 3, 1, 3), 1000) == [
        utc(2026, 3, 1, h) for h in (1, 2, 3)]
    once = Schedule(at=utc(2026, 6, 1, 3))
    assert slots_between(once, utc(2026, 6, 1), utc(2026, 6, 2), 1000) == [utc(2026, 6, 1, 3)]
    assert slots_between(once, utc(2026, 6, 2), utc(2026, 6, 3), 1000) == []


def test_a_range_with_too_many_slots_stops_one_past_the_limit():
    every_second = Schedule(every=1)
    slots = slots_between(every_second, utc(2025, 1, 1), utc(2026, 1, 1), 1000)
    assert len(slots) == 1001 and slots[0] == utc(2025, 1, 1) and slots[-1] == utc(2025, 1, 1) + timedelta(seconds=1000)
    assert slots_between(every_second, utc(2026, 1, 2), utc(2026, 1, 1), 1000) == []  # ends before it starts


# ---------------------------------------------------------------------- one after another

def test_a_root_waits_pending_for_the_run_before_it_whatever_that_run_ends_in():
    sched = Scheduler(8)
    sched.add([root("s1")], 0.0)
    sched.add([root("s2", after="s1")], 0.0)
    sched.add([root("s3", after="s2")], 0.0)
    assert started(sched) == ["s1"]
    assert sched.get("s2").state == S.PENDING and sched.get("s3").state == S.PENDING
    sched.finished("s1", S.FAILED, 1.0)  # a failed slot does not stop the next
    assert started(sched, 1.0) == ["s2"]
    assert sched.get("s3").state == S.PENDING
    sched.finished("s2", S.SUCCEEDED, 2.0)
    assert started(sched, 2.0) == ["s3"]


def test_cancelling_a_waiting_slot_lets_the_one_after_it_go_in_turn():
    sched = Scheduler(8)
    sched.add([root("s1")], 0.0)
    sched.add([root("s2", after="s1")], 0.0)
    sched.add([root("s3", after="s2")], 0.0)
    assert started(sched) == ["s1"]
    transitions, kill = sched.cancel("s2", 0.5)
    assert kill == [] and [(t.run_id, t.state) for t in transitions] == [("s2", S.CANCELLED)]
    assert sched.get("s3").state == S.PENDING  # still behind s1, through the cancelled s2
    sched.finished("s1", S.SUCCEEDED, 1.0)
    assert started(sched, 1.0) == ["s3"]


def test_a_root_after_a_run_already_ended_or_unknown_starts_at_once():
    sched = Scheduler(8)
    sched.add([root("s1")], 0.0)
    assert started(sched) == ["s1"]
    sched.finished("s1", S.SUCCEEDED, 1.0)
    sched.forget("s1")
    sched.add([root("s2", after="s1")], 1.0)
    sched.add([root("s3", after="gone")], 1.0)
    assert started(sched, 1.0) == ["s2", "s3"]


def test_restored_waiting_slots_keep_their_order():
    sched = Scheduler(8)
    # After a restart: s1 was running (restored running), s2 and s3 pending behind it.
    sched.add([root("s1", state=S.RUNNING)], 0.0)
    sched.add([root("s2", after="s1", seq=1)], 0.0)
    sched.add([root("s3", after="s2", seq=2)], 0.0)
    assert started(sched) == []
    sched.finished("s1", S.SUCCEEDED, 1.0)
    assert started(sched, 1.0) == ["s2"]
