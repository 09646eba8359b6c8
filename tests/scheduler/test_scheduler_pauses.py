"""Pauses in the pure scheduler: held runs stay queued, keep their place, and start on resume."""

from __future__ import annotations

from taskflow.engine.decision.scheduler import Pauses, SchedRun, Scheduler
from taskflow.model import RunState


def _leaf(run_id: str, task: str, *, pool: str | None = None, seq: int = 0) -> SchedRun:
    return SchedRun(id=run_id, task=task, root_id=run_id, parent_id=None, is_group=False, pool=pool, seq=seq)


def _started(sched: Scheduler, now: float = 0.0) -> list[str]:
    return [run.id for run in sched.take(now)[0]]


def test_paused_task_is_held_others_start_and_resume_releases_it_in_order():
    sched = Scheduler(max_workers=4)
    sched.set_pauses(Pauses(tasks=frozenset({"nightly"})))
    sched.add([_leaf("a", "nightly/backup", seq=1)], 0.0)
    sched.add([_leaf("b", "other", seq=2)], 0.0)
    sched.add([_leaf("c", "nightly", seq=3)], 0.0)
    assert _started(sched) == ["b"]
    assert sched.get("a").state is RunState.QUEUED and sched.get("c").state is RunState.QUEUED
    assert _started(sched) == []
    sched.set_pauses(Pauses())
    assert _started(sched) == ["a", "c"]


def test_paused_pool_and_pool_limit_zero_hold_only_their_lane():
    sched = Scheduler(max_workers=4, pools={"frozen": 0})
    sched.set_pauses(Pauses(pools=frozenset({"db"})))
    sched.add([_leaf("a", "migrate", pool="db")], 0.0)
    sched.add([_leaf("b", "iced", pool="frozen")], 0.0)
    sched.add([_leaf("c", "free")], 0.0)
    assert _started(sched) == ["c"]
    assert sched.pool_paused("db") and sched.pool_paused("frozen")
    sched.set_pauses(Pauses())
    assert _started(sched) == ["a"]
    sched.pools = {"frozen": 1}
    assert _started(sched) == ["b"]


def test_pause_all_holds_everything_and_running_work_is_untouched():
    sched = Scheduler(max_workers=4)
    sched.add([_leaf("a", "one")], 0.0)
    assert _started(sched) == ["a"]
    sched.set_pauses(Pauses(all=True))
    sched.add([_leaf("b", "two")], 0.0)
    assert _started(sched) == []
    assert sched.get("a").state is RunState.RUNNING
    sched.finished("a", RunState.SUCCEEDED, 1.0)
    assert _started(sched, 1.0) == []
    sched.set_pauses(Pauses())
    assert _started(sched, 1.0) == ["b"]


def test_a_held_run_that_was_cancelled_is_not_released():
    sched = Scheduler(max_workers=4)
    sched.set_pauses(Pauses(tasks=frozenset({"t"})))
    sched.add([_leaf("a", "t")], 0.0)
    assert _started(sched) == []
    sched.cancel("a", 0.0)
    sched.set_pauses(Pauses())
    assert _started(sched) == []
    assert sched.get("a").state is RunState.CANCELLED
