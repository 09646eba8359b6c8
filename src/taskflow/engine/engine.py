"""The engine: turns triggers into run trees, runs their leaves, and records every transition.

It glues the pure decision core (``Scheduler``, ``ServiceBoard``, retry policy) to the side
effects (``ProcessExecutor``, ``Store``, ``EventBus``). The scheduler decides; the engine acts.
Every transition is saved through the store's group commit; run intents and terminal states
are published (acknowledged) only after their commit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from taskflow.engine import events
from taskflow.engine.breakers import ServiceBoard
from taskflow.engine.errors import EngineError
from taskflow.engine.events import EventBus
from taskflow.engine.executor import AttemptOutcome, ProcessExecutor, RunningAttempt
from taskflow.engine.hooks import apply_post_run, apply_pre_run
from taskflow.engine.pycheck import PythonChecks
from taskflow.engine.retry import retry_delay, should_retry
from taskflow.engine.runtree import PlannedRun, decode_spec, plan_run_tree, to_sched_runs
from taskflow.engine.scheduler import Scheduler, Transition
from taskflow.engine.users import user_problem
from taskflow.model import (
    Attempt,
    BreakerSettings,
    BreakerState,
    ErrorType,
    RetryPolicy,
    Run,
    RunState,
    TaskSet,
    TaskSpec,
    Trigger,
)
from taskflow.pytask.hooks import RunRejected
from taskflow.pytask.probe import IMPORT_TIMEOUT
from taskflow.store import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def settle_attempt(attempt: Attempt, outcome: AttemptOutcome, *, cancelled: bool) -> None:
    """Copy an attempt's outcome onto its record."""
    attempt.finished_at = outcome.finished_at
    attempt.exit_code = outcome.exit_code
    attempt.signal = outcome.signal
    attempt.error_type = outcome.error_type
    attempt.message = outcome.message
    attempt.peak_rss = outcome.peak_rss
    attempt.cpu_seconds = outcome.cpu_seconds
    attempt.output_bytes = outcome.output_bytes
    attempt.output_cut = outcome.output_cut
    attempt.result = outcome.result
    if cancelled:
        attempt.state = RunState.CANCELLED
    else:
        attempt.state = RunState.SUCCEEDED if outcome.error_type is None else RunState.FAILED


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(slots=True)
class ActiveRun:
    """A run of a tree that is not finished yet, with what the engine needs to drive it."""

    run: Run
    spec: TaskSpec
    handle: RunningAttempt | None = None
    attempt: Attempt | None = None
    cancel_requested: bool = False


@dataclass(slots=True)
class TaskStatus:
    """Whether a task may be triggered, and why not."""

    enabled: bool = True
    reason: str | None = None
    orphaned: bool = False


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
    """Hosts the scheduler and the executor for the daemon (or a test)."""

    def __init__(
        self,
        store: Store,
        executor: ProcessExecutor,
        settings: EngineSettings | None = None,
        *,
        bus: EventBus | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.settings = settings or EngineSettings()
        self.bus = bus or EventBus()
        self.rng = rng or random.Random()
        self.taskset = TaskSet()
        self.tasks: dict[str, TaskSpec] = {}
        self.status: dict[str, TaskStatus] = {}
        self.user_state: dict[str, tuple[bool, str | None]] = {}
        self.board = ServiceBoard({}, self.settings.breaker)
        self.scheduler = Scheduler(self.settings.max_workers, self._pool_limits(), self.board)
        self.active: dict[str, ActiveRun] = {}
        self.last_runs: dict[str, Run] = {}
        self.unsaved: dict[str, Run] = {}  # terminal states submitted, not yet durable
        self.python = PythonChecks(self.settings.python_path)
        self._seq = 0
        self._wake = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._watchers: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._adaptive_task: asyncio.Task[None] | None = None
        self.started_at = utcnow()
        from taskflow.engine.timers import ScheduleTimer

        self.timer = ScheduleTimer(self)
        self.executor.on_progress = self.on_progress

    # ------------------------------------------------------------------ lifecycle

    async def start(self, taskset: TaskSet | None = None) -> None:
        """Load persisted task states and breakers, reconcile in-flight runs, start the pump."""
        from taskflow.engine.recovery import reconcile_runs

        self.user_state = await self.store.task_states()
        self.board.restore(await self.store.breakers())
        self.last_runs = await self.store.last_runs_by_task()
        taskset = taskset or self.taskset
        self.update_tasks(taskset, await asyncio.to_thread(self.check_python, taskset))
        await reconcile_runs(self)
        self._pump_task = asyncio.create_task(self._pump(), name="taskflow-pump")
        await self.timer.start()
        if self.settings.adaptive:
            self._adaptive_task = asyncio.create_task(self._adapt(), name="taskflow-adaptive")

    async def stop(self, mode: str = "detach") -> None:
        """Stop starting work; ``detach`` leaves attempts running, ``stop`` ends them first."""
        self._stopping = True
        self._wake.set()
        await self.timer.stop()
        for task in (self._pump_task, self._adaptive_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if mode == "stop":
            await self.executor.stop_all()
            if self._watchers:
                await asyncio.wait(self._watchers, timeout=self.executor.stop_grace + 5)
        else:
            self.executor.detach_all()
            for watcher in tuple(self._watchers):
                watcher.cancel()
        self.executor.close()
        await self.store.flush()

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ definitions

    def _pool_limits(self) -> dict[str, int]:
        pools = dict(self.taskset.pools)
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
        self.taskset = taskset
        self.tasks = dict(taskset.tasks)
        self.scheduler.pools = self._pool_limits()
        self.board.update_settings(taskset.services, self.settings.breaker)
        self.python = python if python is not None else self.check_python(taskset)
        status: dict[str, TaskStatus] = {}
        for name, spec in self.tasks.items():
            st = TaskStatus(enabled=spec.enabled, reason=None if spec.enabled else "disabled in task file")
            if spec.kind == "python":
                problem = self.python.resolve_problem(spec)
                if problem is not None:
                    st = TaskStatus(enabled=False, reason=problem, orphaned=True)
            if name in self.user_state and not st.orphaned:
                enabled, reason = self.user_state[name]
                st = TaskStatus(enabled=enabled, reason=reason)
            status[name] = st
        self.status = status
        self.timer.reload()
        self.bus.publish(events.TASKS, None)

    def is_enabled(self, name: str) -> bool:
        st = self.status.get(name)
        return st is None or st.enabled

    def _refusal(self, name: str) -> str | None:
        """Why ``name`` cannot be triggered (it or an ancestor is disabled), or None."""
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            node = "/".join(parts[:depth])
            st = self.status.get(node)
            if st is not None and not st.enabled:
                why = f": {st.reason}" if st.reason else ""
                if node == name:
                    return f"task {name} is disabled{why}"
                return f"task {name} is disabled because {node} is disabled{why}"
        return None

    async def set_enabled(self, name: str, enabled: bool, reason: str | None, by: str | None) -> TaskStatus:
        if name not in self.tasks:
            raise EngineError("not_found", f"no task named {name!r}")
        current = self.status[name]
        if enabled and current.orphaned:
            raise EngineError("conflict", f"cannot enable {name}: {current.reason}")
        reason = None if enabled else (reason or f"disabled by {by or 'unknown'}")
        await self.store.set_task_state(name, enabled, reason, by)
        self.user_state[name] = (enabled, reason)
        self.status[name] = TaskStatus(enabled=enabled, reason=reason)
        self.bus.publish(events.TASKS, name)
        return self.status[name]

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
        table = tasks if tasks is not None else self.tasks
        spec = table.get(name)
        if spec is None:
            raise EngineError("not_found", f"no task named {name!r}")
        if tasks is None:
            refusal = self._refusal(name)
            if refusal:
                raise EngineError("conflict", refusal)
        try:
            params = apply_pre_run(spec, dict(params or {}))
        except RunRejected as exc:
            raise EngineError("conflict", f"run of {name} rejected by a pre-run hook: {exc}") from None
        if spec.kind == "python":
            problem = self.python.param_problem(spec, params)
            if problem is not None:
                raise EngineError("bad_request", f"{name}: {problem}")
        now = utcnow()
        planned = plan_run_tree(
            table,
            name,
            now=now,
            params=params,
            trigger=trigger,
            requested_by=requested_by,
            is_enabled=self.is_enabled if tasks is None else (lambda _n: True),
            carried_over=carried_over,
        )
        await self.store.save_runs((p.run for p in planned), new=True)
        self._admit(planned, time.time())
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
        first = command if isinstance(command, str) else command[0]
        label = name or (first.split() or ["exec"])[0].rsplit("/", 1)[-1] or "exec"
        spec = TaskSpec(
            name=f"@{label}",
            kind="command",
            command=command if isinstance(command, str) else tuple(command),
            timeout=timeout,
            retries=RetryPolicy(max=retries),
            cwd=cwd,
            description="ad-hoc command",
            source="exec",
        )
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
        snapshot: dict[str, TaskSpec] = {}
        for node in tree.walk():
            if node.run.spec:
                snapshot[node.run.task] = decode_spec(node.run.spec)
        use_files = root.task in self.tasks and root.trigger is not Trigger.ADHOC
        carried: dict[str, Run] = {}
        if failed_only:
            carried = {
                node.run.task: node.run
                for node in tree.walk()
                if node.run.state is RunState.SUCCEEDED and not node.children
            }
        return await self.trigger(
            root.task,
            root.params,
            trigger=Trigger.RERUN,
            requested_by=requested_by,
            tasks=None if use_files else snapshot,
            carried_over=carried,
        )

    def _admit(self, planned: list[PlannedRun], now: float) -> None:
        for p in planned:
            self.active[p.run.id] = ActiveRun(p.run, p.spec)
        sched = to_sched_runs(planned, self._seq)
        self._seq += len(sched)
        transitions = self.scheduler.add(sched, now)
        for p in planned:
            self.bus.publish(events.RUNS, p.run)
        self._apply(transitions, now)
        self._wake.set()

    # ------------------------------------------------------------------ cancelling

    async def cancel(self, run_id: str, requested_by: str | None = None) -> Run:
        active = self.active.get(run_id)
        if active is None:
            run = await self.store.get_run(run_id)
            if run is None:
                raise EngineError("not_found", f"no run {run_id}")
            raise EngineError("conflict", f"run {run_id} already ended {run.state}")
        now = time.time()
        transitions, to_kill = self.scheduler.cancel(run_id, now)
        by = f"cancelled by {requested_by or 'unknown'}"
        for rid in to_kill:
            victim = self.active.get(rid)
            if victim is not None:
                victim.cancel_requested = True
                victim.run.message = by
                if victim.handle is not None:
                    victim.handle.cancel()
        transitions = [
            t._replace(message=by) if t.state is RunState.CANCELLED and t.message is None else t
            for t in transitions
        ]
        self._apply(transitions, now)
        self._wake.set()
        return active.run

    # ------------------------------------------------------------------ breakers

    async def trip_breaker(self, service: str, by: str | None) -> BreakerState:
        state = self.board.trip(service, time.time(), by)
        await self._breaker_changed(state)
        self._wake.set()
        return state

    async def reset_breaker(self, service: str) -> BreakerState:
        state = self.board.reset(service, time.time())
        await self._breaker_changed(state)
        self._wake.set()
        return state

    async def _breaker_changed(self, state: BreakerState) -> None:
        # The board has changed already, so the write must land; on a full disk it is held
        # and retried, and the operator's request is answered instead of hanging.
        await self.store.settled(self.store.save_breaker(state))
        self.bus.publish(events.BREAKERS, state)

    # ------------------------------------------------------------------ the pump

    async def _pump(self) -> None:
        """Start whatever the scheduler allows, then sleep until something changes."""
        while not self._stopping:
            self._wake.clear()
            now = time.time()
            try:
                started, transitions = self.scheduler.take(now)
                self._apply(transitions, now)
                for state in self.board.take_changes():  # open -> half-open, probe taken
                    self.store.save_breaker(state)
                    self.bus.publish(events.BREAKERS, state)
                for sched_run in started:
                    self._start_leaf(sched_run.id, now)
            except Exception:
                log.exception("engine pump failed; continuing")
            wake_at = self.scheduler.next_wakeup(time.time())
            timeout = None if wake_at is None else max(0.0, wake_at - time.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _start_leaf(self, run_id: str, now: float) -> None:
        active = self.active[run_id]
        run, spec = active.run, active.spec
        run.state = RunState.RUNNING
        run.not_before = None
        if run.started_at is None:
            run.started_at = _dt(now)
        run.attempts += 1
        params = self._effective_params(active)
        problem = user_problem(spec.user, python=spec.kind == "python") if spec.user else None
        if problem is None and spec.kind == "python":
            problem = self.python.param_problem(spec, params)
        if problem is not None:
            outcome = AttemptOutcome(
                exit_code=None,
                signal=None,
                error_type=ErrorType.CONFIG,
                message=problem,
                peak_rss=None,
                cpu_seconds=None,
                finished_at=utcnow(),
            )
            attempt = Attempt(run_id=run.id, number=run.attempts, started_at=_dt(now))
            self._complete_attempt(active, attempt, outcome)
            return
        handle = self.executor.start(spec, run.id, run.attempts, params)
        attempt = Attempt(
            run_id=run.id,
            number=run.attempts,
            pid=handle.pid,
            pid_started_at=handle.pid_started_at,
            started_at=handle.started_at,
            output_dir=handle.output_dir,
        )
        active.handle, active.attempt = handle, attempt
        self.store.save_runs((run,))
        self.store.save_attempt(attempt)
        self.bus.publish(events.RUNS, run)
        self.bus.publish(events.ATTEMPTS, attempt)
        self.watch(active, handle, attempt)

    def watch(self, active: ActiveRun, handle: RunningAttempt, attempt: Attempt) -> None:
        """Await ``handle`` in the background and complete the attempt when it ends."""
        active.handle, active.attempt = handle, attempt
        task = asyncio.create_task(self._watch(active, handle, attempt))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, active: ActiveRun, handle: RunningAttempt, attempt: Attempt) -> None:
        outcome = await handle.wait()
        if outcome is None:  # detached: the daemon is stopping and leaves it running
            return
        self._complete_attempt(active, attempt, outcome)

    def _effective_params(self, active: ActiveRun) -> dict[str, Any]:
        """The leaf's own params, overridden by the params its root run was triggered with."""
        params = dict(active.spec.params)
        root = self.active.get(active.run.root_id)
        if root is not None:
            params.update(root.run.params)
        return params

    # ------------------------------------------------------------------ completion

    def _complete_attempt(self, active: ActiveRun, attempt: Attempt, outcome: AttemptOutcome) -> None:
        """Record an attempt's outcome; retry, or finish the run and cascade."""
        run, spec = active.run, active.spec
        now = time.time()
        if outcome.cancelled:
            active.cancel_requested = True
        success = outcome.error_type is None and not active.cancel_requested
        settle_attempt(attempt, outcome, cancelled=active.cancel_requested)
        active.handle = None
        self.store.save_attempt(attempt)
        self.bus.publish(events.ATTEMPTS, attempt)

        if spec.service and not active.cancel_requested and outcome.error_type is not ErrorType.CONFIG:
            changed = self.board.record(spec.service, run.id, success, now)
            if changed is not None:
                self.store.save_breaker(changed)
                self.bus.publish(events.BREAKERS, changed)

        run.exit_code = outcome.exit_code
        run.result = outcome.result
        run.message = outcome.message if not active.cancel_requested else run.message
        if active.cancel_requested:
            state = RunState.CANCELLED
        elif success:
            state = RunState.SUCCEEDED
            run.error_type = None
        else:
            exception_type = (outcome.exception or {}).get("type") if outcome.exception else None
            if not self._stopping and should_retry(
                spec.retries, attempt.number, outcome.error_type, outcome.exit_code, exception_type
            ):
                delay = retry_delay(spec.retries, attempt.number, self.rng)
                run.not_before = _dt(now + delay)
                run.error_type = outcome.error_type
                run.message = f"{outcome.message}; retry {attempt.number}/{spec.retries.max} in {delay:.1f}s"
                self._apply(
                    self.scheduler.retry_later(run.id, now + delay),
                    now,
                    extra=(run,),
                    own=(run.id, RunState.RETRYING),
                )
                self._wake.set()
                return
            state = RunState.FAILED
            run.error_type = outcome.error_type
        self._apply(self.scheduler.finished(run.id, state, now), now, extra=(run,), own=(run.id, state))
        self._wake.set()

    def _apply(
        self,
        transitions: Iterable[Transition],
        now: float,
        *,
        extra: Iterable[Run] = (),
        own: tuple[str, RunState] | None = None,
    ) -> None:
        """Apply scheduler transitions to runs, persist them, publish them.

        Terminal states are published only after their commit (they are acknowledgements);
        other states are published at once.
        """
        changed: dict[str, Run] = {r.id: r for r in extra}
        if own is not None:
            run = self.active[own[0]].run
            self._set_state(run, own[1], now)
            changed[run.id] = run
        for t in transitions:
            active = self.active.get(t.run_id)
            if active is None:
                continue
            run = active.run
            self._set_state(run, t.state, now)
            if t.skip_reason is not None:
                run.skip_reason = t.skip_reason
            if t.error_type is not None:
                run.error_type = t.error_type
            if t.message is not None:
                run.message = t.message
            changed[run.id] = run
        if not changed:
            return
        runs = list(changed.values())
        terminal = [r for r in runs if r.state.terminal]
        for r in runs:
            if not r.state.terminal:
                self.bus.publish(events.RUNS, r)
        commit = self.store.save_runs(runs)
        if terminal:
            self._after_commit(commit, terminal)

    def _set_state(self, run: Run, state: RunState, now: float) -> None:
        if run.state is state:
            return
        run.state = state
        if state is RunState.RUNNING and run.started_at is None:
            run.started_at = _dt(now)
        if state.terminal:
            run.finished_at = run.finished_at or _dt(now)
            run.progress = 1.0 if state is RunState.SUCCEEDED and run.progress is not None else run.progress

    def _after_commit(self, commit: asyncio.Future[None], runs: list[Run]) -> None:
        # Until the commit lands these terminal states exist only here; reads overlay them
        # (``unsaved``) so `show` and `status` tell the truth while a full disk holds them.
        for run in runs:
            self.unsaved[run.id] = run

        def done(fut: asyncio.Future[None]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                log.error("could not persist terminal states of %d runs: %s", len(runs),
                          "cancelled" if fut.cancelled() else fut.exception())
            for run in runs:
                if self.unsaved.get(run.id) is run:
                    del self.unsaved[run.id]
            for run in runs:
                self.last_runs[run.task] = run
                self.bus.publish(events.RUNS, run)
                if run.parent_id is None:
                    self._tree_finished(run)

        commit.add_done_callback(done)

    def _tree_finished(self, root: Run) -> None:
        self.scheduler.forget(root.id)
        for rid in [rid for rid, a in self.active.items() if a.run.root_id == root.id]:
            del self.active[rid]
        apply_post_run(root)

    async def _adapt(self) -> None:
        """Lower the effective worker count while the host is under CPU or memory pressure."""
        import psutil

        from taskflow.engine.adaptive import effective_workers

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
                self._wake.set()

    # ------------------------------------------------------------------ progress and views

    def on_progress(self, run_id: str, fraction: float, message: str | None) -> None:
        """Executor callback: a Python task reported progress."""
        active = self.active.get(run_id)
        if active is None:
            return
        active.run.progress = fraction
        active.run.progress_message = message
        self.store.save_runs((active.run,))
        self.bus.publish(events.RUNS, active.run)

    def active_runs_of(self, task: str) -> list[Run]:
        return [a.run for a in self.active.values() if a.run.task == task]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.active.values():
            out[a.run.state.value] = out.get(a.run.state.value, 0) + 1
        return out

    @property
    def busy(self) -> int:
        return self.scheduler.running
