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
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import psutil

from taskflow.engine.catalog import TaskCatalog, TaskStatus
from taskflow.engine.decision.adaptive import effective_workers
from taskflow.engine.decision.breakers import ServiceBoard
from taskflow.engine.decision.marking import MARK_STATES, MarkRefused
from taskflow.engine.decision.runtree import PlannedRun, adhoc_spec, decode_spec, plan_rerun, plan_run_tree
from taskflow.engine.decision.scheduler import Pauses, Scheduler
from taskflow.engine.errors import EngineError
from taskflow.engine.events import EngineEvent, EventBus, PausesChanged, RunUpdated, TaskChanged, TasksUpdated
from taskflow.engine.executor import Executor, OutputChunk
from taskflow.engine.hooks import apply_post_run, apply_pre_run
from taskflow.engine.ledger import ActiveRun, RunLedger, as_datetime, refused_outcome
from taskflow.engine.pycheck import PythonChecks
from taskflow.engine.recovery import reconcile_runs
from taskflow.engine.results import slot_env, upstream_env
from taskflow.engine.timers import ScheduleTimer
from taskflow.model import BreakerSettings, BreakerState, Run, RunState, StopMode, TaskSet, TaskSpec, Trigger
from taskflow.pytask.history import HISTORY_KEY, HISTORY_LIMIT
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
        # Ended runs of Python tasks that take a ``taskflow.History``, newest first, as given
        # to their next attempts; read from the store once per task, then kept up to date.
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self.bus.subscribe(self._remember_ended)

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

    def mark_late(self, run_id: str, at: float) -> Run | None:
        """A run in flight went past its task's ``expect``; see ``RunLedger.record_late``."""
        return self.ledger.record_late(run_id, at)

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
        await self._load_history(self.catalog.tasks.values())
        self.scheduler.set_pauses(_pauses_from(await self.store.get_meta(PAUSES_KEY)))
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
        start_at: float | None = None,
        priority: int | None = None,
        scheduled_at: datetime | None = None,
        after: str | None = None,
    ) -> Run:
        """Create a run tree for ``name``; returns its root run once the intent is durable.

        ``start_at`` delays the start: the root waits ``pending`` with ``not_before`` until
        then (a *scheduled* run). ``priority`` overrides every run's priority in the tree.
        ``scheduled_at``: the schedule slot the tree runs for (every run of it records it;
        its leaves get ``TASKFLOW_SCHEDULED_AT``). ``after``: the root waits ``pending`` until
        that run has ended (backfill slots, one at a time)."""
        if self._stopping:
            raise EngineError("unavailable", "the daemon is shutting down and accepts no new runs")
        if priority is not None and not 0 <= priority <= 3:
            raise EngineError("bad_request", f"priority must be 0 (urgent) to 3 (low), got {priority}")
        if start_at is not None and start_at < self.clock() - 5:
            raise EngineError("bad_request", f"start time {as_datetime(start_at).isoformat()} is in the past")
        table = tasks if tasks is not None else self.catalog.tasks
        _, params = self.checked_trigger(name, params, tasks)
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
        if priority is not None:
            for p in planned:
                p.run.priority = priority
        if scheduled_at is not None:
            for p in planned:
                p.run.scheduled_at = scheduled_at
        planned[0].run.after_run = after
        if start_at is not None and start_at > self.clock():
            planned[0].run.not_before = as_datetime(start_at)
        await self._load_history(p.spec for p in planned)
        await self.store.save_runs((p.run for p in planned), new=True)
        self.ledger.admit(planned, self.clock())
        return planned[0].run

    def checked_trigger(
        self, name: str, params: Mapping[str, Any] | None = None, tasks: Mapping[str, TaskSpec] | None = None
    ) -> tuple[TaskSpec, dict[str, Any]]:
        """What ``trigger`` checks before it plans (shared with ``taskflow plan``): the task
        exists and may be triggered, the pre-run hooks accept the params (and may adjust
        them), a Python task's function takes them. Returns the spec and the final params."""
        spec = (tasks if tasks is not None else self.catalog.tasks).get(name)
        if spec is None:
            raise EngineError("not_found", f"no task named {name!r}")
        if tasks is None:
            refusal = self.catalog.refusal(name)
            if refusal:
                raise EngineError("conflict", refusal)
        try:
            checked = apply_pre_run(spec, dict(params or {}))
        except RunRejected as exc:
            raise EngineError("conflict", f"run of {name} rejected by a pre-run hook: {exc}") from None
        if spec.kind == "python":
            problem = self.catalog.python.param_problem(spec, checked)
            if problem is not None:
                raise EngineError("bad_request", f"{name}: {problem}")
        return spec, checked

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
            scheduled_at=root.scheduled_at,  # a rerun of a slot's run is for the same slot
        )

    # ------------------------------------------------------------------ pausing

    @property
    def pauses(self) -> Pauses:
        return self.scheduler.pauses

    def is_paused(self, name: str) -> bool:
        """True when ``name``'s schedule holds its fires: everything or the task (or a group
        above it) is paused. A paused pool's tasks still fire; their runs wait queued."""
        pauses = self.scheduler.pauses
        return pauses.all or pauses.holds_task(name)

    def holds(self, spec: TaskSpec) -> bool:
        """True when queued runs of ``spec`` wait because of a pause or a pool limit of 0."""
        pool = spec.pool
        return self.scheduler.pauses.holds(spec.name, pool) or (pool is not None and self.scheduler.pool_paused(pool))

    async def pause(self, *, everything: bool = False, pool: str | None = None, task: str | None = None) -> Pauses:
        """Hold queued work of everything, a pool or a task; persisted across restarts."""
        now = self._pause_target(everything, pool, task)
        return await self._set_pauses(Pauses(
            all=now.all or everything,
            pools=now.pools | ({pool} if pool else set()),
            tasks=now.tasks | ({task} if task else set()),
        ))

    async def resume(self, *, everything: bool = False, pool: str | None = None, task: str | None = None) -> Pauses:
        """Lift a pause (``all``: every pause); held runs start, missed schedule fires
        follow their task's ``missed`` policy."""
        now = self._pause_target(everything, pool, task)
        if everything:
            return await self._set_pauses(Pauses())
        if pool and pool not in now.pools:
            raise EngineError("conflict", f"pool {pool} is not paused" + (
                " (its configured limit is 0: raise it in the config)" if self.scheduler.pools.get(pool) == 0 else ""))
        if task and task not in now.tasks:
            raise EngineError("conflict", f"task {task} is not paused")
        return await self._set_pauses(Pauses(all=now.all, pools=now.pools - {pool}, tasks=now.tasks - {task}))

    def _pause_target(self, everything: bool, pool: str | None, task: str | None) -> Pauses:
        if sum((everything, pool is not None, task is not None)) != 1:
            raise EngineError("bad_request", "name exactly one of all, a pool or a task")
        if task is not None and task not in self.catalog.tasks:
            raise EngineError("not_found", f"no task named {task!r}")
        if pool is not None and pool not in self.scheduler.pools and all(
            spec.pool != pool for spec in self.catalog.tasks.values()
        ):
            raise EngineError("not_found", f"no pool named {pool!r} (no task uses it and no limit names it)")
        return self.scheduler.pauses

    async def _set_pauses(self, pauses: Pauses) -> Pauses:
        record = {"all": pauses.all, "pools": sorted(pauses.pools), "tasks": sorted(pauses.tasks)}
        await self.store.settled(self.store.set_meta(PAUSES_KEY, json.dumps(record)))
        specs = self.catalog.tasks.values()
        held_before = {spec.name for spec in specs if self.holds(spec)}
        self.scheduler.set_pauses(pauses)
        changed = held_before ^ {spec.name for spec in specs if self.holds(spec)}
        self.timer.reload()  # resumed schedules fire what they missed, by their policy
        self.bus.publish(TasksUpdated())
        self.bus.publish(PausesChanged(tuple(sorted(changed)) if len(changed) <= PAUSE_CHANGES_LISTED else None))
        self.wake()
        return pauses

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

    async def mark(self, run_id: str, state: RunState, reason: str, requested_by: str | None = None) -> Run:
        """Mark an ended run that did not succeed ``succeeded`` or ``skipped`` (``taskflow
        mark``): its dependents skipped because of it run, its groups are decided again.
        Answered once the mark is durable."""
        if self._stopping:
            raise EngineError("unavailable", "the daemon is shutting down and accepts no marks")
        if state not in MARK_STATES:
            raise EngineError("bad_request", f"a run can be marked succeeded or skipped, not {state}")
        reason = reason.strip()
        if not reason:
            raise EngineError("bad_request", "a mark needs a reason (--reason TEXT)")
        stored: list[PlannedRun] | None = None
        if run_id not in self.ledger.active:
            await self.store.flush()
            run = await self.store.get_run(run_id)
            tree = None if run is None else await self.store.run_tree(run.root_id)
            if tree is None:
                raise EngineError("not_found", f"no run {run_id}")
            stored = [PlannedRun(node.run, self._spec_of(node.run)) for node in tree.walk()]
        if run_id in self.ledger.active:  # its tree came back in flight while it was read
            stored = None
        try:
            marked, commit = self.ledger.mark(
                run_id, state, by=requested_by or "unknown", reason=reason, now=self.clock(), stored=stored
            )
        except MarkRefused as exc:
            raise EngineError("conflict", str(exc)) from None
        await self.store.settled(commit)
        return marked

    def _spec_of(self, run: Run) -> TaskSpec:
        """The spec a stored run ran with: its snapshot, else today's definition."""
        if run.spec:
            return decode_spec(run.spec)
        spec = self.catalog.tasks.get(run.task)
        if spec is None:
            raise EngineError("conflict", f"run {run.id} ({run.task}) cannot be reopened: its task definition is gone")
        return spec

    async def trip_breaker(self, service: str, by: str | None) -> BreakerState:
        return await self._breaker_changed(self.board.trip(service, self.clock(), by))

    async def reset_breaker(self, service: str) -> BreakerState:
        if not self.board.knows(service) and all(spec.service != service for spec in self.catalog.tasks.values()):
            # A typo must not answer "closed" and leave a breaker (and a metric series) behind.
            raise EngineError("not_found", f"no service named {service!r} (no task names it and it has no breaker)")
        return await self._breaker_changed(self.board.reset(service, self.clock()))

    def breaker_states(self) -> list[BreakerState]:
        """Every breaker as of now: an open one past its cooldown is ``half_open``."""
        states = self.board.states(self.clock())
        for state in self.board.take_changes():
            self.ledger.record_breaker(state)
        return states

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
        if spec.name in self._history and self.catalog.python.wants_history(spec):
            params[HISTORY_KEY] = list(self._history[spec.name])
        if active.run.scheduled_at is not None:  # the slot a scheduled or backfill run is for
            spec = msgspec.structs.replace(spec, env={**spec.env, **slot_env(active.run.scheduled_at)})
        if spec.depends_on:  # results that flow: where each dependency's result is
            spec = msgspec.structs.replace(
                spec, env={**spec.env, **upstream_env(self.ledger.upstream(active), self.executor.locate_output)}
            )
        handle = self.executor.start(spec, active.run.id, attempt.number, params)
        self.ledger.attempt_started(active, attempt, handle)

    # ------------------------------------------------------------------ task history

    async def _load_history(self, specs: Iterable[TaskSpec]) -> None:
        """Read the ended runs of each Python task of ``specs`` that takes a History and
        whose history is not kept yet."""
        for spec in specs:
            if spec.name in self._history or not self.catalog.python.wants_history(spec):
                continue
            runs = await self.store.list_runs(task=spec.name, roots_only=False, limit=HISTORY_LIMIT * 2)
            ended = [_past_run(run) for run in runs if run.state.terminal][:HISTORY_LIMIT]
            self._history.setdefault(spec.name, deque(ended, maxlen=HISTORY_LIMIT))

    def _remember_ended(self, event: EngineEvent) -> None:
        """A run of a task whose history is kept ended (durably): it goes first in it."""
        if isinstance(event, RunUpdated) and event.run.state.terminal:
            kept = self._history.get(event.run.task)
            if kept is not None and not any(past["id"] == event.run.id for past in kept):
                kept.appendleft(_past_run(event.run))

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


def _past_run(run: Run) -> dict[str, Any]:
    """A run as ``taskflow.PastRun`` reads it (JSON-safe; times RFC 3339)."""
    return {
        "id": run.id, "state": run.state.value, "trigger": run.trigger.value,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error_type": run.error_type.value if run.error_type else None,
        "exit_code": run.exit_code, "message": run.message, "result": run.result,
    }


#: The store's meta key of the pauses (JSON: all, pools, tasks).
PAUSES_KEY = "pauses"

#: A pause that holds or frees more tasks than this is announced as "list the tasks again".
PAUSE_CHANGES_LISTED = 200


def _pauses_from(text: str | None) -> Pauses:
    """The pauses as the store kept them; none when never set (or unreadable)."""
    if not text:
        return Pauses()
    try:
        record = json.loads(text)
        return Pauses(all=bool(record.get("all")), pools=frozenset(record.get("pools", ())),
                      tasks=frozenset(record.get("tasks", ())))
    except (ValueError, AttributeError, TypeError):
        log.error("the stored pauses cannot be read (%r); starting with none", text[:200])
        return Pauses()
