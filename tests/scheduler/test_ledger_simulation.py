"""Property tests: the decision layer and the run ledger, driven through the ``Executor`` protocol.

The engine is the real one (scheduler, breakers, retry, run trees, ledger, recovery) over a
real SQLite store; only what lies behind the ``Executor`` protocol and the clock is
simulated. ``SimExecutor`` runs no process: each attempt's duration and result come from a
seeded hash of (run, attempt), and it ends when the simulated clock passes its end. So the
protocol is shown to be the only seam a backend needs.

Hypothesis builds forests of task trees (groups, sibling dependencies required or optional,
``run_if``, pools, a service with a breaker, retries, priorities, a task the executor
refuses), then a loop triggers them, steps the engine, cancels some runs, restarts the
engine now and then (detach, then a fresh engine recovers from the store and re-adopts the
simulated attempts), and advances the clock to the next thing that happens. Checked:
- no attempt is started twice and attempts of one run never overlap;
- never more attempts run than ``max_workers``, nor more than a pool allows;
- a leaf starts only when its dependencies are terminal and its ``run_if`` holds;
- a terminal state is published only once it is in the store;
- at the end every run is terminal (none interrupted: nothing was lost), every attempt the
  executor saw is recorded (and nothing else), a leaf's state agrees with its last attempt
  and a group's with its children.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.events import EngineEvent, RunUpdated
from taskflow.engine.executor import AttemptOutcome, Found, OutputChunk, ProgressCallback, ResourceUsage
from taskflow.engine.recovery import reconcile_runs
from taskflow.model import (
    Attempt,
    BreakerSettings,
    Dependency,
    ErrorType,
    RetryPolicy,
    Run,
    RunState,
    ServiceSpec,
    TaskSet,
    TaskSpec,
)
from taskflow.store import Store

EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", "60"))  # raise for a long soak
MAX_WORKERS = 3
POOLS = {"db": 1}
GHOST = "ghost"  # a user the simulated executor refuses to run as
CANCEL_GRACE = 0.5


class SimClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _draw(seed: int, *parts: object) -> float:
    """A fraction in [0, 1) fixed by ``seed`` and ``parts``: the same attempt always ends alike."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class SimProcess:
    run_id: str
    number: int
    spec: TaskSpec
    started: float
    end: float
    fails: bool
    cancelled: bool = False
    handle: SimHandle | None = None

    def outcome(self) -> AttemptOutcome:
        failed = self.fails or self.cancelled
        return AttemptOutcome(
            exit_code=None if self.cancelled else (1 if failed else 0),
            signal=15 if self.cancelled else None,
            error_type=(ErrorType.SIGNAL if self.cancelled else ErrorType.EXIT) if failed else None,
            message="cancelled; process group terminated" if self.cancelled else ("exit 1" if failed else None),
            peak_rss=None,
            cpu_seconds=None,
            cancelled=self.cancelled,
            finished_at=datetime.fromtimestamp(self.end, UTC),
        )


class SimHandle:
    """``AttemptHandle`` of a simulated attempt."""

    def __init__(self, executor: SimExecutor, process: SimProcess) -> None:
        self._executor = executor
        self._process = process
        self._future: asyncio.Future[AttemptOutcome | None] = asyncio.get_running_loop().create_future()
        process.handle = self

    @property
    def pid(self) -> int | None:
        return None

    @property
    def pid_started_at(self) -> float | None:
        return None

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self._process.started, UTC)

    @property
    def output_dir(self) -> str:
        return self._executor.locate_output(self._process.run_id, self._process.number)

    async def wait(self) -> AttemptOutcome | None:
        return await asyncio.shield(self._future)

    def cancel(self) -> None:
        process = self._process
        if not self._future.done() and not process.cancelled:
            process.cancelled = True
            process.end = min(process.end, self._executor.clock.now + CANCEL_GRACE)

    def usage(self) -> ResourceUsage:
        return ResourceUsage(None, None)

    def resolve(self, outcome: AttemptOutcome | None) -> None:
        if not self._future.done():
            self._future.set_result(outcome)


class SimExecutor:
    """An ``Executor`` whose attempts are entries in a table and end by the simulated clock."""

    def __init__(self, clock: SimClock, seed: int, world: World) -> None:
        self.clock = clock
        self.seed = seed
        self.world = world
        self.on_progress: ProgressCallback | None = None
        self.processes: dict[tuple[str, int], SimProcess] = {}
        self.refused = 0
        self.ledger_view: Any = None  # the current engine's ledger, for the start-time checks

    @property
    def stop_grace(self) -> float:
        return CANCEL_GRACE

    def live(self) -> list[SimProcess]:
        return [p for p in self.processes.values() if p.end > self.clock.now]

    def refusal(self, spec: TaskSpec) -> str | None:
        if spec.user == GHOST:
            self.refused += 1
            return f"no user {GHOST!r} on this host"
        return None

    def start(self, spec: TaskSpec, run_id: str, attempt: int, params: Mapping[str, Any]) -> SimHandle:
        now = self.clock.now
        assert (run_id, attempt) not in self.processes, f"attempt {attempt} of {spec.name} started twice"
        earlier = self.processes.get((run_id, attempt - 1))
        assert earlier is None or earlier.end <= now, f"{spec.name}: attempt {attempt} overlaps the one before"
        assert attempt == 1 or earlier is not None, f"{spec.name}: attempt {attempt} skips one"
        self.world.check_start(spec, run_id, self.ledger_view)
        draw = _draw(self.seed, spec.name, attempt)
        process = SimProcess(
            run_id, attempt, spec, now, now + 0.1 + 3 * draw, fails=draw < self.world.fail_rate.get(spec.name, 0.0)
        )
        self.processes[(run_id, attempt)] = process
        live = self.live()
        assert len(live) <= MAX_WORKERS, f"{len(live)} attempts running with max_workers {MAX_WORKERS}"
        for pool, limit in POOLS.items():
            in_pool = sum(1 for p in live if p.spec.pool == pool)
            assert in_pool <= limit, f"{in_pool} attempts in pool {pool} of {limit}"
        return SimHandle(self, process)

    async def adopt(self, attempt: Attempt, spec: TaskSpec | None) -> Found:
        process = self.processes.get((attempt.run_id, attempt.number))
        if process is None:
            return None
        if process.end > self.clock.now:
            return SimHandle(self, process)
        return process.outcome()

    async def trace(self, run_id: str, number: int, spec: TaskSpec | None) -> tuple[Attempt, Found] | None:
        process = self.processes.get((run_id, number))
        if process is None:
            return None
        attempt = Attempt(run_id=run_id, number=number, started_at=datetime.fromtimestamp(process.started, UTC))
        return attempt, await self.adopt(attempt, spec)

    def locate_output(self, run_id: str, number: int) -> str:
        return f"/sim/{run_id}/{number}"

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        return OutputChunk(b"", offset, 0)

    def advance(self) -> None:
        """End every attempt whose time has come."""
        for process in self.processes.values():
            if process.end <= self.clock.now and process.handle is not None:
                process.handle.resolve(process.outcome())

    def next_end(self) -> float | None:
        ends = [p.end for p in self.live()]
        return min(ends) if ends else None

    async def stop_all(self) -> None:
        raise AssertionError("the simulation only detaches")

    def detach_all(self) -> None:
        for process in self.processes.values():
            if process.handle is not None:
                process.handle.resolve(None)
                process.handle = None

    def close(self) -> None:
        pass


@dataclass
class World:
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)
    fail_rate: dict[str, float] = field(default_factory=dict)

    def check_start(self, spec: TaskSpec, run_id: str, ledger: Any) -> None:
        """A leaf may start only once its dependencies are terminal and its ``run_if`` holds."""
        active = ledger.active[run_id]
        siblings = {a.run.task: a.run for a in ledger.active.values() if a.run.parent_id == active.run.parent_id}
        deps = [(siblings[d.task], d.required) for d in spec.depends_on if d.task in siblings]
        for dep, _required in deps:
            assert dep.state.terminal, f"{spec.name} started before {dep.task} ended ({dep.state})"
        if spec.run_if == "all_done":
            for dep, required in deps:
                assert not required or dep.state is RunState.SUCCEEDED, f"{spec.name} ran after {dep.task} {dep.state}"
        elif deps:
            assert any(d.state is not RunState.SUCCEEDED for d, _ in deps), f"{spec.name} ran with no failed dep"


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()

    def node(name: str, depth: int, parent: str | None) -> None:
        is_group = depth < 2 and draw(st.integers(0, 2)) > 0 if depth > 0 else draw(st.booleans())
        children: list[str] = []
        if is_group:
            children = [f"{name}/n{i}" for i in range(draw(st.integers(0, 4)))]
        deps: list[Dependency] = []
        if parent is not None:
            earlier = [t for t in world.tasks if world.tasks[t].parent == parent]
            for sibling in earlier:
                if draw(st.integers(0, 2)) == 0:
                    deps.append(Dependency(sibling, required=draw(st.booleans())))
        world.tasks[name] = TaskSpec(
            name=name,
            kind="group" if is_group else "command",
            command=None if is_group else "true",
            children=tuple(children),
            parent=parent,
            depends_on=tuple(deps),
            run_if="any_failed" if deps and draw(st.integers(0, 4)) == 0 else "all_done",
            priority=draw(st.integers(1, 3)),
            retries=RetryPolicy(max=draw(st.integers(0, 2)), backoff=0.5, jitter=0.2),
            service=None if is_group else draw(st.sampled_from((None, None, "s0"))),
            on_open=draw(st.sampled_from(("wait", "wait", "fail"))),
            pool=None if is_group else draw(st.sampled_from((None, None, "db"))),
            user=GHOST if not is_group and draw(st.integers(0, 15)) == 0 else None,
        )
        world.fail_rate[name] = draw(st.sampled_from((0.0, 0.3, 0.7)))
        for child in children:
            node(child, depth + 1, name)

    for t in range(draw(st.integers(1, 3))):
        world.roots.append(f"t{t}")
        node(f"t{t}", 0, None)
    return world


def taskset(world: World) -> TaskSet:
    return TaskSet(
        tasks=dict(world.tasks),
        pools=dict(POOLS),
        services={"s0": ServiceSpec(name="s0", breaker=BreakerSettings(failures=2, cooldown=5.0))},
    )


class Published:
    """Terminal states as the bus announced them, to compare with the store."""

    def __init__(self) -> None:
        self.unchecked: list[tuple[str, RunState]] = []

    def __call__(self, event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.state.terminal:
                self.unchecked.append((run.id, run.state))

    async def check(self, store: Store) -> None:
        """Read back what was announced, before anything waits for the writer: a state
        published ahead of its commit is not in the store yet."""
        unchecked, self.unchecked = self.unchecked, []
        for run_id, state in unchecked:
            stored = await store.get_run(run_id)
            assert stored is not None and stored.state is state, f"{run_id} published {state} before its commit"


async def boot(store: Store, sim: SimExecutor, clock: SimClock, world: World, seed: int, published: Published) -> Engine:
    """An engine as ``Engine.start`` builds one, minus the real-time pump and timer."""
    engine = Engine(store, sim, EngineSettings(max_workers=MAX_WORKERS), rng=random.Random(seed), clock=clock)
    engine.bus.subscribe(published)
    engine.board.restore(await store.breakers())
    engine.ledger.remember(await store.last_runs_by_task())
    tasks = taskset(world)
    engine.update_tasks(tasks, engine.check_python(tasks))
    sim.ledger_view = engine.ledger
    await reconcile_runs(store, sim, engine.ledger, engine.tasks)
    return engine


async def settle(store: Store, published: Published) -> None:
    """Let followers and commit callbacks run; check publications; let the writer catch up."""
    for _ in range(3):
        await asyncio.sleep(0)
    await published.check(store)
    await store.flush()
    for _ in range(3):
        await asyncio.sleep(0)
    await published.check(store)


async def play(world: World, seed: int, directory: Path) -> None:
    rng = random.Random(seed)
    clock = SimClock()
    sim = SimExecutor(clock, seed, world)
    published = Published()
    store = await Store.open(directory / "sim.db")
    try:
        engine = await boot(store, sim, clock, world, seed, published)
        roots = [(await engine.trigger(name)).id for name in world.roots]
        for _ in range(3000):
            engine.step(clock.now)
            await settle(store, published)
            if not engine.active:
                break
            if engine.woken:  # an attempt ended, a run was admitted...: look again, same time
                continue
            roll = rng.random()
            if roll < 0.05:
                event("cancelled a run")
                victim = rng.choice(sorted(engine.active))
                await engine.cancel(victim, requested_by="sim")
                continue
            if roll < 0.08:
                event("restarted the engine")
                await engine.stop("detach")
                engine = await boot(store, sim, clock, world, seed, published)
                continue
            wakeups = [t for t in (sim.next_end(), engine.scheduler.next_wakeup(clock.now)) if t is not None]
            assert wakeups, f"stuck: {[(a.run.task, a.run.state) for a in engine.active.values()]}"
            clock.now = max(clock.now, min(wakeups))
            sim.advance()
            await settle(store, published)
        else:
            raise AssertionError("the simulation did not finish")
        await check_end(store, sim, roots)
        event(f"attempts started: {_bucket(len(sim.processes))}")
        if any(p.fails for p in sim.processes.values()):
            event("some attempts failed")
    finally:
        await store.close()


async def check_end(store: Store, sim: SimExecutor, roots: list[str]) -> None:
    started: dict[str, int] = {}
    for run_id, _number in sim.processes:
        started[run_id] = started.get(run_id, 0) + 1
    for root_id in roots:
        tree = await store.run_tree(root_id)
        assert tree is not None
        for node in tree.walk():
            run = node.run
            assert run.state.terminal, f"{run.task} ended {run.state}"
            if node.children:
                check_group(run, [child.run for child in node.children])
                continue
            numbers = [a.number for a in node.attempts]
            assert numbers == list(range(1, run.attempts + 1)), f"{run.task}: attempts {numbers} of {run.attempts}"
            assert all(a.finished_at is not None for a in node.attempts), f"{run.task}: an attempt never ended"
            # The simulated executor loses nothing, so recovery must adopt or read back every
            # attempt: an interrupted run would mean an outcome was thrown away.
            assert run.state is not RunState.INTERRUPTED, f"{run.task} interrupted: {run.message}"
            last = sim.processes.get((run.id, run.attempts))
            if last is not None and run.state is RunState.SUCCEEDED:
                assert not last.fails and not last.cancelled, f"{run.task} succeeded on a failed attempt"
            ran = started.get(run.id, 0)
            refused = sum(1 for a in node.attempts if a.error_type is ErrorType.CONFIG)
            assert ran + refused == run.attempts, f"{run.task}: {ran} started + {refused} refused != {run.attempts}"


def _bucket(n: int) -> str:
    return "0" if n == 0 else "1-5" if n <= 5 else "6-20" if n <= 20 else ">20"


def check_group(group: Run, children: list[Run]) -> None:
    if group.state is RunState.SUCCEEDED:
        bad = [c for c in children if c.state not in (RunState.SUCCEEDED, RunState.SKIPPED)]
        assert not bad, f"{group.task} succeeded with {[(c.task, c.state) for c in bad]}"
    if any(c.state is RunState.FAILED for c in children) and group.state is not RunState.CANCELLED:
        assert group.state is RunState.FAILED, f"{group.task} {group.state} with a failed child"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), seed=st.integers(0, 2**32 - 1))
def test_engine_drives_any_forest_to_an_end_through_the_executor_protocol(world: World, seed: int, tmp_path_factory: Any) -> None:
    directory = tmp_path_factory.mktemp("sim")
    asyncio.run(play(world, seed, directory))
