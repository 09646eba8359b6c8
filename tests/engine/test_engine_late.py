"""``expect``: late runs and late tasks with a real engine, store and processes.

The ``by`` check is driven through ``LateWatch``'s clock, set to a time of day ahead of the
real one (the watch takes its clock as a parameter: nothing of ours is replaced).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from taskflow.daemon.late import LateFinding, LateWatch, next_time_of_day
from taskflow.model import RunState, Trigger


async def _watch(harness, clock=time.time) -> tuple[LateWatch, list[LateFinding], asyncio.Task[None]]:
    found: list[LateFinding] = []
    watch = LateWatch(harness.engine, harness.engine.store, [found.append], clock=clock)
    harness.engine.bus.subscribe(watch)
    return watch, found, asyncio.create_task(watch.run())


async def test_a_run_past_its_expected_duration_is_marked_late_and_not_killed(make_engine) -> None:
    harness = await make_engine("""
        [tasks.slow]
        command = "sleep 1.5"
        expect = { duration = "0.5s" }
        [tasks.quick]
        command = "true"
        expect = { duration = "5s" }
    """)
    _, found, task = await _watch(harness)
    try:
        slow = await harness.engine.trigger("slow", trigger=Trigger.MANUAL, requested_by="t")
        quick = await harness.engine.trigger("quick", trigger=Trigger.MANUAL, requested_by="t")
        done = await harness.wait(slow.id)
        assert done.run.state == RunState.SUCCEEDED  # late is not a failure
        assert done.run.late_at is not None and done.run.started_at is not None
        assert 0.4 < (done.run.late_at - done.run.started_at).total_seconds() < 1.4
        assert (await harness.wait(quick.id)).run.late_at is None
        assert [(f.task, f.why, f.expected, f.run.id if f.run else None) for f in found] == [
            ("slow", "duration", "0.5s", slow.id)]
    finally:
        task.cancel()


async def test_a_task_without_a_success_by_its_time_of_day_is_late(make_engine) -> None:
    harness = await make_engine("""
        [tasks.report]
        command = "true"
        expect = { by = "03:30" }
        [tasks.backup]
        command = "sleep 5"
        expect = { by = "03:30", timezone = "Europe/Paris" }
    """)
    report = await harness.engine.trigger("report", trigger=Trigger.MANUAL, requested_by="t")
    await harness.wait(report.id)  # report succeeded just now: not late at the next 03:30
    backup = await harness.engine.trigger("backup", trigger=Trigger.MANUAL, requested_by="t")
    # The watch's clock is a second before backup's next 03:30 Paris time.
    deadline = next_time_of_day("03:30", "Europe/Paris", time.time())
    offset = deadline - 1.0 - time.time()
    _, found, task = await _watch(harness, clock=lambda: time.time() + offset)
    try:
        for _ in range(60):
            if found:
                break
            await asyncio.sleep(0.05)
        assert [(f.task, f.why, f.expected) for f in found] == [("backup", "by", "03:30 Europe/Paris")]
        assert found[0].run is not None and found[0].run.id == backup.id
        assert harness.engine.active[backup.id].run.late_at is not None
    finally:
        task.cancel()
        await harness.engine.cancel(backup.id)


def test_next_time_of_day_is_the_next_one_in_the_zone() -> None:
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC).timestamp()  # the day before Paris's DST change
    first = next_time_of_day("03:30", "Europe/Paris", now)
    assert datetime.fromtimestamp(first, UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    same_day = next_time_of_day("03:30", "UTC", first)
    assert same_day == datetime(2026, 3, 29, 3, 30, tzinfo=UTC).timestamp()
    assert next_time_of_day("03:30", "UTC", same_day) == datetime(2026, 3, 30, 3, 30, tzinfo=UTC).timestamp()
