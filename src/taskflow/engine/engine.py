"""The engine: turns triggers into run trees and drives their leaves to an end.

A coordinator over four parts, each with one job:
- the decision layer (``decision``: scheduler, breakers, retry, run trees) decides;
- the ``RunLedger`` owns the active runs, records every transition and publishes it;
- an ``Executor`` (the local ``ProcessExecutor`` by default) runs attempts;
- the ``TaskCatalog`` knows the task definitions and which are enabled.
The engine validates requests, plans trees, and its pump hands what the scheduler lets start
to the executor. Run intents are acknowledged only once durable.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from taskflow.engine.catalog import TaskCatalog, TaskStatus
from taskflow.engine.decision.adaptive import effective_workers
from taskflow.engine.decision.breakers import ServiceBoard
from taskflow.engine.decision.runtree import adhoc_spec, plan_rerun, plan_run_tree
from taskflow.engine.decision.scheduler import Scheduler
from taskflow.engine.errors import EngineError
from taskflow.engine.events import EventBus, TaskChanged, TasksUpdated
from taskflow.engine.executor import Executor, OutputChunk
from taskflow.engine.hooks import apply_post_run, apply_pre_run
from taskflow.engine.ledger import ActiveRun, RunLedger, as_datetime, refused_outcome
from taskflow.engine.pycheck import PythonChecks
from taskflow.engine.recovery import reconcile_runs
from taskflow.engine.timers import ScheduleTimer
from taskflow.model import BreakerSettings, BreakerState, Run, StopMode, TaskSet, TaskSpec, Trigger
from taskflow.pytask.hooks import RunRejected
from taskflow.pytask.probe import IMPORT_TIMEOUT
from taskflow.store import Store

log = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    max_workers: int = 8
    min_workers: int = 1
    adaptive: bool = False
    pools: dict[str, int] = field(default_factory=dict)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    python_path: list[str] = field(default_factory=list)
    import_timeout: float = IMPORT_TIMEOUT  # seconds a task module may take to import (probe)


class Engine:
    """Hosts the scheduler, the ledger and the executor for the daemon (or a test)."""

    def __init__(
        self,
        store: Store,
        executor: Executor,
        settings: EngineSettings | None = None,
        *,
        bus: EventBus | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.executor = executor
        self.settings = settings or EngineSettings()
        self.bus = bus or EventBus()
        self.clock = clock
        self.catalog = TaskCatalog(PythonChecks(self.settings.python_path))
        self.board = ServiceBoard({}, self.settings.breaker)
        self.scheduler = Scheduler(self.settings.max_workers, self._pool_limits(), self.board)
        self.ledger = RunLedger(
            store, self.scheduler, self.board, self.bus,
            clock=clock, rng=rng or random.Random(), wake=self.wake, on_tree_end=apply_post_run,
        )
        self.timer = ScheduleTimer(store, self)
        self.started_at = as_datetime(clock())
        self._wake = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._adaptive_task: asyncio.Task[None] | None = None
        self._stopping = False
        executor.on_progress = self.ledger.record_progress

    # ------------------------------------------------------------------ read-only views

    @property
    def tasks(self) -> Mapping[str, TaskSpec]:
        return self.catalog.tasks

    @property
    def status(self) -> Mapping[str, TaskStatus]:
        return self.catalog.status

    @property
    def active(self) -> Mapping[str, ActiveRun]:
        return self.ledger.active

    @property
    def last_runs(self) -> Mapping[str, Run]:
        return self.ledger.last_runs

    @property
    def unsaved(self) -> Mapping[str, Run]:
        return self.ledger.unsaved

    @property
    def busy(self) -> int:
        return self.scheduler.running

    def counts(self) -> dict[str, int]:
        return self.ledger.counts()

    def active_runs_of(self, task: str) -> list[Run]:
        return self.ledger.active_runs_of(task)

    def is_enabled(self, name: str) -> bool:
        return self.catalog.is_enabled(name)

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        """Output of an attempt, wherever its executor keeps it (blocking: call off the loop)."""
        return self.executor.read_output(output_dir, stream, offset, limit)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, taskset: TaskSet | None = None) -> None:
        """Load persisted task states and breakers, reconcile in-flight runs, start the pump."""
        self.catalog.restore(await self.store.task_states())
        self.board.restore(await self.store.breakers())
        self.ledger.remember(await self.store.last_runs_by_task())
        taskset = taskset or self.catalog.taskset
        self.update_tasks(taskset, await asyncio.to_thread(self.check_python, taskset))
        await reconcile_runs(self.store, self.executor, self.ledger, self.catalog.tasks)
        self._pump_task = asyncio.create_task(self._pump(), name="taskflow-pump")
        await self.timer.start()
        if self.settings.adaptive:
            self._adaptive_task = asyncio.create_task(self._adapt(), name="taskflow-adaptive")

    async def stop(self, mode: StopMode = "detach") -> None:
        """Stop starting work; ``detach`` leaves attempts running, ``stop`` ends them first."""
        self._stopping = True
        self.ledger.retries_allowed = False
        self._wake.set()
        await self.timer.stop()
        for task in (self._pump_task, self._adaptive_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        followers = self.ledger.followers
        if mode == "stop":
            await self.executor.stop_all()
            if followers:
                await asyncio.wait(followers, timeout=self.executor.stop_grace + 5)
        else:
            self.executor.detach_all()
            for follower in followers:
                follower.cancel()
        self.executor.close()
        await self.store.flush()

    def wake(self) -> None:
        """Let the pump look at the scheduler again (something may be able to start)."""
        self._wake.set()

    def apply_settings(self, settings: EngineSettings) -> None:
        """Settings that change live (on reload): the worker count; the rest on restart."""
        self.settings = settings
        self.scheduler.max_workers = settings.max_workers
        self.wake()

    # ------------------------------------------------------------------ definitions

    def _pool_limits(self) -> dict[str, int]:
        pools = dict(self.catalog.taskset.pools)
        pools.update(self.settings.pools)  # the daemon config wins over task files
        return pools

    def check_python(self, taskset: TaskSet) -> PythonChecks:
        """Resolve every Python task of ``taskset`` into a fresh ``PythonChecks``.

        Imports user modules (after a probe in a child process), so it runs in a worker thread
        at start and on reload and hands the result to ``update_tasks``: a slow task module
        then does not stall the loop.
        """
        checks = PythonChecks(self.settings.python_path)
        checks.prime(taskset.tasks.values(), self.settings.import_timeout)
        for spec in taskset.tasks.values():
            if spec.kind == "python":
                checks.resolve_problem(spec)
        return checks

    def update_tasks(self, taskset: TaskSet, python: PythonChecks | None = None) -> None:
        """Apply a (re)loaded task set. Runs already in flight keep their own spec snapshot."""
        self.catalog.update(taskset, python if python is not None else self.check_python(taskset))
        self.scheduler.pools = self._pool_limits()
        self.board.update_settings(taskset.services, self.settings.breaker)
        self.timer.reload()
        self.bus.publish(TasksUpdated())

    async def set_enabled(self, name: str, enabled: bool, reason: str | None, by: str | None) -> TaskStatus:
        if name not in self.catalog.tasks:
            raise EngineError("not_found", f"no task named {name!r}")
        current = self.catalog.status[name]
        if enabled and current.orphaned:
            raise EngineError("conflict", f"cannot enable {name}: {current.reason}")
        reason = None if enabled else (reason or f"disabled by {by or 'unknown'}")
        await self.store.set_task_state(name, enabled, reason, by)
        status = self.catalog.set_enabled(name, enabled, reason)
        self.bus.publish(TaskChanged(name))
        return status

    # ------------------------------------------------------------------ triggering

    async def trigger(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        trigger: Trigger = Trigger.MANUAL,
        requested_by: str | None = None,
        tasks: Mapping[str, TaskSpec] | None = None,
        carried_over: Mapping[str, Run] | None = None,
    ) -> Run:
        """Create a run tree for ``name``; returns its root run once the intent is durable."""
        if self._stopping:
            raise EngineError("unavailable", "the daemon is shutting down and accepts no new runs")
        table = tasks if tasks is not None else self.catalog.tasks
        spec = table.get(name)
        if spec is None:
            raise EngineError("not_found", f"no task named {name!r}")
        if tasks is None:
            refusal = self.catalog.refusal(name)
            if refusal:
                raise EngineError("conflict", refusal)
        try:
            params = apply_pre_run(spec, dict(params or {}))
        except RunRejected as exc:
            raise EngineError("conflict", f"run of {name} rejected by a pre-run hook: {exc}") from None
        if spec.kind == "python":
            problem = self.catalog.python.param_problem(spec, params)
            if problem is not None:
                raise EngineError("bad_request", f"{name}: {problem}")
        planned = plan_run_tree(
            table,
            name,
            now=as_datetime(self.clock()),
            params=params,
            trigger=trigger,
            requested_by=requested_by,
            is_enabled=self.catalog.is_enabled if tasks is None else (lambda _n: True),
            carried_over=carried_over,
        )
        await self.store.save_runs((p.run for p in planned), new=True)
        self.ledger.admit(planned, self.clock())
        return planned[0].run

    async def exec_adhoc(
        self,
        command: list[str] | str,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        requested_by: str | None = None,
        cwd: str | None = None,
    ) -> Run:
        """Run an ad-hoc shell command as a one-node tree named ``@name``."""
        if not command:
            raise EngineError("bad_request", "exec needs a command")
        spec = adhoc_spec(command, name=name, timeout=timeout, retries=retries, cwd=cwd)
        return await self.trigger(
            spec.name, trigger=Trigger.ADHOC, requested_by=requested_by, tasks={spec.name: spec}
        )

    async def rerun(self, run_id: str, *, failed_only: bool = False, requested_by: str | None = None) -> Run:
        """Start ``run_id``'s task again as a new run; ``failed_only`` keeps earlier successes."""
        tree = await self.store.run_tree(run_id)
        if tree is None:
            old = await self.store.get_run(run_id)
            if old is None:
                raise EngineError("not_found", f"no run {run_id}")
            tree = await self.store.run_tree(old.root_id)
            if tree is None:
                raise EngineError("not_found", f"no run {run_id}")
            tree = next((t for t in tree.walk() if t.run.id == run_id), tree)
        root = tree.run
        if not root.state.terminal:
            raise EngineError("conflict", f"run {run_id} is still {root.state}; cancel it first or wait")
        plan = plan_rerun(tree, failed_only=failed_only)
        use_files = root.task in self.catalog.tasks and root.trigger is not Trigger.ADHOC
        return await self.trigger(
            root.task,
            root.params,
            trigger=Trigger.RERUN,
            requested_by=requested_by,
            tasks=None if use_files else plan.snapshot,
            carried_over=plan.carried_over,
        )

    # ------------------------------------------------------------------ cancelling and breakers

    async def cancel(self, run_id: str, requested_by: str | None = None) -> Run:
        active = self.ledger.active.get(run_id)
        if active is None:
            run = await self.store.get_run(run_id)
            if run is None:
                raise EngineError("not_found", f"no run {run_id}")
            raise EngineError("conflict", f"run {run_id} already ended {run.state}")
        for handle in self.ledger.cancel(run_id, self.clock(), f"cancelled by {requested_by or 'unknown'}"):
            handle.cancel()
        return active.run

    async def trip_breaker(self, service: str, by: str | None) -> BreakerState:
        return await self._breaker_changed(self.board.trip(service, self.clock(), by))

    async def reset_breaker(self, service: str) -> BreakerState:
        return await self._breaker_changed(self.board.reset(service, self.clock()))

    async def _breaker_changed(self, state: BreakerState) -> BreakerState:
        # The board has changed already, so the write must land; on a full disk it is held
        # and retried, and the operator's request is answered instead of hanging.
        await self.store.settled(self.ledger.record_breaker(state))
        self.wake()
        return state

    # ------------------------------------------------------------------ the pump

    @property
    def woken(self) -> bool:
        """Something changed since the last ``step`` that may let more work start."""
        return self._wake.is_set()

    def step(self, now: float) -> float | None:
        """Start whatever the scheduler allows at ``now``; returns when to look again
        (None: only when something changes, which sets ``woken``)."""
        self._wake.clear()
        for active in self.ledger.take(now):
            self._start_leaf(active, now)
        return self.scheduler.next_wakeup(now)

    async def _pump(self) -> None:
        """Start whatever the scheduler allows, then sleep until something changes."""
        while not self._stopping:
            wake_at: float | None = None
            try:
                wake_at = self.step(self.clock())
            except Exception:
                log.exception("engine pump failed; continuing")
            timeout = None if wake_at is None else max(0.0, wake_at - self.clock())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _start_leaf(self, active: ActiveRun, now: float) -> None:
        spec = active.spec
        attempt = self.ledger.begin_attempt(active, now)
        params = dict(spec.params)
        params.update(self.ledger.root_params(active))  # the trigger's params win
        problem = self.executor.refusal(spec)
        if problem is None and spec.kind == "python":
            problem = self.catalog.python.param_problem(spec, params)
        if problem is not None:
            self.ledger.complete_attempt(active, attempt, refused_outcome(problem, now), now)
            return
        handle = self.executor.start(spec, active.run.id, attempt.number, params)
        self.ledger.attempt_started(active, attempt, handle)

    async def _adapt(self) -> None:
        """Lower the effective worker count while the host is under CPU or memory pressure."""
        psutil.cpu_percent(None)
        while True:
            await asyncio.sleep(2.0)
            workers = effective_workers(
                self.settings.min_workers,
                self.settings.max_workers,
                psutil.cpu_percent(None),
                psutil.virtual_memory().percent,
            )
            if workers != self.scheduler.max_workers:
                log.info("adaptive concurrency: %d workers", workers)
                self.scheduler.max_workers = workers
                self.wake()
