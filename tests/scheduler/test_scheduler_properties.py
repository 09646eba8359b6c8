"""Property tests: the scheduler driven by a simulated engine over random forests of run trees.

Hypothesis builds trees (random sibling DAGs with required/optional edges, run_if, pools,
priorities, services behind a real ServiceBoard with random breaker and rate-limit settings),
then a loop plays the engine: take, check invariants, finish/retry/cancel some runs, advance
time, sometimes restart (rebuild the scheduler from the runs' states). At the end every run
must be terminal and the dependency and group rules must hold.
"""

from __future__ import annotations

import copy
import os
import random
from dataclasses import dataclass, field

from hypothesis import event, given, settings
from hypothesis import strategies as st

from taskflow.engine.decision.breakers import ServiceBoard
from taskflow.engine.decision.scheduler import SchedRun, Scheduler, Transition
from taskflow.model import BreakerSettings, RateLimit, RunState, ServiceSpec, SkipReason

POOLS = (None, "db", "net", "unknown")
SERVICES = (None, "s0", "s1")
RESTART = float(os.environ.get("SIM_RESTART", "0.03"))
EXAMPLES = int(os.environ.get("SCHED_EXAMPLES", "250"))  # raise for a long soak
SPOILERS = {RunState.FAILED, RunState.CANCELLED, RunState.INTERRUPTED}


@dataclass
class World:
    runs: dict[str, SchedRun] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    children: dict[str, list[str]] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    seq = iter(range(1_000_000))

    def node(tree: str, parent: str | None, depth: int, index: int) -> str:
        run_id = f"{tree}.{index}" if parent is None else f"{parent}.{index}"
        is_group = depth < 2 and draw(st.booleans()) if parent is not None else draw(st.booleans())
        world.runs[run_id] = SchedRun(
            id=run_id,
            task=run_id,
            root_id=tree,
            parent_id=parent,
            is_group=is_group,
            priority=draw(st.integers(0, 3)),
            seq=next(seq),
            pool=None if is_group else draw(st.sampled_from(POOLS)),
            service=None if is_group else draw(st.sampled_from(SERVICES)),
            on_open=draw(st.sampled_from(("wait", "wait", "fail"))),
        )
        world.order.append(run_id)
        world.children[run_id] = []
        if is_group:
            count = draw(st.integers(0, 4))
            kids = [node(tree, run_id, depth + 1, i) for i in range(count)]
            world.children[run_id] = kids
            for i, kid in enumerate(kids):
                deps = []
                for j in range(i):
                    if draw(st.integers(0, 2)) == 0:
                        deps.append((kids[j], draw(st.booleans())))
                run = world.runs[kid]
                run.deps = tuple(deps)
                run.run_if = "any_failed" if deps and draw(st.integers(0, 4)) == 0 else "all_done"
        return run_id

    for t in range(draw(st.integers(1, 3))):
        world.roots.append(node(f"t{t}", None, 0, 0))
    for run in world.runs.values():  # a tree's id is its root run's id
        run.root_id = _root_of(world, run.id)
    return world


def _root_of(world: World, run_id: str) -> str:
    run = world.runs[run_id]
    while run.parent_id is not None:
        run = world.runs[run.parent_id]
    return run.id


def _ancestors(world: World, run_id: str) -> list[str]:
    out = []
    run = world.runs[run_id]
    while run.parent_id is not None:
        out.append(run.parent_id)
        run = world.runs[run.parent_id]
    return out


def _subtree(world: World, run_id: str) -> list[str]:
    out, stack = [], [run_id]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(world.children[current])
    return out


def _tree_runs(world: World, root: str) -> list[SchedRun]:
    return [world.runs[i] for i in _subtree(world, root)]


class Sim:
    """Plays the engine; keeps a shadow of states built only from what the scheduler said."""

    def __init__(self, world: World, rng: random.Random, max_workers: int, pools: dict[str, int], services):
        self.world = world
        self.rng = rng
        self.services = services
        self.board = ServiceBoard(services, BreakerSettings(failures=2, cooldown=2.0))
        self.sched = Scheduler(max_workers, pools, self.board)
        self.shadow: dict[str, RunState] = {}
        self.skip: dict[str, SkipReason | None] = {}
        self.started: set[str] = set()
        self.retries: dict[str, int] = {}
        self.cancel_marked: set[str] = set()  # groups non-terminal when a cancel covered them
        self.now = 0.0
        self.seen: set[tuple] = set()  # kinds of transitions seen, for coverage statistics

    def apply(self, transitions: list[Transition]) -> None:
        for t in transitions:
            self.seen.add((t.state, t.skip_reason, t.error_type))
            assert not self.shadow[t.run_id].terminal, f"{t.run_id} left terminal state {self.shadow[t.run_id]}"
            self.shadow[t.run_id] = t.state
            if t.state == RunState.SKIPPED:
                assert t.skip_reason is not None
                self.skip[t.run_id] = t.skip_reason
            if t.state == RunState.FAILED and not self.world.runs[t.run_id].is_group:
                assert t.error_type is not None and "circuit breaker" in (t.message or "")

    def add_all(self) -> None:
        for root in self.world.roots:
            for run in _tree_runs(self.world, root):
                self.shadow[run.id] = run.state
            self.apply(self.sched.add(_tree_runs(self.world, root), self.now))
        self.check_shadow()

    def check_shadow(self) -> None:
        counts: dict[RunState, int] = {}
        for run_id, state in self.shadow.items():
            assert self.sched.get(run_id).state == state, run_id
            counts[state] = counts.get(state, 0) + 1
        assert self.sched.counts() == counts
        # a group is terminal only once all its children are
        for run_id, kids in self.world.children.items():
            if kids and self.shadow[run_id].terminal:
                assert all(self.shadow[k].terminal for k in kids), run_id

    def deps_done(self, run_id: str) -> bool:
        for chain in [run_id, *_ancestors(self.world, run_id)]:
            for dep, _ in self.world.runs[chain].deps:
                if not self.shadow[dep].terminal:
                    return False
        return True

    def running_leaves(self) -> list[str]:
        return [i for i, s in self.shadow.items() if s == RunState.RUNNING and not self.world.runs[i].is_group]

    def pool_usage(self) -> dict[str | None, int]:
        usage: dict[str | None, int] = {}
        for run_id in self.running_leaves():
            pool = self.world.runs[run_id].pool
            usage[pool] = usage.get(pool, 0) + 1
        return usage

    def step_take(self) -> None:
        sched = self.sched
        before_usage = self.pool_usage()
        before_running = len(self.running_leaves())
        queued_before = {i for i, s in self.shadow.items() if s == RunState.QUEUED}
        started, transitions = sched.take(self.now)
        self.apply(transitions)
        for run in started:
            assert not self.shadow[run.id].terminal and self.shadow[run.id] != RunState.RUNNING, run.id
            assert self.deps_done(run.id), f"{run.id} started before its dependencies ended"
            self.shadow[run.id] = RunState.RUNNING
            self.started.add(run.id)
        for t in transitions:
            if t.state == RunState.RUNNING:  # a group starts only with a descendant
                assert self.world.runs[t.run_id].is_group
                assert any(s.id in _subtree(self.world, t.run_id) for s in started)
        # limits: never start past the global or a pool limit
        assert len(started) <= max(0, sched.max_workers - before_running)
        per_pool: dict[str | None, int] = {}
        for run in started:
            per_pool[run.pool] = per_pool.get(run.pool, 0) + 1
        for pool, n in per_pool.items():
            if pool in sched.pools:
                assert n <= max(0, sched.pools[pool] - before_usage.get(pool, 0)), pool
        assert sched.running == len(self.running_leaves())
        # priority order within a pool among runs queued together
        for pool in POOLS:
            started_keys = [(r.priority, r.seq) for r in started if r.pool == pool]
            if not started_keys:
                continue
            worst = max(started_keys)
            for run_id in queued_before:
                run = self.world.runs[run_id]
                if run.pool == pool and self.shadow[run_id] == RunState.QUEUED:
                    assert (run.priority, run.seq) > worst, f"{run_id} passed over in pool {pool}"
        # work-conserving: a free worker never sits next to a startable queued run
        if sched.running < sched.max_workers:
            usage = self.pool_usage()
            for run_id, state in self.shadow.items():
                if state == RunState.QUEUED:
                    pool = self.world.runs[run_id].pool
                    assert pool in sched.pools and usage.get(pool, 0) >= sched.pools[pool], run_id
        self.check_shadow()

    def finish(self, run_id: str, state: RunState) -> None:
        run = self.world.runs[run_id]
        if run.service is not None and state in (RunState.SUCCEEDED, RunState.FAILED):
            self.board.record(run.service, run_id, state == RunState.SUCCEEDED, self.now)
        self.shadow[run_id] = state
        if state == RunState.SKIPPED:
            self.skip[run_id] = SkipReason.CONDITION
        self.apply(self.sched.finished(run_id, state, self.now, skip_reason=self.skip.get(run_id)))

    def step_events(self) -> None:
        rng = self.rng
        for run_id in self.running_leaves():
            roll = rng.random()
            if roll < 0.35:
                self.finish(run_id, RunState.SUCCEEDED)
            elif roll < 0.5:
                self.finish(run_id, rng.choice([RunState.FAILED, RunState.FAILED, RunState.INTERRUPTED, RunState.SKIPPED]))
            elif roll < 0.6 and self.retries.get(run_id, 0) < 2:
                self.retries[run_id] = self.retries.get(run_id, 0) + 1
                run = self.world.runs[run_id]
                if run.service is not None:
                    self.board.record(run.service, run_id, False, self.now)
                self.shadow[run_id] = RunState.RETRYING
                self.apply(self.sched.retry_later(run_id, self.now + rng.uniform(0, 3)))
        if rng.random() < 0.04:
            target = rng.choice(self.world.order)
            for run_id in _subtree(self.world, target):
                if self.world.runs[run_id].is_group and not self.shadow[run_id].terminal:
                    self.cancel_marked.add(run_id)
            waiting = [
                i for i in _subtree(self.world, target)
                if not self.shadow[i].terminal and self.shadow[i] != RunState.RUNNING
            ]
            transitions, kill = self.sched.cancel(target, self.now)
            self.apply(transitions)
            for run_id in waiting:  # groups with running leaves below end once those do
                if not self.world.runs[run_id].is_group:
                    assert self.shadow[run_id] == RunState.CANCELLED, run_id
            assert sorted(kill) == sorted(
                i for i in _subtree(self.world, target)
                if self.shadow[i] == RunState.RUNNING and not self.world.runs[i].is_group
            )
            for run_id in kill:
                assert self.shadow[run_id] == RunState.RUNNING
                if rng.random() < 0.8:
                    self.finish(run_id, RunState.CANCELLED)
        if rng.random() < 0.05:
            self.sched.max_workers = rng.randint(1, 4)
        self.check_shadow()

    def restart(self) -> None:
        """Rebuild the scheduler and the board from persisted-like state."""
        states = self.board.states()
        self.board = ServiceBoard(self.services, BreakerSettings(failures=2, cooldown=2.0))
        self.board.restore(states)
        self.sched = Scheduler(self.sched.max_workers, self.sched.pools, self.board)
        for root in self.world.roots:
            fresh = [copy.copy(r) for r in _tree_runs(self.world, root)]
            for run in fresh:
                if run.state == RunState.BLOCKED:
                    run.state = RunState.QUEUED  # as recovery does: the gate is re-evaluated
                    self.shadow[run.id] = RunState.QUEUED
                self.world.runs[run.id] = run
            self.apply(self.sched.add(fresh, self.now))
        self.check_shadow()

    def run(self) -> None:
        self.add_all()
        for _ in range(600):
            self.step_take()
            if all(s.terminal for s in self.shadow.values()):
                break
            wake = self.sched.next_wakeup(self.now)
            if not self.running_leaves():
                # no deadlock: with nothing running, something must be waiting on time
                assert wake is not None, {i: s for i, s in self.shadow.items() if not s.terminal}
            self.step_events()
            if self.rng.random() < RESTART:
                self.restart()
            self.now += self.rng.choice([0.0, 0.1, 0.5, 1.0, 2.5])
            if wake is not None and not self.running_leaves():
                self.now = max(self.now, wake)
        assert all(s.terminal for s in self.shadow.values()), {i: s for i, s in self.shadow.items() if not s.terminal}
        self.check_final()
        for state, reason, error in self.seen:
            event(f"saw {state}" + (f" ({reason or error})" if reason or error else ""))

    def check_final(self) -> None:
        world = self.world
        for run_id, run in world.runs.items():
            state = self.shadow[run_id]
            ancestors = _ancestors(world, run_id)
            under_skipped_group = any(self.shadow[a] == RunState.SKIPPED for a in ancestors)
            under_cancelled_group = any(self.shadow[a] == RunState.CANCELLED for a in ancestors)
            if under_skipped_group:
                top = next(a for a in reversed(ancestors) if self.shadow[a] == RunState.SKIPPED)
                if run_id not in self.started and state != RunState.CANCELLED:  # cancelled before
                    assert state == RunState.SKIPPED and self.skip[run_id] == self.skip[top], run_id
                continue
            if run_id in self.started or state == RunState.CANCELLED or under_cancelled_group:
                if run_id in self.started:
                    assert all(self.shadow[d].terminal for d, _ in run.deps)
                continue
            dep_states = [(self.shadow[d], req) for d, req in run.deps]
            if run.run_if == "any_failed":
                any_bad = any(s != RunState.SUCCEEDED for s, _ in dep_states)
                skipped_condition = state == RunState.SKIPPED and self.skip[run_id] == SkipReason.CONDITION
                assert skipped_condition == (not any_bad), run_id
            else:
                required_bad = any(req and s != RunState.SUCCEEDED for s, req in dep_states)
                skipped_upstream = state == RunState.SKIPPED and self.skip[run_id] == SkipReason.UPSTREAM
                assert skipped_upstream == required_bad, (run_id, state, dep_states)
        for run_id, kids in world.children.items():
            if not world.runs[run_id].is_group:
                continue
            state = self.shadow[run_id]
            spoiled = any(
                self.shadow[k] in SPOILERS or (self.shadow[k] == RunState.SKIPPED and self.skip[k] != SkipReason.CONDITION)
                for k in kids
            )
            if state == RunState.SKIPPED:
                continue
            if state == RunState.SUCCEEDED:
                assert not spoiled, run_id
            elif state == RunState.CANCELLED:
                assert run_id in self.cancel_marked, run_id
            else:
                assert state == RunState.FAILED and spoiled and run_id not in self.cancel_marked, (run_id, state)
            if spoiled:
                assert state in (RunState.FAILED, RunState.CANCELLED), run_id


@st.composite
def services(draw: st.DrawFn) -> dict[str, ServiceSpec]:
    out = {}
    for name in ("s0", "s1"):
        breaker = BreakerSettings(failures=draw(st.integers(1, 4)), cooldown=draw(st.sampled_from([0.5, 1.0, 3.0])))
        limit = draw(st.none() | st.builds(RateLimit, rate=st.sampled_from([0.5, 1.0, 4.0]), burst=st.integers(1, 3)))
        out[name] = ServiceSpec(name=name, breaker=breaker, rate_limit=limit)
    return out


@settings(max_examples=EXAMPLES)
@given(
    world=worlds(),
    seed=st.integers(0, 2**32),
    max_workers=st.integers(1, 4),
    pools=st.fixed_dictionaries({"db": st.integers(1, 2), "net": st.integers(1, 3)}),
    service_specs=services(),
)
def test_random_forests_reach_terminal_states_by_the_rules(world, seed, max_workers, pools, service_specs):
    Sim(world, random.Random(seed), max_workers, pools, service_specs).run()


@settings(max_examples=EXAMPLES)
@given(world=worlds(), seed=st.integers(0, 2**32))
def test_when_everything_succeeds_every_run_succeeds(world, seed):
    """No failures and no rollback paths: nothing may be skipped, every group succeeds."""
    for run in world.runs.values():
        run.run_if = "all_done"
        run.service = None
    sched = Scheduler(3, {"db": 1})
    for root in world.roots:
        sched.add(_tree_runs(world, root), 0.0)
    rng = random.Random(seed)
    now = 0.0
    for _ in range(1000):
        sched.take(now)
        running = [r.id for r in world.runs.values() if r.state == RunState.RUNNING and not r.is_group]
        if not running:
            break
        sched.finished(rng.choice(running), RunState.SUCCEEDED, now)
        now += 1
    assert {run.state for run in world.runs.values()} == {RunState.SUCCEEDED}
    assert all(sched.is_tree_done(root) for root in world.roots)
