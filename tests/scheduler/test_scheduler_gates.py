"""Circuit breakers and rate limits, alone and behind the scheduler."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from taskflow.engine.decision.breakers import CircuitBreaker, ServiceBoard
from taskflow.engine.decision.ratelimit import TokenBucket
from taskflow.engine.decision.scheduler import SchedRun, Scheduler
from taskflow.model import BreakerSettings, BreakerStatus, ErrorType, RateLimit, RunState, ServiceSpec

S = RunState


def leaf(run_id: str, seq: int, service: str | None, **kw) -> SchedRun:
    return SchedRun(id=run_id, task=f"g/{run_id}", root_id="g", parent_id="g", is_group=False, seq=seq, service=service, **kw)


def tree(*leaves: SchedRun) -> list[SchedRun]:
    return [SchedRun(id="g", task="g", root_id="g", parent_id=None, is_group=True), *leaves]


def test_breaker_opens_blocks_probes_once_and_closes_on_success():
    board = ServiceBoard({"pay": ServiceSpec(name="pay", breaker=BreakerSettings(failures=3, cooldown=30))})
    sched = Scheduler(4, gate=board)
    sched.add(tree(*(leaf(f"r{i}", i, "pay") for i in range(8)), leaf("other", 99, "mail", priority=3)), 0.0)
    started = [r.id for r in sched.take(0.0)[0]]
    assert started == ["r0", "r1", "r2", "r3"]
    changed = [board.record("pay", run_id, False, 1.0) for run_id in ("r0", "r1", "r2")]
    assert changed[-1] is not None and changed[-1].status == BreakerStatus.OPEN
    assert changed[-1].half_open_at == datetime.fromtimestamp(31.0, UTC)
    for run_id in ("r0", "r1", "r2"):
        sched.finished(run_id, S.FAILED, 1.0)

    started, transitions = sched.take(1.0)
    # pay's runs are blocked, and that does not hold up the low-priority run of another service
    assert [r.id for r in started] == ["other"]
    blocked = {t.run_id for t in transitions if t.state == S.BLOCKED}
    assert blocked == {"r4", "r5", "r6", "r7"}
    assert all("circuit breaker for pay is open" in (t.message or "") for t in transitions)
    assert sched.next_wakeup(1.0) == 31.0

    assert sched.take(20.0)[0] == []
    started, _ = sched.take(31.0)  # cooldown over: exactly one probe
    assert [r.id for r in started] == ["r4"]
    assert board.state("pay").status == BreakerStatus.HALF_OPEN
    assert board.state("pay").probe_run_id == "r4"
    assert sched.take(32.0)[0] == []
    assert sched.next_wakeup(32.0) is None  # only the probe's outcome can change things

    assert board.record("pay", "r4", True, 33.0).status == BreakerStatus.CLOSED
    sched.finished("r4", S.SUCCEEDED, 33.0)
    sched.finished("r3", S.SUCCEEDED, 33.0)
    started, transitions = sched.take(33.0)
    assert [r.id for r in started] == ["r5", "r6", "r7"]
    assert sched.get("r5").state == S.RUNNING


def test_failed_probe_reopens_for_another_cooldown():
    breaker = CircuitBreaker("pay", BreakerSettings(failures=1, cooldown=10))
    assert breaker.record("a", False, 0.0) and breaker.status == BreakerStatus.OPEN
    assert not breaker.admit("b", 5.0)
    assert breaker.admit("b", 10.0) and breaker.status == BreakerStatus.HALF_OPEN
    assert not breaker.admit("c", 10.0)
    assert breaker.admit("b", 10.0)  # asking again for the probe itself is fine
    assert not breaker.record("c", True, 11.0)  # only the probe decides
    assert breaker.record("b", False, 12.0) and breaker.status == BreakerStatus.OPEN
    assert breaker.opened_at == 12.0 and not breaker.admit("c", 21.0) and breaker.admit("c", 22.0)


def test_cancelled_probe_frees_the_slot():
    board = ServiceBoard({}, BreakerSettings(failures=1, cooldown=5))
    sched = Scheduler(2, gate=board)
    sched.add(tree(leaf("a", 1, "svc"), leaf("b", 2, "svc"), leaf("c", 3, "svc")), 0.0)
    sched.take(0.0)
    board.record("svc", "a", False, 0.0)
    sched.finished("a", S.FAILED, 0.0)
    sched.finished("b", S.SUCCEEDED, 0.0)
    assert [r.id for r in sched.take(5.0)[0]] == ["c"]  # the probe
    sched.add([SchedRun(id="h", task="h", root_id="h", parent_id=None, is_group=False, seq=9, service="svc")], 5.0)
    sched.take(5.0)
    assert sched.get("h").state == S.BLOCKED
    _, kill = sched.cancel("c", 6.0)
    assert kill == ["c"]
    sched.finished("c", S.CANCELLED, 6.0)
    assert [r.id for r in sched.take(6.0)[0]] == ["h"]
    assert board.state("svc").probe_run_id == "h"


def test_on_open_fail_fails_at_once_instead_of_waiting():
    board = ServiceBoard({})
    sched = Scheduler(2, gate=board)
    board.trip("pay", 0.0, by="alice")
    out = sched.add(tree(leaf("a", 1, "pay", on_open="fail"), leaf("b", 2, "pay")), 0.0)
    assert [t.state for t in out] == [S.QUEUED, S.QUEUED]
    started, transitions = sched.take(0.0)
    assert started == []
    failed = next(t for t in transitions if t.run_id == "a")
    assert failed.state == S.FAILED and failed.error_type == ErrorType.SPAWN
    assert failed.message == "circuit breaker for pay is open"
    blocked = next(t for t in transitions if t.run_id == "b")
    assert blocked.state == S.BLOCKED and "tripped by alice" in blocked.message
    assert sched.next_wakeup(100.0) is None  # a manual trip holds until reset
    assert sched.take(1000.0)[0] == []
    board.reset("pay", 1001.0)
    assert [r.id for r in sched.take(1001.0)[0]] == ["b"]


def test_rate_limit_spaces_starts():
    board = ServiceBoard({"api": ServiceSpec(name="api", rate_limit=RateLimit(rate=0.5, burst=2))})
    sched = Scheduler(10, gate=board)
    sched.add(tree(*(leaf(f"r{i}", i, "api") for i in range(6))), 0.0)
    starts: list[float] = []
    now = 0.0
    while len(starts) < 6:
        for _ in sched.take(now)[0]:
            starts.append(now)
        wake = sched.next_wakeup(now)
        if len(starts) < 6:
            assert wake is not None and wake > now
            now = wake
    assert starts[:2] == [0.0, 0.0]  # the burst
    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    assert all(gap == pytest.approx(2.0) for gap in gaps)
    blocked = [sched.get(f"r{i}").state for i in range(6)]
    assert blocked == [S.RUNNING] * 6


def test_token_bucket_refills_and_ignores_clock_steps_back():
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.next_token_at(10.0) == pytest.approx(10.5)
    assert bucket.take(10.5)
    assert not bucket.take(5.0)  # a clock stepping back mints nothing
    assert bucket.available(100.0) == 3.0
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)


def test_board_persists_and_restores_breakers():
    settings = {"pay": ServiceSpec(name="pay", breaker=BreakerSettings(failures=2, cooldown=60))}
    board = ServiceBoard(settings)
    assert board.record("pay", "a", False, 100.0).consecutive_failures == 1
    state = board.record("pay", "b", False, 101.0)
    assert state.status == BreakerStatus.OPEN and state.opened_at == datetime.fromtimestamp(101.0, UTC)
    assert board.record("pay", "c", False, 102.0) is None  # ignored while open

    again = ServiceBoard(settings)
    assert [b.service for b in board.states()] == ["pay"]
    again.restore(board.states())
    assert not again.admit("pay", "x", 150.0)
    assert again.admit("pay", "x", 161.0)
    changes = again.take_changes()
    assert changes and changes[-1].status == BreakerStatus.HALF_OPEN and changes[-1].probe_run_id == "x"
    assert again.take_changes() == []

    again.update_settings({"pay": ServiceSpec(name="pay", breaker=BreakerSettings(failures=5, cooldown=1))})
    assert again.breaker("pay").settings.failures == 5
    assert again.record("pay", "x", True, 162.0).status == BreakerStatus.CLOSED
    tripped = again.trip("pay", 170.0, by="bob")
    assert tripped.tripped_by == "bob" and tripped.half_open_at is None
    assert not again.admit("pay", "y", 10_000.0)
    assert again.reset("pay", 10_001.0).status == BreakerStatus.CLOSED


def test_on_open_fail_does_not_wait_for_a_free_worker():
    board = ServiceBoard({}, BreakerSettings(failures=1, cooldown=10))
    sched = Scheduler(1, gate=board)
    sched.add(tree(leaf("busy", 1, None), leaf("eager", 2, "pay", on_open="fail")), 0.0)
    assert [r.id for r in sched.take(0.0)[0]] == ["busy"]
    board.record("pay", "elsewhere", False, 0.5)
    _, transitions = sched.take(1.0)
    assert [(t.run_id, t.state) for t in transitions] == [("eager", S.FAILED)]


def test_half_open_breaker_lets_an_on_open_fail_run_be_the_probe():
    board = ServiceBoard({}, BreakerSettings(failures=1, cooldown=10))
    sched = Scheduler(2, gate=board)
    board.record("pay", "earlier", False, 0.0)
    sched.add(tree(leaf("a", 1, "pay", on_open="fail"), leaf("b", 2, "pay", on_open="fail")), 10.0)
    started, transitions = sched.take(10.0)
    assert [r.id for r in started] == ["a"]  # the probe
    assert [(t.run_id, t.state) for t in transitions if t.run_id != "g"] == [("b", S.FAILED)]  # probe is out
