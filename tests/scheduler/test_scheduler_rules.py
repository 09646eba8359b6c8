"""Example tests of the scheduler's rules: dependencies, run_if, groups, priorities, pools,
retries, cancel, restore — each a small tree played by hand."""

from __future__ import annotations

import time

import pytest

from taskflow.engine.decision.scheduler import OPEN_BREAKER_ERROR, SchedRun, Scheduler
from taskflow.model import RunState, SkipReason

S = RunState


def leaf(run_id: str, parent: str | None = "g", root: str = "g", **kw) -> SchedRun:
    return SchedRun(id=run_id, task=f"{root}/{run_id}", root_id=root, parent_id=parent, is_group=False, **kw)


def group(run_id: str, parent: str | None = None, root: str = "g", **kw) -> SchedRun:
    return SchedRun(id=run_id, task=run_id, root_id=root, parent_id=parent, is_group=True, **kw)


def states(sched: Scheduler, *ids: str) -> dict[str, RunState]:
    return {i: sched.get(i).state for i in ids}


def started_ids(sched: Scheduler, now: float = 0.0) -> list[str]:
    return [run.id for run in sched.take(now)[0]]


def test_failed_required_dependency_skips_but_optional_one_only_orders():
    sched = Scheduler(4)
    sched.add(
        [
            group("g"),
            leaf("a", seq=1),
            leaf("b", seq=2, deps=(("a", True),)),
            leaf("c", seq=3, deps=(("a", False),)),
            leaf("d", seq=4),
        ],
        0.0,
    )
    started, transitions = sched.take(0.0)
    assert [r.id for r in started] == ["a", "d"]
    assert ("g", S.RUNNING) in [(t.run_id, t.state) for t in transitions]
    out = sched.finished("a", S.FAILED, 1.0)
    skipped = [t for t in out if t.run_id == "b"]
    assert skipped and skipped[0].state == S.SKIPPED and skipped[0].skip_reason == SkipReason.UPSTREAM
    assert started_ids(sched, 1.0) == ["c"]
    sched.finished("c", S.SUCCEEDED, 2.0)
    assert not sched.is_tree_done("g")
    out = sched.finished("d", S.SUCCEEDED, 2.0)
    assert [(t.run_id, t.state) for t in out] == [("g", S.FAILED)]
    assert states(sched, "a", "b", "c", "d", "g") == {
        "a": S.FAILED, "b": S.SKIPPED, "c": S.SUCCEEDED, "d": S.SUCCEEDED, "g": S.FAILED
    }
    assert sched.is_tree_done("g")


def test_rollback_runs_only_when_something_failed_and_the_deploy_still_fails():
    def tree(root: str) -> list[SchedRun]:
        return [
            group(root, root=root),
            leaf(f"{root}-deploy", parent=root, root=root, seq=1),
            leaf(f"{root}-rollback", parent=root, root=root, seq=2, deps=((f"{root}-deploy", True),), run_if="any_failed"),
        ]

    sched = Scheduler(4)
    sched.add(tree("ok") + [], 0.0)
    assert started_ids(sched) == ["ok-deploy"]
    out = sched.finished("ok-deploy", S.SUCCEEDED, 1.0)
    assert (("ok-rollback", S.SKIPPED, SkipReason.CONDITION)) in [(t.run_id, t.state, t.skip_reason) for t in out]
    assert sched.get("ok").state == S.SUCCEEDED  # skipped by condition does not fail the group

    sched.add(tree("bad"), 2.0)
    assert started_ids(sched, 2.0) == ["bad-deploy"]
    sched.finished("bad-deploy", S.FAILED, 3.0)
    assert started_ids(sched, 3.0) == ["bad-rollback"]  # not skipped upstream
    sched.finished("bad-rollback", S.SUCCEEDED, 4.0)
    assert sched.get("bad").state == S.FAILED  # a deploy whose rollback ran is a failed deploy


def test_group_children_wait_for_the_group_and_a_skipped_group_skips_its_subtree():
    sched = Scheduler(4)
    sched.add(
        [
            group("g"),
            leaf("first", seq=1),
            group("inner", parent="g", seq=2, deps=(("first", True),)),
            leaf("x", parent="inner", seq=3),
            group("deep", parent="inner", seq=4),
            leaf("y", parent="deep", seq=5),
        ],
        0.0,
    )
    assert started_ids(sched) == ["first"]  # x waits for its group's dependency
    out = sched.finished("first", S.FAILED, 1.0)
    by_id = {t.run_id: t for t in out}
    for run_id in ("inner", "x", "deep", "y"):
        assert by_id[run_id].state == S.SKIPPED and by_id[run_id].skip_reason == SkipReason.UPSTREAM
    assert by_id["g"].state == S.FAILED
    assert sched.counts() == {S.FAILED: 2, S.SKIPPED: 4}


def test_empty_group_succeeds_at_once_and_group_is_pending_until_a_descendant_starts():
    sched = Scheduler(1, {"db": 1})
    out = sched.add([group("e", root="e")], 0.0)
    assert [(t.run_id, t.state) for t in out] == [("e", S.SUCCEEDED)]
    sched.add([group("g"), leaf("a", seq=1)], 0.0)
    assert sched.get("g").state == S.PENDING
    sched.take(0.0)
    assert sched.get("g").state == S.RUNNING


def test_priorities_then_fifo_and_pool_limits():
    sched = Scheduler(2, {"db": 1})
    runs = [group("g")]
    runs += [leaf(f"low{i}", priority=3, seq=10 + i) for i in range(2)]
    runs += [leaf(f"urgent{i}", priority=0, seq=20 + i, pool="db") for i in range(3)]
    runs += [leaf("normal", priority=2, seq=5)]
    sched.add(runs, 0.0)
    # one db slot: urgent0 takes it; the next best outside db is "normal"
    assert started_ids(sched) == ["urgent0", "normal"]
    sched.finished("urgent0", S.SUCCEEDED, 1.0)
    assert started_ids(sched, 1.0) == ["urgent1"]
    sched.max_workers = 5  # adaptive concurrency raises the limit at runtime
    assert started_ids(sched, 2.0) == ["low0", "low1"]  # db is still full
    sched.pools = {"db": 2}  # config reload
    assert started_ids(sched, 3.0) == ["urgent2"]
    assert sched.running == 5 and sched.queued == 0


def test_unknown_pool_is_bound_only_by_max_workers():
    sched = Scheduler(3, {"db": 1})
    sched.add([group("g")] + [leaf(f"r{i}", seq=i, pool="nowhere") for i in range(5)], 0.0)
    assert len(started_ids(sched)) == 3


def test_retry_waits_for_its_deadline_and_keeps_its_place():
    sched = Scheduler(1)
    sched.add([group("g"), leaf("a", seq=1), leaf("b", seq=2)], 0.0)
    assert started_ids(sched) == ["a"]
    assert sched.retry_later("a", 10.0) == []
    assert sched.get("a").state == S.RETRYING and sched.running == 0
    assert started_ids(sched, 1.0) == ["b"]
    assert sched.next_wakeup(1.0) == 10.0
    sched.finished("b", S.SUCCEEDED, 2.0)
    assert started_ids(sched, 5.0) == []
    started, transitions = sched.take(10.0)
    assert [r.id for r in started] == ["a"] and transitions == []

    # a retried run goes back ahead of later arrivals of the same priority
    sched = Scheduler(1)
    sched.add([group("g"), leaf("a", seq=1), leaf("b", seq=2), leaf("c", seq=3)], 0.0)
    sched.take(0.0)
    sched.retry_later("a", 1.0)
    sched.take(0.5)  # b starts while a waits
    sched.finished("b", S.SUCCEEDED, 2.0)
    assert started_ids(sched, 2.0) == ["a"]


def test_cancel_cancels_waiting_runs_now_and_reports_running_ones_to_kill():
    sched = Scheduler(2)
    sched.add(
        [group("g"), leaf("a", seq=1), leaf("b", seq=2), leaf("c", seq=3, deps=(("a", True),)), leaf("d", seq=4)],
        0.0,
    )
    assert started_ids(sched) == ["a", "b"]
    sched.retry_later("b", 100.0)
    assert started_ids(sched) == ["d"]
    transitions, kill = sched.cancel("g", 1.0)
    assert sorted(kill) == ["a", "d"]
    assert {(t.run_id, t.state) for t in transitions} == {("b", S.CANCELLED), ("c", S.CANCELLED)}
    assert sched.get("g").state == S.RUNNING
    sched.finished("a", S.CANCELLED, 2.0)
    out = sched.finished("d", S.SUCCEEDED, 2.0)  # finished before the kill landed
    assert [(t.run_id, t.state) for t in out] == [("g", S.CANCELLED)]
    assert sched.running == 0 and sched.next_wakeup(3.0) is None
    sched.forget("g")
    assert sched.get("g") is None and sched.counts() == {}


def test_cancelling_one_node_lets_its_rollback_run_and_fails_the_tree():
    sched = Scheduler(2)
    sched.add(
        [group("g"), leaf("a", seq=1), leaf("r", seq=2, deps=(("a", True),), run_if="any_failed")], 0.0
    )
    transitions, kill = sched.cancel("a", 0.0)
    assert kill == [] and ("a", S.CANCELLED) in [(t.run_id, t.state) for t in transitions]
    assert started_ids(sched) == ["r"]
    assert sched.finished("r", S.SUCCEEDED, 1.0)[0].state == S.FAILED


def test_restored_runs_count_against_limits_and_resume():
    sched = Scheduler(2, {"db": 1})
    out = sched.add(
        [
            group("g", state=S.RUNNING),
            leaf("done", seq=1, state=S.SUCCEEDED),
            leaf("busy", seq=2, pool="db", state=S.RUNNING),
            leaf("next", seq=3, pool="db", state=S.QUEUED),
            leaf("after", seq=4, deps=(("done", True),)),
            leaf("wait", seq=5, state=S.RETRYING, not_before=50.0),
        ],
        0.0,
    )
    assert [(t.run_id, t.state) for t in out] == [("after", S.QUEUED)]
    assert sched.running == 1
    assert started_ids(sched, 1.0) == ["after"]  # db is held by the adopted run
    sched.finished("busy", S.SUCCEEDED, 2.0)
    assert started_ids(sched, 2.0) == ["next"]
    assert sched.next_wakeup(2.0) == 50.0


def test_restore_after_a_failure_while_down_skips_dependents():
    sched = Scheduler(2)
    out = sched.add(
        [group("g", state=S.RUNNING), leaf("a", seq=1, state=S.INTERRUPTED), leaf("b", seq=2, deps=(("a", True),))],
        0.0,
    )
    assert [(t.run_id, t.state) for t in out] == [("b", S.SKIPPED), ("g", S.FAILED)]


def test_bad_trees_are_refused_with_a_reason():
    sched = Scheduler(2)
    with pytest.raises(ValueError, match="cycle"):
        sched.add([group("g"), leaf("a", deps=(("b", True),)), leaf("b", deps=(("a", True),))], 0.0)
    with pytest.raises(ValueError, match="not its sibling"):
        sched.add([group("h", root="h"), leaf("a2", parent="h", root="h", deps=(("zz", True),))], 0.0)
    with pytest.raises(ValueError, match="already scheduled"):
        sched.add([group("k", root="k"), group("k", root="k")], 0.0)
    assert sched.counts() == {}


def test_on_open_fail_uses_the_documented_error_type():
    assert OPEN_BREAKER_ERROR.value == "spawn"


def test_ten_thousand_leaves_flow_through_quickly():
    sched = Scheduler(16, {"db": 4})
    runs = [group("g")] + [
        leaf(f"r{i}", seq=i, priority=i % 4, pool="db" if i % 3 == 0 else None) for i in range(10_000)
    ]
    began = time.perf_counter()
    sched.add(runs, 0.0)
    done = 0
    now = 0.0
    while done < 10_000:
        started, _ = sched.take(now)
        assert started or sched.running
        for run in started:
            sched.finished(run.id, S.SUCCEEDED, now)
            done += 1
        now += 0.001
    elapsed = time.perf_counter() - began
    assert sched.get("g").state == S.SUCCEEDED
    assert elapsed < 2.0, f"10,000 runs took {elapsed:.2f}s"


def test_a_run_being_cancelled_is_not_retried():
    sched = Scheduler(2)
    sched.add([group("g"), leaf("a", seq=1)], 0.0)
    sched.take(0.0)
    assert sched.cancel("g", 1.0) == ([], ["a"])
    out = sched.retry_later("a", 5.0)  # its attempt failed as the kill landed
    assert [(t.run_id, t.state) for t in out] == [("a", S.CANCELLED), ("g", S.CANCELLED)]
    assert sched.next_wakeup(2.0) is None and sched.is_tree_done("g")


def test_restored_group_waiting_on_a_dependency_stays_closed_despite_a_cancelled_child():
    # Found by the property test: a child cancelled on its own while its group still waited
    # for a sibling dependency made the restored group look started, so its other child ran
    # before the dependency ended.
    sched = Scheduler(4)
    sched.add(
        [
            group("g", state=S.RUNNING),
            leaf("first", seq=1, state=S.RUNNING),
            group("later", parent="g", seq=2, deps=(("first", False),)),
            leaf("cancelled", parent="later", seq=3, state=S.CANCELLED),
            leaf("waiting", parent="later", seq=4),
        ],
        0.0,
    )
    assert started_ids(sched) == []
    assert states(sched, "later", "waiting") == {"later": S.PENDING, "waiting": S.PENDING}
    sched.finished("first", S.SUCCEEDED, 1.0)
    assert started_ids(sched, 1.0) == ["waiting"]
