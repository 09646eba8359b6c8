"""``PlanTask``: the tree a trigger would run, answered without running or storing anything.

The checks are the trigger's own (``Engine.checked_trigger``: unknown or disabled task,
pre-run hooks, a Python task's parameters), so ``plan`` refuses exactly what ``run`` would,
with the same sentence. The order and the skips come from the decision layer
(``decision.plan.plan_order``); this module adds what only the daemon knows now — pool
limits, breakers, pauses, where each leaf would run, the parameters each leaf would get —
and cuts the nodes into pages that fit a frame.

Nothing here writes: no run, no audit entry (``PlanTask`` is not a mutating request), no
breaker is created for a service never used (``board.knows`` first).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from taskflow.daemon.paging import fitting
from taskflow.engine.decision.plan import PlanStep, TreeOrder, plan_order
from taskflow.engine.decision.scheduler import Pauses
from taskflow.engine.process.wrapper import param_env
from taskflow.model import BreakerState, BreakerStatus, ExecutorConfig, TaskSpec
from taskflow.protocol import PLAN_PAGE, PlannedNode, PlanTask, TaskPlan

if TYPE_CHECKING:
    from taskflow.engine.engine import Engine

#: ``$TASKFLOW_PARAM_X`` or ``${TASKFLOW_PARAM_X}`` in a shell command.
_PARAM_REFERENCE = re.compile(r"\$(?:\{(TASKFLOW_PARAM_\w+)\}|(TASKFLOW_PARAM_\w+))")


def plan_task(engine: Engine, executor: ExecutorConfig, request: PlanTask) -> TaskPlan:
    """The plan of ``request``; raises ``EngineError`` where a trigger would be refused."""
    spec, params = engine.checked_trigger(request.task, request.params)
    tasks = engine.tasks
    order = _ORDERS.get(spec.name, params, tasks) if request.offset > 0 else None
    if order is None:
        order = plan_order(tasks, spec.name, disabled=lambda name: _disabled_reason(engine, name))
        _ORDERS.keep(spec.name, params, tasks, order)
    now = time.time()
    pauses = engine.pauses
    pools = engine.scheduler.pools
    board = engine.board
    breakers = {
        service: board.state(service)
        for service in {tasks[s.name].service for s in order.steps if not s.is_group} - {None}
        if service is not None and board.knows(service)
    }

    problems = {
        s.name: problem for s in order.steps if not s.is_group
        if (problem := _leaf_problem(engine, tasks[s.name], {**tasks[s.name].params, **params})) is not None
    }

    def node(step: PlanStep) -> PlannedNode:
        task = tasks[step.name]
        view = PlannedNode(
            name=step.name, kind=task.kind, parent=step.parent, depth=step.depth, runs=step.runs,
            skip=step.skip, wave=step.wave, depends_on=list(task.depends_on), run_if=task.run_if,
            if_fails_skips=step.if_fails_skips, if_fails_runs=step.if_fails_runs, if_fails_more=step.if_fails_more,
            paused=_pause_reason(pauses, pools, task),
        )
        if task.is_group:
            return view
        leaf_params = {**task.params, **params}
        env = param_env(leaf_params) if task.kind != "python" and leaf_params else {}
        breaker = breakers.get(task.service) if task.service else None
        view.priority, view.pool, view.timeout, view.retries = task.priority, task.pool, task.timeout, task.retries
        view.pool_limit = pools.get(task.pool) if task.pool else None
        view.service, view.on_open = task.service, task.on_open
        if task.service:
            view.breaker = str(breaker.status) if breaker else str(BreakerStatus.CLOSED)
            view.breaker_note = _breaker_note(breaker, task.on_open, now) if breaker else None
        view.where = task.where
        view.runs_on = "cluster" if executor.kind == "dask" and (task.where is not None or executor.send_all) else "local"
        view.command = list(task.command) if isinstance(task.command, tuple) else task.command
        view.expanded = _expanded(task.command, env)
        view.python = task.python
        view.params, view.param_env = leaf_params, env
        view.problem = problems.get(step.name)
        return view

    start = max(0, request.offset)
    end = start + max(1, min(request.limit, PLAN_PAGE))
    page = [node(step) for step in order.steps[start:end]]
    page = page[: fitting(page)]
    end = start + len(page)
    held = sorted({n for s in order.steps if (n := _pause_reason(pauses, pools, tasks[s.name]))})
    return TaskPlan(
        task=spec.name, params=params, nodes_total=len(order.steps), leaves=order.leaves,
        leaves_run=order.running_leaves, skipped=sum(1 for s in order.steps if not s.runs), problems=len(problems),
        waves=order.waves, max_workers=engine.scheduler.max_workers, executor=executor.kind, paused=held,
        nodes=page, offset=start, next_offset=end if end < len(order.steps) else None,
    )


class _RecentOrder:
    """The last order planned, for the next pages of the same plan.

    A 100,000-node tree takes a second or two to order; a client fetching it whole asks for
    dozens of pages in a row, and each page should describe the same plan. So a page after
    the first reuses the order of the first when the task, the params and the task
    definitions (the catalog's table, replaced on every reload) are the same and it is
    recent; the live parts (breakers, pauses) are read again for every page."""

    TTL = 60.0  # seconds

    def __init__(self) -> None:
        self._key: tuple[str, bytes, int] | None = None
        self._order: TreeOrder | None = None
        self._at = 0.0

    def get(self, name: str, params: Mapping[str, Any], tasks: Mapping[str, TaskSpec]) -> TreeOrder | None:
        fresh = time.monotonic() - self._at < self.TTL
        return self._order if fresh and self._key == self._key_of(name, params, tasks) else None

    def keep(self, name: str, params: Mapping[str, Any], tasks: Mapping[str, TaskSpec], order: TreeOrder) -> None:
        self._key, self._order, self._at = self._key_of(name, params, tasks), order, time.monotonic()

    @staticmethod
    def _key_of(name: str, params: Mapping[str, Any], tasks: Mapping[str, TaskSpec]) -> tuple[str, bytes, int]:
        return name, msgspec.msgpack.encode(params), id(tasks)


_ORDERS = _RecentOrder()


def _disabled_reason(engine: Engine, name: str) -> str | None:
    if engine.is_enabled(name):
        return None
    status = engine.status.get(name)
    return (status.reason if status else None) or ""


def _leaf_problem(engine: Engine, task: TaskSpec, params: dict[str, Any]) -> str | None:
    """Why the leaf's attempt would fail before it starts (``config``), as ``_start_leaf`` checks."""
    problem = engine.executor.refusal(task)
    if problem is None and task.kind == "python":
        problem = engine.catalog.python.param_problem(task, params)
    return problem


def _pause_reason(pauses: Pauses, pools: Mapping[str, int], task: TaskSpec) -> str | None:
    """Why a queued run of ``task`` would wait now, or None."""
    if pauses.all:
        return "everything is paused"
    held = sorted(t for t in pauses.tasks if task.name == t or task.name.startswith(t + "/"))
    if held:
        return f"task {held[0]} is paused"
    if task.is_group or task.pool is None:
        return None
    if task.pool in pauses.pools:
        return f"pool {task.pool} is paused"
    if pools.get(task.pool) == 0:
        return f"pool {task.pool} has a limit of 0"
    return None


def _breaker_note(state: BreakerState, on_open: str, now: float) -> str | None:
    """One sentence on a breaker that is not closed: why, and what a run would do."""
    then = "the run would fail at once (on_open = fail)" if on_open == "fail" else "the run would wait (blocked)"
    if state.status is BreakerStatus.OPEN:
        if state.tripped_by is not None:
            return f"tripped by {state.tripped_by}; open until reset; {then}"
        if state.half_open_at is not None and state.half_open_at.timestamp() > now:
            return f"open; a probe may start in {state.half_open_at.timestamp() - now:.0f}s; {then}"
        return "cooldown over: the next run is the probe"
    if state.status is BreakerStatus.HALF_OPEN:
        if state.probe_run_id is not None:
            return f"half-open, waiting for probe run {state.probe_run_id}; {then}"
        return "half-open: the next run is the probe"
    return None


def _expanded(command: str | tuple[str, ...] | None, env: Mapping[str, str]) -> str | None:
    """A shell command with the ``$TASKFLOW_PARAM_*`` references it makes filled in from
    ``env`` (what ``/bin/sh`` would see); None when nothing changes. A list command is
    exec'd as argv, unexpanded, so it is shown as written."""
    if not isinstance(command, str) or not env:
        return None

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    expanded = _PARAM_REFERENCE.sub(fill, command)
    return expanded if expanded != command else None

