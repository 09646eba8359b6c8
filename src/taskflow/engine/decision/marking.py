"""Marking an ended run succeeded or skipped (``taskflow mark``): what it reopens in its tree.

Pure: no I/O, no clock. Given the runs of one tree (with their specs, as the ledger or the
store has them), ``plan_mark`` checks that the run may be marked and says what changes:

- the marked run takes its new state (``skipped`` with the reason ``marked``, which counts as
  done for its dependents and does not spoil its group);
- its dependents that were ``skipped`` for ``upstream`` and have no other required dependency
  that did not succeed are *released*: reset to ``pending`` in the same tree (a released group
  with the part of its subtree that was skipped with it), and so on down the dependency chain;
- every ended group above it is *reopened* (``running`` again) — and dependents of a reopened
  group that were skipped because of it are released to wait for it — so the scheduler decides
  the group's state again, by DESIGN's group rule, once its children are done.

The same runs, not new ones: a released run never ran (it has no attempts), so nothing of its
history is lost, and the tree keeps one run per node. The ledger saves the plan in one write
and hands the tree to the scheduler as recovery does after a restart, so a crash right after
the mark continues from exactly what was saved.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from typing import NamedTuple

from taskflow.engine.decision.runtree import PlannedRun
from taskflow.model import RunState, SkipReason

#: The states an operator may mark a run with.
MARK_STATES = frozenset({RunState.SUCCEEDED, RunState.SKIPPED})


class MarkRefused(ValueError):
    """The run cannot be marked; the message is one sentence for the operator."""


class MarkPlan(NamedTuple):
    """What marking ``target`` changes in its tree (run ids, in tree order)."""

    target: str
    state: RunState
    released: tuple[str, ...]  # skipped (upstream) runs reset to pending
    reopened: tuple[str, ...]  # ended groups above the target, running again
    messages: dict[str, str]  # still-skipped dependents whose message named the target


def upstream_message(task: str) -> str:
    """The message of a run skipped because its required dependency ``task`` did not succeed."""
    return f"required dependency {task} did not succeed"


def _done(state: RunState, skip_reason: SkipReason | None) -> bool:
    return state is RunState.SUCCEEDED or (state is RunState.SKIPPED and skip_reason is SkipReason.MARKED)


def plan_mark(tree: Sequence[PlannedRun], run_id: str, state: RunState) -> MarkPlan:
    """Check that ``run_id`` of ``tree`` may be marked ``state`` and plan what that changes.

    Raises ``MarkRefused`` (one sentence) when it may not: it is a group, still in flight,
    already succeeded (or already marked so), or sits in a group that was skipped or cancelled.
    """
    if state not in MARK_STATES:
        raise MarkRefused(f"a run can be marked succeeded or skipped, not {state}")
    by_id = {p.run.id: p for p in tree}
    target = by_id.get(run_id)
    if target is None:
        raise MarkRefused(f"no run {run_id} in its tree")
    run = target.run
    if target.spec.is_group:
        raise MarkRefused(f"run {run_id} is the group {run.task}; mark the run inside it that did not succeed")
    if not run.state.terminal:
        raise MarkRefused(f"run {run_id} ({run.task}) is still {run.state}; only an ended run can be marked")
    if run.state is RunState.SUCCEEDED:
        raise MarkRefused(f"run {run_id} ({run.task}) already succeeded")
    if run.state is state and run.skip_reason is SkipReason.MARKED:
        raise MarkRefused(f"run {run_id} ({run.task}) is already marked skipped")
    ancestors = _ancestors(by_id, run_id)
    for group in ancestors:
        if group.run.state is RunState.SKIPPED:
            raise MarkRefused(
                f"run {run_id} ({run.task}) is inside {group.run.task}, which was skipped; "
                f"mark what {group.run.task} depends on instead"
            )
        if group.run.state is RunState.CANCELLED:
            raise MarkRefused(f"run {run_id} ({run.task}) is inside {group.run.task}, which was cancelled; rerun it instead")

    states = {p.run.id: p.run.state for p in tree}
    reasons = {p.run.id: p.run.skip_reason for p in tree}
    states[run_id] = state
    reasons[run_id] = SkipReason.MARKED if state is RunState.SKIPPED else None
    deps, dependents, children = _links(tree)

    def bad(rid: str) -> bool:
        return states[rid].terminal and not _done(states[rid], reasons[rid])

    released: list[str] = []
    work: deque[str] = deque([run_id])

    def release_below(changed: str) -> None:
        """``changed`` is done or in flight now: release what was skipped because of it."""
        work.append(changed)
        while work:
            for dependent in dependents[work.popleft()]:
                if states[dependent] is not RunState.SKIPPED or reasons[dependent] is not SkipReason.UPSTREAM:
                    continue
                if any(required and bad(dep) for dep, required in deps[dependent]):
                    continue
                for node in _subtree(children, dependent):
                    if states[node] is RunState.SKIPPED and reasons[node] is SkipReason.UPSTREAM:
                        states[node], reasons[node] = RunState.PENDING, None
                        released.append(node)
                work.append(dependent)

    release_below(run_id)
    reopened: list[str] = []
    for group in ancestors:  # parent first; a group in flight has its ancestors in flight
        if not states[group.run.id].terminal:
            break
        states[group.run.id], reasons[group.run.id] = RunState.RUNNING, None
        reopened.append(group.run.id)
        release_below(group.run.id)

    messages: dict[str, str] = {}
    for dependent in dependents[run_id]:
        if states[dependent] is RunState.SKIPPED and by_id[dependent].run.message == upstream_message(run.task):
            others = [by_id[dep].run.task for dep, required in deps[dependent] if required and bad(dep)]
            if others:
                messages[dependent] = upstream_message(others[0])
    order = {p.run.id: i for i, p in enumerate(tree)}
    return MarkPlan(
        target=run_id,
        state=state,
        released=tuple(sorted(set(released), key=order.__getitem__)),
        reopened=tuple(reopened),
        messages=messages,
    )


def _ancestors(by_id: dict[str, PlannedRun], run_id: str) -> list[PlannedRun]:
    """The groups above ``run_id``, its parent first."""
    out: list[PlannedRun] = []
    parent_id = by_id[run_id].run.parent_id
    while parent_id is not None and parent_id in by_id:
        out.append(by_id[parent_id])
        parent_id = by_id[parent_id].run.parent_id
    return out


def _links(
    tree: Sequence[PlannedRun],
) -> tuple[dict[str, list[tuple[str, bool]]], dict[str, list[str]], dict[str, list[str]]]:
    """Each run's sibling dependencies (id, required), its dependents and its children."""
    by_place = {(p.run.parent_id, p.spec.name): p.run.id for p in tree}
    deps: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    dependents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for p in tree:
        if p.run.parent_id is not None:
            children[p.run.parent_id].append(p.run.id)
        for dep in p.spec.depends_on:
            dep_id = by_place.get((p.run.parent_id, dep.task))
            if dep_id is not None:
                deps[p.run.id].append((dep_id, dep.required))
                dependents[dep_id].append(p.run.id)
    return deps, dependents, children


def _subtree(children: dict[str, list[str]], run_id: str) -> list[str]:
    """``run_id`` and every run below it."""
    out, stack = [], [run_id]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, ()))
    return out
