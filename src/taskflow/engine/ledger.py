"""The run ledger: the one owner of in-flight runs and of every change to them.

It holds the active runs of every unfinished tree, hands out scheduling sequence numbers,
applies the scheduler's transitions, completes attempts (retry or finish, breaker record),
saves every change through the store's group commit and publishes it — non-terminal states
at once, terminal states only after their commit (they are acknowledgements). The engine,
recovery and the schedule timer change runs only through these methods; readers get
read-only views (``active``, ``last_runs``, ``unsaved``).

No process code: attempts are ``AttemptHandle``\\ s of the ``Executor`` protocol.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol

from taskflow.engine.decision.breakers import ServiceBoard
from taskflow.engine.decision.marking import MarkRefused, plan_mark
from taskflow.engine.decision.retry import retry_delay, should_retry
from taskflow.engine.decision.runtree import PlannedRun, to_sched_runs
from taskflow.engine.decision.scheduler import SchedRun, Scheduler, Transition
from taskflow.engine.events import AttemptUpdated, BreakerChanged, EventBus, RunUpdated
from taskflow.engine.executor import AttemptHandle, AttemptOutcome
from taskflow.model import Attempt, BreakerState, ErrorType, Run, RunState, SkipReason, TaskSpec

log = logging.getLogger(__name__)


def as_datetime(ts: float) -> datetime:
    """A POSIX timestamp as an aware UTC datetime (how runs record times)."""
    return datetime.fromtimestamp(ts, UTC)


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
    attempt.traceback = (outcome.exception or {}).get("traceback") or None
    if cancelled:
        attempt.state = RunState.CANCELLED
    else:
        attempt.state = RunState.SUCCEEDED if outcome.error_type is None else RunState.FAILED


def refused_outcome(problem: str, now: float) -> AttemptOutcome:
    """The outcome of an attempt that could not begin because of its configuration."""
    return AttemptOutcome(
        exit_code=None,
        signal=None,
        error_type=ErrorType.CONFIG,
        message=problem,
        peak_rss=None,
        cpu_seconds=None,
        finished_at=as_datetime(now),
    )


@dataclass(slots=True)
class ActiveRun:
    """A run of a tree that is not finished yet, with what the engine needs to drive it."""

    run: Run
    spec: TaskSpec
    handle: AttemptHandle | None = None
    attempt: Attempt | None = None
    cancel_requested: bool = False


class RunRecords(Protocol):
    """What the ledger needs of the store: queued writes, each a future of its commit."""

    def save_runs(self, runs: Iterable[Run], *, new: bool = False) -> asyncio.Future[None]: ...
    def save_attempt(self, attempt: Attempt) -> asyncio.Future[None]: ...
    def save_breaker(self, state: BreakerState) -> asyncio.Future[None]: ...


class RunLedger:
    """Active runs, their transitions and their publication."""

    def __init__(
        self,
        records: RunRecords,
        scheduler: Scheduler,
        board: ServiceBoard,
        bus: EventBus,
        *,
        clock: Callable[[], float],
        rng: random.Random,
        wake: Callable[[], None],
        on_tree_end: Callable[[Run], None],
    ) -> None:
        """``wake`` is called after every change that may let more work start;
        ``on_tree_end`` with each root run once its terminal state is durable."""
        self.records = records
        self.scheduler = scheduler
        self.board = board
        self.bus = bus
        self.clock = clock
        self.rng = rng
        self.retries_allowed = True  # off while the daemon stops: no new attempts then
        self._wake = wake
        self._on_tree_end = on_tree_end
        self._active: dict[str, ActiveRun] = {}
        self._places: dict[tuple[str | None, str], str] = {}  # (parent run, task) -> run id, below roots
        self._last_runs: dict[str, Run] = {}
        self._unsaved: dict[str, Run] = {}  # terminal states submitted, not yet durable
        self._seq = 0
        self._followers: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ read-only views

    @property
    def active(self) -> Mapping[str, ActiveRun]:
        return MappingProxyType(self._active)

    @property
    def last_runs(self) -> Mapping[str, Run]:
        """The latest durable terminal run of each task."""
        return MappingProxyType(self._last_runs)

    @property
    def unsaved(self) -> Mapping[str, Run]:
        """Terminal states submitted but not yet durable (a full disk holds them)."""
        return MappingProxyType(self._unsaved)

    @property
    def followers(self) -> frozenset[asyncio.Task[None]]:
        """The tasks awaiting running attempts."""
        return frozenset(self._followers)

    def active_runs_of(self, task: str) -> list[Run]:
        return [a.run for a in self._active.values() if a.run.task == task]

    def root_params(self, active: ActiveRun) -> Mapping[str, Any]:
        """The params the tree of ``active`` was triggered with."""
        root = self._active.get(active.run.root_id)
        return root.run.params if root is not None else {}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self._active.values():
            out[a.run.state.value] = out.get(a.run.state.value, 0) + 1
        return out

    def remember(self, last_runs: Mapping[str, Run]) -> None:
        """The latest terminal run of each task, as the store had them at start."""
        self._last_runs.update(last_runs)

    # ------------------------------------------------------------------ admitting trees

    def admit(self, planned: list[PlannedRun], now: float) -> None:
        """A new run tree, already durable: publish it and let the scheduler see it."""
        self._register(planned)
        transitions = self.scheduler.add(self._sched_runs(planned), now)
        for p in planned:
            self.bus.publish(RunUpdated(p.run))
        self._apply(transitions, now)
        self._wake()

    def restore(self, planned: list[PlannedRun], now: float) -> None:
        """A run tree found in flight after a restart (recovery)."""
        self._register(planned)
        self._apply(self.scheduler.add(self._sched_runs(planned), now), now)
        self._wake()

    def _register(self, planned: Iterable[PlannedRun]) -> None:
        for p in planned:
            self._active[p.run.id] = ActiveRun(p.run, p.spec)
            if p.run.parent_id is not None:
                self._places[(p.run.parent_id, p.spec.name)] = p.run.id

    def upstream(self, active: ActiveRun) -> list[tuple[str, Run]]:
        """The runs of the siblings ``active`` depends on, with their task names."""
        out: list[tuple[str, Run]] = []
        for dep in active.spec.depends_on:
            sibling = self._active.get(self._places.get((active.run.parent_id, dep.task), ""))
            if sibling is not None:
                out.append((dep.task, sibling.run))
        return out

    def _sched_runs(self, planned: list[PlannedRun]) -> list[SchedRun]:
        sched = to_sched_runs(planned, self._seq)
        self._seq += len(sched)
        for p, view in zip(planned, sched, strict=True):
            view.after = p.run.after_run  # a backfill slot waits for the run before it
        return sched

    # ------------------------------------------------------------------ starting

    def take(self, now: float) -> list[ActiveRun]:
        """The leaves the scheduler lets start now, with every transition that came with it."""
        started, transitions = self.scheduler.take(now)
        self._apply(transitions, now)
        for state in self.board.take_changes():  # open -> half-open, probe taken
            self.record_breaker(state)
        return [self._active[s.id] for s in started]

    def begin_attempt(self, active: ActiveRun, now: float) -> Attempt:
        """Mark ``active`` running with its next attempt; returns that attempt's record."""
        run = active.run
        run.state = RunState.RUNNING
        run.not_before = None
        if run.started_at is None:
            run.started_at = as_datetime(now)
        run.attempts += 1
        return Attempt(run_id=run.id, number=run.attempts, started_at=as_datetime(now))

    def attempt_started(self, active: ActiveRun, attempt: Attempt, handle: AttemptHandle) -> None:
        """The attempt is under way: record it, publish it and follow it to its end."""
        attempt.pid = handle.pid
        attempt.pid_started_at = handle.pid_started_at
        attempt.started_at = handle.started_at
        attempt.output_dir = handle.output_dir
        self.records.save_runs((active.run,))
        self.records.save_attempt(attempt)
        self.bus.publish(RunUpdated(active.run))
        self.bus.publish(AttemptUpdated(attempt, active.run.root_id))
        self.follow(active, handle, attempt)

    def follow(self, active: ActiveRun, handle: AttemptHandle, attempt: Attempt) -> None:
        """Await ``handle`` in the background and complete the attempt when it ends."""
        active.handle, active.attempt = handle, attempt
        task = asyncio.create_task(self._follow(active, handle, attempt))
        self._followers.add(task)
        task.add_done_callback(self._followers.discard)

    async def _follow(self, active: ActiveRun, handle: AttemptHandle, attempt: Attempt) -> None:
        outcome = await handle.wait()
        if outcome is None:  # detached: the daemon is stopping and leaves it running
            return
        self.complete_attempt(active, attempt, outcome, self.clock())

    # ------------------------------------------------------------------ ending

    def complete_attempt(self, active: ActiveRun, attempt: Attempt, outcome: AttemptOutcome, now: float) -> None:
        """Record an attempt's outcome; retry, or finish the run and cascade."""
        run, spec = active.run, active.spec
        if outcome.cancelled:
            active.cancel_requested = True
        cancelled = active.cancel_requested
        success = outcome.error_type is None and not cancelled
        settle_attempt(attempt, outcome, cancelled=cancelled)
        active.handle = None
        active.attempt = attempt
        self.records.save_attempt(attempt)
        self.bus.publish(AttemptUpdated(attempt, run.root_id))

        if spec.service and not cancelled and outcome.error_type is not ErrorType.CONFIG:
            changed = self.board.record(spec.service, run.id, success, now)
            if changed is not None:
                self.record_breaker(changed)
        elif spec.service:
            # Says nothing about the service (cancelled, or refused before it began): a probe
            # slot it held goes back, or the breaker would wait for this run forever.
            self.board.release(spec.service, run.id, now)

        run.exit_code = outcome.exit_code
        run.result = outcome.result
        run.message = outcome.message if not cancelled else run.message
        if cancelled:
            state = RunState.CANCELLED
        elif success:
            state = RunState.SUCCEEDED
            run.error_type = None
        else:
            exception_type = (outcome.exception or {}).get("type") if outcome.exception else None
            if self.retries_allowed and outcome.error_type is not None and should_retry(
                spec.retries, attempt.number, outcome.error_type, outcome.exit_code, exception_type
            ):
                delay = retry_delay(spec.retries, attempt.number, self.rng)
                run.not_before = as_datetime(now + delay)
                run.error_type = outcome.error_type
                run.message = f"{outcome.message}; retry {attempt.number}/{spec.retries.max} in {delay:.1f}s"
                self._apply(self.scheduler.retry_later(run.id, now + delay), now, own=(run, RunState.RETRYING))
                self._wake()
                return
            state = RunState.FAILED
            run.error_type = outcome.error_type
        self._apply(self.scheduler.finished(run.id, state, now), now, own=(run, state))
        self._wake()

    def interrupt(self, active: ActiveRun, now: float, message: str) -> None:
        """End a run whose outcome is lost (recovery found no trace of how it ended)."""
        attempt = active.attempt
        if attempt is not None and attempt.finished_at is None:
            attempt.state = RunState.INTERRUPTED
            attempt.finished_at = as_datetime(now)
            attempt.message = message
            self.records.save_attempt(attempt)
        active.run.message = message
        active.run.error_type = None
        self._apply(
            self.scheduler.finished(active.run.id, RunState.INTERRUPTED, now),
            now,
            own=(active.run, RunState.INTERRUPTED),
        )
        self._wake()

    def cancel(self, run_id: str, now: float, by: str) -> list[AttemptHandle]:
        """Cancel ``run_id`` and what depends on it; returns the running attempts to stop."""
        transitions, to_kill = self.scheduler.cancel(run_id, now)
        handles: list[AttemptHandle] = []
        for rid in to_kill:
            victim = self._active.get(rid)
            if victim is not None:
                victim.cancel_requested = True
                victim.run.message = by
                if victim.handle is not None:
                    handles.append(victim.handle)
        transitions = [
            t._replace(message=by) if t.state is RunState.CANCELLED and t.message is None else t
            for t in transitions
        ]
        self._apply(transitions, now)
        self._wake()
        return handles

    def mark(
        self, run_id: str, state: RunState, *, by: str, reason: str, now: float,
        stored: list[PlannedRun] | None = None,
    ) -> tuple[Run, asyncio.Future[None]]:
        """Mark an ended run ``state`` (``taskflow mark``) and reopen its tree as
        ``decision.marking`` plans it; returns the run and the future of the mark's commit.

        ``stored`` is the run's whole tree as the store has it, for a tree that already ended
        (not in the ledger any more). The changed runs are saved in one write; then the tree
        is handed to the scheduler afresh from its runs' states — exactly what recovery would
        do with them after a crash — so released runs start and groups are decided again.
        Raises ``MarkRefused`` when the run may not be marked."""
        active = self._active.get(run_id)
        if active is not None:
            root_id = active.run.root_id
            members = [PlannedRun(a.run, a.spec) for a in self._active.values() if a.run.root_id == root_id]
            parent_id = active.run.parent_id
            while parent_id is not None and parent_id in self._active:
                sched = self.scheduler.get(parent_id)
                if sched is not None and sched.cancelling and not sched.state.terminal:
                    raise MarkRefused(f"run {run_id} is in a tree being cancelled; wait until it ends")
                parent_id = self._active[parent_id].run.parent_id
        elif stored is not None:
            members = stored
        else:
            raise MarkRefused(f"no run {run_id}")
        plan = plan_mark(members, run_id, state)
        by_id = {p.run.id: p.run for p in members}
        target = by_id[run_id]
        target.marked_from, target.marked_by, target.marked_reason = target.state, by, reason
        target.marked_at = as_datetime(now)
        target.state = state
        target.skip_reason = SkipReason.MARKED if state is RunState.SKIPPED else None
        target.error_type = None
        for rid in (*plan.released, *plan.reopened):
            run = by_id[rid]
            run.state = RunState.PENDING if rid in plan.released else RunState.RUNNING
            run.skip_reason = run.error_type = run.message = run.finished_at = None
        for rid, message in plan.messages.items():
            by_id[rid].message = message
        changed = [target, *(by_id[rid] for rid in (*plan.released, *plan.reopened, *plan.messages))]

        if active is not None:
            cancelling = {p.run.id for p in members if (s := self.scheduler.get(p.run.id)) is not None and s.cancelling}
            self.scheduler.forget(target.root_id)  # re-added below from the new states
        else:
            cancelling = set()
            self._register(members)
        sched_runs = self._sched_runs(members)
        for sched in sched_runs:
            sched.cancelling = sched.id in cancelling
        commit = self.records.save_runs(changed)
        for run in changed:
            if not run.state.terminal:
                self.bus.publish(RunUpdated(run))
        self._after_commit(commit, [run for run in changed if run.state.terminal])
        self._apply(self.scheduler.add(sched_runs, now), now)
        self._wake()
        return target, commit

    # ------------------------------------------------------------------ other records

    def record_start(self, run: Run, attempt: Attempt) -> None:
        """Save a run and an attempt that recovery rebuilt from traces on disk."""
        self.records.save_runs((run,))
        self.records.save_attempt(attempt)

    def record_attempt(self, attempt: Attempt) -> None:
        """Save an attempt record that recovery settled."""
        self.records.save_attempt(attempt)

    def record_placement(
        self, run_id: str, number: int, worker: str, pid: int | None, pid_started_at: float | None
    ) -> None:
        """A cluster executor's worker began attempt ``number`` of ``run_id``: record where."""
        active = self._active.get(run_id)
        attempt = active.attempt if active is not None else None
        if active is None or attempt is None or attempt.number != number or attempt.finished_at is not None:
            return
        attempt.worker, attempt.pid, attempt.pid_started_at = worker, pid, pid_started_at
        self.records.save_attempt(attempt)
        self.bus.publish(AttemptUpdated(attempt, active.run.root_id))

    def record_progress(self, run_id: str, fraction: float, message: str | None) -> None:
        """A running task reported progress."""
        active = self._active.get(run_id)
        if active is None:
            return
        active.run.progress = fraction
        active.run.progress_message = message
        self.records.save_runs((active.run,))
        self.bus.publish(RunUpdated(active.run))

    def record_late(self, run_id: str, at: float) -> Run | None:
        """Mark a run still in flight late (past its ``expect``); None if it is not in
        flight or was marked already. Late is shown and told, never a state change."""
        active = self._active.get(run_id)
        if active is None or active.run.state.terminal or active.run.late_at is not None:
            return None
        active.run.late_at = as_datetime(at)
        self.records.save_runs((active.run,))
        self.bus.publish(RunUpdated(active.run))
        return active.run

    def record_breaker(self, state: BreakerState) -> asyncio.Future[None]:
        """Save and publish a breaker change; returns the future of its commit."""
        commit = self.records.save_breaker(state)
        self.bus.publish(BreakerChanged(state))
        return commit

    # ------------------------------------------------------------------ transitions

    def _apply(
        self,
        transitions: Iterable[Transition],
        now: float,
        *,
        own: tuple[Run, RunState] | None = None,
    ) -> None:
        """Apply scheduler transitions (and a run's ``own`` new state) to runs, save them,
        publish them. Terminal states are published only after their commit."""
        changed: dict[str, Run] = {}
        if own is not None:
            run, state = own
            _set_state(run, state, now)
            changed[run.id] = run
        for t in transitions:
            active = self._active.get(t.run_id)
            if active is None:
                continue
            run = active.run
            _set_state(run, t.state, now)
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
                self.bus.publish(RunUpdated(r))
        commit = self.records.save_runs(runs)
        if terminal:
            self._after_commit(commit, terminal)

    def _after_commit(self, commit: asyncio.Future[None], runs: list[Run]) -> None:
        # Until the commit lands these terminal states exist only here; reads overlay them
        # (``unsaved``) so `show` and `status` tell the truth while a full disk holds them.
        for run in runs:
            self._unsaved[run.id] = run

        def done(fut: asyncio.Future[None]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                log.error("could not persist terminal states of %d runs: %s", len(runs),
                          "cancelled" if fut.cancelled() else fut.exception())
            for run in runs:
                if self._unsaved.get(run.id) is run:
                    del self._unsaved[run.id]
            for run in runs:
                if not run.state.terminal:  # reopened by a mark before its end was saved
                    continue
                self._last_runs[run.task] = run
                self.bus.publish(RunUpdated(run))
                if run.parent_id is None:
                    self._tree_finished(run)

        commit.add_done_callback(done)

    def _tree_finished(self, root: Run) -> None:
        self.scheduler.forget(root.id)
        for rid in [rid for rid, a in self._active.items() if a.run.root_id == root.id]:
            gone = self._active.pop(rid)
            self._places.pop((gone.run.parent_id, gone.run.task), None)
        self._on_tree_end(root)


def _set_state(run: Run, state: RunState, now: float) -> None:
    if run.state is state:
        return
    run.state = state
    if state is RunState.RUNNING and run.started_at is None:
        run.started_at = as_datetime(now)
    if state.terminal:
        run.finished_at = run.finished_at or as_datetime(now)
        run.progress = 1.0 if state is RunState.SUCCEEDED and run.progress is not None else run.progress
