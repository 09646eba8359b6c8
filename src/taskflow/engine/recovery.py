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
from collections import defaultdict
from collections.abc import Mapping
from typing import Protocol, TypeGuard

from taskflow.engine.decision.runtree import PlannedRun, decode_spec
from taskflow.engine.executor import AttemptHandle, AttemptOutcome, Executor, Found
from taskflow.engine.ledger import RunLedger, as_datetime, settle_attempt
from taskflow.model import Attempt, Run, RunState, RunTree, TaskSpec

log = logging.getLogger(__name__)

INTERRUPTED = "the daemon stopped while this run was in flight and its outcome could not be recovered"


class InFlightRecords(Protocol):
    """What recovery reads from the store."""

    async def active_runs(self) -> list[Run]: ...
    async def run_tree(self, root_id: str) -> RunTree | None: ...
    async def attempts(self, run_id: str) -> list[Attempt]: ...


def _spec_of(tasks: Mapping[str, TaskSpec], run: Run) -> TaskSpec:
    if run.spec:
        return decode_spec(run.spec)
    spec = tasks.get(run.task)
    if spec is not None:
        return spec
    # Neither a snapshot nor a definition: keep the run visible as a plain leaf.
    return TaskSpec(name=run.task, kind="command", command="true", source="recovered")


async def reconcile_runs(
    records: InFlightRecords, executor: Executor, ledger: RunLedger, tasks: Mapping[str, TaskSpec]
) -> dict[str, int]:
    """Restore in-flight run trees into ``ledger``; returns counts of what happened."""
    runs = await records.active_runs()
    report = {"adopted": 0, "read_back": 0, "interrupted": 0, "continued": 0}
    if not runs:
        return report
    by_root: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_root[run.root_id].append(run)

    for root_id, tree_runs in by_root.items():
        # Terminal members of the tree are needed for dependency and group state.
        tree = await records.run_tree(root_id)
        members = [node.run for node in tree.walk()] if tree is not None else tree_runs
        planned = [PlannedRun(run, _spec_of(tasks, run)) for run in members]
        found_runs: list[tuple[PlannedRun, Attempt | None, Found]] = []
        for p in planned:
            run = p.run
            if run.state is RunState.BLOCKED:
                run.state = RunState.QUEUED  # the gate is re-evaluated from scratch
            if run.state.terminal:
                continue
            if p.spec.is_group:
                report["continued"] += 1
                continue
            attempts = await records.attempts(run.id)
            last = attempts[-1] if attempts else None
            found: Found = None
            if run.state is RunState.RUNNING and last is not None and last.finished_at is None:
                try:
                    found = await executor.adopt(last, p.spec)
                except Exception:
                    log.exception("adopting run %s attempt %s failed", run.id, last.number)
            else:
                last = None
            last, found = await _unrecorded_starts(executor, ledger, p, attempts, last, found)
            if last is None and run.state is not RunState.RUNNING:
                report["continued"] += 1
                continue
            found_runs.append((p, last, found))

        now = ledger.clock()
        ledger.restore(planned, now)
        adopted = [(p, last, found) for p, last, found in found_runs if _is_handle(found)]
        read_back = [(p, last, found) for p, last, found in found_runs if isinstance(found, AttemptOutcome)]
        for p, last, handle in adopted:
            assert last is not None and _is_handle(handle)
            log.info("adopted run %s (%s) pid %s", p.run.id, p.run.task, handle.pid)
            ledger.follow(ledger.active[p.run.id], handle, last)
        for p, last, outcome in read_back:
            assert last is not None and isinstance(outcome, AttemptOutcome)
            log.info("run %s (%s) finished while the daemon was down", p.run.id, p.run.task)
            ledger.complete_attempt(ledger.active[p.run.id], last, outcome, now)
        for p, last, found in found_runs:
            if found is None:
                active = ledger.active[p.run.id]
                active.attempt = last
                ledger.interrupt(active, now, INTERRUPTED)
        report["adopted"] += len(adopted)
        report["read_back"] += len(read_back)
        report["interrupted"] += len(found_runs) - len(adopted) - len(read_back)
    log.info("recovery: %s", ", ".join(f"{k} {v}" for k, v in report.items()))
    return report


def _is_handle(found: Found) -> TypeGuard[AttemptHandle]:
    return found is not None and not isinstance(found, AttemptOutcome)


async def _unrecorded_starts(
    executor: Executor,
    ledger: RunLedger,
    planned: PlannedRun,
    recorded: list[Attempt],
    last: Attempt | None,
    found: Found,
) -> tuple[Attempt | None, Found]:
    """Attempts the daemon started but died before recording (spawn, then SIGKILL before
    the group commit): found by their traces, so they are adopted or read back — never
    started a second time. Returns the latest attempt and what became of it."""
    run = planned.run
    number = recorded[-1].number if recorded else 0
    while (traced := await executor.trace(run.id, number + 1, planned.spec)) is not None:
        if last is not None:  # a later start means this one had ended
            _settle_earlier(ledger, last, found)
        last, found = traced
        number = last.number
        log.info("run %s (%s) attempt %d started before the crash but was never recorded",
                 run.id, run.task, number)
        run.state = RunState.RUNNING
        run.attempts = max(run.attempts, number)
        run.not_before = None
        run.started_at = run.started_at or last.started_at
        ledger.record_start(run, last)
    return last, found


def _settle_earlier(ledger: RunLedger, attempt: Attempt, found: Found) -> None:
    """Record an attempt that ended before a later one began (its run retried it)."""
    if isinstance(found, AttemptOutcome):
        settle_attempt(attempt, found, cancelled=False)
    else:
        if found is not None:  # cannot be: attempts of a run never overlap
            log.error("run %s attempt %d still runs while a later one exists", attempt.run_id, attempt.number)
        attempt.state = RunState.INTERRUPTED
        attempt.finished_at = attempt.finished_at or as_datetime(ledger.clock())
        attempt.message = "the daemon stopped during this attempt and its outcome could not be recovered"
    ledger.record_attempt(attempt)
