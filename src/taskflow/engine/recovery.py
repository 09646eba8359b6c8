"""Crash recovery: reconcile every run the store says is still in flight.

On start the daemon reads every non-terminal run. A leaf that was running is:
- still alive (pid and process start time match) → adopted and watched to the end;
- finished while the daemon was down → its outcome is read back from the attempt's files;
- otherwise → ``interrupted`` (never silently turned into success or failure).
A start is exactly-once: before a pending, queued or retrying leaf continues, the folder of
its next attempt is checked for traces of a start the store never recorded (the daemon died
between the spawn and the group commit); what is found is adopted or read back the same way,
never started again. Pending, queued, retrying and blocked runs without traces continue.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING

# engine.py imports this module only inside Engine.start, so this is no import cycle.
from taskflow.engine.engine import ActiveRun, _dt, settle_attempt
from taskflow.engine.executor import AttemptOutcome, RunningAttempt
from taskflow.engine.runtree import PlannedRun, decode_spec, to_sched_runs
from taskflow.model import Attempt, Run, RunState, TaskSpec

if TYPE_CHECKING:
    from taskflow.engine.engine import Engine

log = logging.getLogger(__name__)


def _spec_of(engine: Engine, run: Run) -> TaskSpec:
    if run.spec:
        return decode_spec(run.spec)
    spec = engine.tasks.get(run.task)
    if spec is not None:
        return spec
    # Neither a snapshot nor a definition: keep the run visible as a plain leaf.
    return TaskSpec(name=run.task, kind="command", command="true", source="recovered")


async def reconcile_runs(engine: Engine) -> dict[str, int]:
    """Restore in-flight run trees into the engine; returns counts of what happened."""
    runs = await engine.store.active_runs()
    report = {"adopted": 0, "read_back": 0, "interrupted": 0, "continued": 0}
    if not runs:
        return report
    by_root: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_root[run.root_id].append(run)

    for root_id, tree_runs in by_root.items():
        # Terminal members of the tree are needed for dependency and group state.
        tree = await engine.store.run_tree(root_id)
        members = [node.run for node in tree.walk()] if tree is not None else tree_runs
        planned = [PlannedRun(run, _spec_of(engine, run)) for run in members]
        outcomes: list[tuple[ActiveRun, Attempt, AttemptOutcome]] = []
        watch: list[tuple[ActiveRun, RunningAttempt, Attempt]] = []
        interrupted: list[ActiveRun] = []
        for p in planned:
            run = p.run
            if run.state is RunState.BLOCKED:
                run.state = RunState.QUEUED  # the gate is re-evaluated from scratch
            active = ActiveRun(run, p.spec)
            if run.state.terminal:
                engine.active[run.id] = active
                continue
            engine.active[run.id] = active
            if p.spec.is_group:
                report["continued"] += 1
                continue
            attempts = await engine.store.attempts(run.id)
            last = attempts[-1] if attempts else None
            found: RunningAttempt | AttemptOutcome | None = None
            if run.state is RunState.RUNNING and last is not None and last.finished_at is None:
                try:
                    found = await engine.executor.adopt(last, p.spec)
                except Exception:
                    log.exception("adopting run %s attempt %s failed", run.id, last.number)
            else:
                last = None
            last, found = await _unrecorded_starts(engine, p, attempts, last, found)
            if last is None and run.state is not RunState.RUNNING:
                report["continued"] += 1
                continue
            if isinstance(found, RunningAttempt):
                watch.append((active, found, last))
                report["adopted"] += 1
            elif isinstance(found, AttemptOutcome):
                outcomes.append((active, last, found))
                report["read_back"] += 1
            else:
                if last is not None:
                    active.attempt = last
                interrupted.append(active)
                report["interrupted"] += 1

        sched = to_sched_runs(planned, engine._seq)
        engine._seq += len(sched)
        now = time.time()
        engine._apply(engine.scheduler.add(sched, now), now)
        for active, handle, attempt in watch:
            log.info("adopted run %s (%s) pid %s", active.run.id, active.run.task, handle.pid)
            engine.watch(active, handle, attempt)
        for active, attempt, outcome in outcomes:
            log.info("run %s (%s) finished while the daemon was down", active.run.id, active.run.task)
            engine._complete_attempt(active, attempt, outcome)
        for active in interrupted:
            _interrupt(engine, active, now)
    engine.wake()
    log.info("recovery: %s", ", ".join(f"{k} {v}" for k, v in report.items()))
    return report


async def _unrecorded_starts(
    engine: Engine,
    planned: PlannedRun,
    recorded: list[Attempt],
    last: Attempt | None,
    found: RunningAttempt | AttemptOutcome | None,
) -> tuple[Attempt | None, RunningAttempt | AttemptOutcome | None]:
    """Attempts the daemon started but died before recording (spawn, then SIGKILL before
    the group commit): found by their traces, so they are adopted or read back — never
    started a second time. Returns the latest attempt and what became of it."""
    run = planned.run
    number = recorded[-1].number if recorded else 0
    while (traced := await engine.executor.trace(run.id, number + 1, planned.spec)) is not None:
        if last is not None:  # a later start means this one had ended
            _settle_earlier(engine, last, found)
        last, found = traced
        number = last.number
        log.info("run %s (%s) attempt %d started before the crash but was never recorded",
                 run.id, run.task, number)
        run.state = RunState.RUNNING
        run.attempts = max(run.attempts, number)
        run.not_before = None
        run.started_at = run.started_at or last.started_at
        engine.store.save_runs((run,))
        engine.store.save_attempt(last)
    return last, found


def _settle_earlier(engine: Engine, attempt: Attempt, found: RunningAttempt | AttemptOutcome | None) -> None:
    """Record an attempt that ended before a later one began (its run retried it)."""
    if isinstance(found, AttemptOutcome):
        settle_attempt(attempt, found, cancelled=False)
    else:
        if isinstance(found, RunningAttempt):  # cannot be: attempts of a run never overlap
            log.error("run %s attempt %d still runs while a later one exists", attempt.run_id, attempt.number)
        attempt.state = RunState.INTERRUPTED
        attempt.finished_at = attempt.finished_at or _dt(time.time())
        attempt.message = "the daemon stopped during this attempt and its outcome could not be recovered"
    engine.store.save_attempt(attempt)


def _interrupt(engine: Engine, active: ActiveRun, now: float) -> None:
    message = "the daemon stopped while this run was in flight and its outcome could not be recovered"
    attempt = active.attempt
    if attempt is not None and attempt.finished_at is None:
        attempt.state = RunState.INTERRUPTED
        attempt.finished_at = _dt(now)
        attempt.message = message
        engine.store.save_attempt(attempt)
    active.run.message = message
    active.run.error_type = None
    engine._apply(
        engine.scheduler.finished(active.run.id, RunState.INTERRUPTED, now),
        now,
        extra=(active.run,),
        own=(active.run.id, RunState.INTERRUPTED),
    )

