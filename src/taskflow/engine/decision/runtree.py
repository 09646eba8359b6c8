"""Turning a trigger into a run tree: one ``Run`` per task node, root first.

Pure: no I/O. The engine persists the runs and hands them to the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import msgspec

from taskflow.engine.decision.scheduler import SchedRun
from taskflow.model import RetryPolicy, Run, RunState, RunTree, SkipReason, TaskSpec, Trigger, new_ulid

_SPEC_ENCODER = msgspec.msgpack.Encoder()
_SPEC_DECODER = msgspec.msgpack.Decoder(TaskSpec)


def encode_spec(spec: TaskSpec) -> bytes:
    return _SPEC_ENCODER.encode(spec)


def decode_spec(blob: bytes) -> TaskSpec:
    return _SPEC_DECODER.decode(blob)


class PlannedRun(msgspec.Struct):
    run: Run
    spec: TaskSpec


def plan_run_tree(
    tasks: Mapping[str, TaskSpec],
    name: str,
    *,
    now: datetime,
    params: Mapping[str, Any] | None = None,
    trigger: Trigger = Trigger.MANUAL,
    requested_by: str | None = None,
    is_enabled: Callable[[str], bool] = lambda _name: True,
    carried_over: Mapping[str, Run] | None = None,
) -> list[PlannedRun]:
    """Plan the runs for ``name`` and its descendants, parents before children.

    ``carried_over`` maps task names whose previous success is kept (``rerun --failed-only``):
    those runs start out ``succeeded`` and are not executed again. Disabled descendants are
    planned as ``skipped`` (``condition``) so the tree shows why they did not run.
    """
    root_spec = tasks[name]
    planned: list[PlannedRun] = []
    root_id = new_ulid(now.timestamp())
    stack: list[tuple[TaskSpec, str | None, str]] = [(root_spec, None, root_id)]
    trigger_params = dict(params or {})
    while stack:
        spec, parent_id, run_id = stack.pop()
        run = Run(
            id=run_id,
            task=spec.name,
            root_id=root_id,
            parent_id=parent_id,
            trigger=trigger,
            priority=spec.priority,
            params=trigger_params if parent_id is None else {},
            created_at=now,
            requested_by=requested_by,
            spec=encode_spec(spec),
        )
        previous = (carried_over or {}).get(spec.name)
        if parent_id is not None and not is_enabled(spec.name):
            run.state = RunState.SKIPPED
            run.skip_reason = SkipReason.CONDITION
            run.message = "task is disabled"
            run.finished_at = now
        elif previous is not None and not spec.is_group:
            run.state = RunState.SUCCEEDED
            run.message = f"succeeded in run {previous.root_id}; not re-run"
            run.exit_code = previous.exit_code
            run.result = previous.result
            run.started_at = previous.started_at
            run.finished_at = previous.finished_at
        planned.append(PlannedRun(run, spec))
        if run.state is RunState.SKIPPED:
            planned.extend(_skipped_descendants(tasks, spec, run, now))
            continue
        # Ids in file order (ULIDs are monotonic), pushed in reverse so they pop in order.
        ids = [new_ulid(now.timestamp()) for _ in spec.children]
        for child, child_id in reversed(list(zip(spec.children, ids, strict=True))):
            stack.append((tasks[child], run_id, child_id))
    return planned


def _skipped_descendants(
    tasks: Mapping[str, TaskSpec], spec: TaskSpec, parent: Run, now: datetime
) -> list[PlannedRun]:
    out: list[PlannedRun] = []
    for child_name in spec.children:
        child = tasks[child_name]
        run = Run(
            id=new_ulid(now.timestamp()),
            task=child.name,
            root_id=parent.root_id,
            parent_id=parent.id,
            state=RunState.SKIPPED,
            skip_reason=SkipReason.CONDITION,
            message=parent.message,
            trigger=parent.trigger,
            priority=child.priority,
            created_at=now,
            finished_at=now,
            spec=encode_spec(child),
        )
        out.append(PlannedRun(run, child))
        out.extend(_skipped_descendants(tasks, child, run, now))
    return out


def to_sched_runs(planned: list[PlannedRun], seq_start: int) -> list[SchedRun]:
    """Scheduler views of a planned (or restored) tree; dependencies become sibling run ids."""
    by_parent_task: dict[tuple[str | None, str], str] = {
        (p.run.parent_id, p.spec.name): p.run.id for p in planned
    }
    out: list[SchedRun] = []
    for offset, p in enumerate(planned):
        deps = tuple(
            (by_parent_task[(p.run.parent_id, dep.task)], dep.required)
            for dep in p.spec.depends_on
            if (p.run.parent_id, dep.task) in by_parent_task
        )
        out.append(
            SchedRun(
                id=p.run.id,
                task=p.spec.name,
                root_id=p.run.root_id,
                parent_id=p.run.parent_id,
                is_group=p.spec.is_group,
                priority=p.run.priority,
                seq=seq_start + offset,
                pool=None if p.spec.is_group else p.spec.pool,  # groups inherit them for their leaves
                service=None if p.spec.is_group else p.spec.service,
                deps=deps,
                run_if=p.spec.run_if,
                on_open=p.spec.on_open,
                state=p.run.state,
                skip_reason=p.run.skip_reason,
                not_before=p.run.not_before.timestamp() if p.run.not_before else None,
            )
        )
    return out


def adhoc_spec(
    command: list[str] | str, *, name: str | None, timeout: float | None, retries: int, cwd: str | None
) -> TaskSpec:
    """The one-node task of an ad-hoc command, named ``@name`` (default: the program's name)."""
    first = command if isinstance(command, str) else command[0]
    label = name or (first.split() or ["exec"])[0].rsplit("/", 1)[-1] or "exec"
    return TaskSpec(
        name=f"@{label}",
        kind="command",
        command=command if isinstance(command, str) else tuple(command),
        timeout=timeout,
        retries=RetryPolicy(max=retries),
        cwd=cwd,
        description="ad-hoc command",
        source="exec",
    )


class RerunPlan(NamedTuple):
    """What a rerun of a finished tree triggers."""

    snapshot: dict[str, TaskSpec]  # the tree's specs as they ran (for ad-hoc or removed tasks)
    carried_over: dict[str, Run]  # successes kept (``--failed-only``)


def plan_rerun(tree: RunTree, *, failed_only: bool) -> RerunPlan:
    """The spec snapshot of ``tree`` and, with ``failed_only``, the leaves whose success is kept."""
    snapshot = {node.run.task: decode_spec(node.run.spec) for node in tree.walk() if node.run.spec}
    carried: dict[str, Run] = {}
    if failed_only:
        carried = {
            node.run.task: node.run
            for node in tree.walk()
            if node.run.state is RunState.SUCCEEDED and not node.children
        }
    return RerunPlan(snapshot, carried)
