"""What a trigger would do, decided without doing it: which nodes of a tree run, which are
skipped and why, and in what order — ``taskflow plan``.

Pure, like the rest of the decision layer: it reads task specs and is told which tasks are
disabled. It plays the scheduler's rules (``scheduler.Scheduler._evaluate``) on the *happy
path*, where every attempt succeeds:

- a disabled node is skipped, and its whole subtree with it (``runtree.plan_run_tree``);
- ``run_if = "any_failed"`` runs only when a dependency did not succeed, so on the happy
  path it is skipped unless a dependency is skipped anyway;
- otherwise a required dependency that does not succeed skips the node (``upstream``);
  an optional one only orders it;
- a group fails when a child is skipped ``upstream`` (or fails), which its own dependents see.

The order is given in *waves*: with unlimited workers and every leaf taking one unit of
time, wave N holds the leaves that start together at time N-1 — each waits only on leaves of
earlier waves. Real durations differ, pools and ``max_workers`` spread a wave out; the
waves say what *may* start together, never what will.

For each node the plan also says what its failure would change among its siblings: the
nodes it would skip (what depends on it, required, and what depends on those), and the ones
that would run instead (rollbacks: ``any_failed``). A failure also fails the enclosing
group; the group's own entry says what that changes one level up.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from taskflow.model import TaskSpec

#: How a node ends on the happy path: a leaf that runs succeeds; a group whose child is
#: skipped upstream fails; a skipped node is skipped for a ``condition`` (disabled,
#: ``run_if``) or ``upstream`` (a required dependency did not succeed).
Outcome = Literal["succeeded", "failed", "skipped_condition", "skipped_upstream"]

#: Names one node's "if it fails" lists hold at most; the traversal stops there.
FAILURE_NAMES = 20


@dataclass(slots=True)
class PlanStep:
    """One node of the planned tree, in tree order (parents before children)."""

    name: str
    parent: str | None
    depth: int
    is_group: bool
    runs: bool = True  # on the happy path; a group "runs" when it is not skipped
    skip: str | None = None  # why it would not run, one sentence
    wave: int | None = None  # leaves that run: 1 = at the start
    if_fails_skips: list[str] = field(default_factory=list)  # siblings its failure would skip
    if_fails_runs: list[str] = field(default_factory=list)  # siblings that would run instead
    if_fails_more: bool = False  # the lists stopped at ``FAILURE_NAMES``


@dataclass(slots=True)
class TreeOrder:
    """The plan of one trigger: every node in tree order, and how many leaves each wave starts."""

    steps: list[PlanStep]
    waves: list[int]  # waves[i]: leaves starting in wave i + 1

    @property
    def leaves(self) -> int:
        return sum(1 for step in self.steps if not step.is_group)

    @property
    def running_leaves(self) -> int:
        return sum(self.waves)


@dataclass(slots=True)
class _Node:
    spec: TaskSpec
    step: PlanStep
    children: list[_Node] = field(default_factory=list)
    deps: list[tuple[_Node, bool]] = field(default_factory=list)  # sibling, required
    dependents: list[_Node] = field(default_factory=list)
    outcome: Outcome = "succeeded"
    intrinsic: Outcome = "succeeded"  # how it ends if it runs: a group's depends on its children
    end: int = 0
    off: bool = False  # disabled, or below a disabled group
    topo: int = 0  # position among its siblings in dependency order


def plan_order(
    tasks: Mapping[str, TaskSpec],
    name: str,
    *,
    disabled: Callable[[str], str | None] = lambda _name: None,
) -> TreeOrder:
    """The plan of triggering ``name``: ``disabled(task)`` is why a task is disabled (None:
    enabled). The root is what is triggered; whether it may be is the trigger's question."""
    root = _build(tasks, name)
    _mark_disabled(root, disabled)
    if root.spec.is_group:
        _evaluate(root, start=0)
    else:
        root.step.wave = 1
    _failure_effects(root)
    steps: list[PlanStep] = []
    waves: dict[int, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        steps.append(node.step)
        if node.step.wave is not None:
            waves[node.step.wave] = waves.get(node.step.wave, 0) + 1
        stack.extend(reversed(node.children))
    return TreeOrder(steps=steps, waves=[waves.get(w, 0) for w in range(1, max(waves, default=0) + 1)])


def _build(tasks: Mapping[str, TaskSpec], name: str) -> _Node:
    """The tree of nodes below ``name``, with sibling dependencies linked and ordered."""
    root = _Node(tasks[name], PlanStep(name=name, parent=None, depth=0, is_group=tasks[name].is_group))
    stack = [root]
    while stack:
        node = stack.pop()
        for child_name in node.spec.children:
            spec = tasks[child_name]
            node.children.append(_Node(spec, PlanStep(
                name=child_name, parent=node.spec.name, depth=node.step.depth + 1, is_group=spec.is_group)))
        by_name = {child.spec.name: child for child in node.children}
        parent_prefix = node.spec.name + "/"
        for child in node.children:
            for dep in child.spec.depends_on:
                # Names are full paths; a dependency outside the siblings only orders a
                # trigger of the whole tree and is ignored here, as ``to_sched_runs`` does.
                sibling = by_name.get(dep.task) or by_name.get(parent_prefix + dep.task)
                if sibling is not None:
                    child.deps.append((sibling, dep.required))
                    sibling.dependents.append(child)
        _order_siblings(node.children)
        stack.extend(node.children)
    return root


def _order_siblings(children: Sequence[_Node]) -> None:
    """Number siblings in dependency order (file order among the ready ones); a cycle the
    loader let through is numbered last, in file order, rather than refused here."""
    index = {id(child): i for i, child in enumerate(children)}
    waiting = {id(child): len(child.deps) for child in children}
    ready = [index[id(child)] for child in children if not child.deps]
    heapq.heapify(ready)
    position = 0
    while ready:
        child = children[heapq.heappop(ready)]
        child.topo = position
        position += 1
        for dependent in child.dependents:
            waiting[id(dependent)] -= 1
            if waiting[id(dependent)] == 0:
                heapq.heappush(ready, index[id(dependent)])
    for child in children:
        if waiting[id(child)] > 0:
            child.topo = position
            position += 1


def _mark_disabled(root: _Node, disabled: Callable[[str], str | None]) -> None:
    """Disabled nodes below the root, and everything below them, are skipped whatever happens."""
    stack: list[tuple[_Node, str | None]] = [(child, None) for child in root.children]
    while stack:
        node, above = stack.pop()
        if above is not None:
            node.off, node.step.skip = True, f"group {above} is disabled"
        else:
            reason = disabled(node.spec.name)
            if reason is not None:
                # "disabled in task file", "disabled by ana" read as they are; else "disabled: why".
                why = reason if reason.startswith("disabled") else "disabled" + (f": {reason}" if reason else "")
                node.off, node.step.skip = True, why
                above = node.spec.name
        stack.extend((child, above) for child in node.children)


def _decide(node: _Node, outcome: Callable[[_Node], Outcome]) -> tuple[Outcome, str | None]:
    """How ``node`` ends given how its dependencies end (``outcome`` of each), and why it
    would be skipped: the scheduler's ``_evaluate``, played without running anything."""
    if node.off:
        return "skipped_condition", node.step.skip
    if node.spec.run_if == "any_failed":
        if any(outcome(dep) != "succeeded" for dep, _ in node.deps):
            return node.intrinsic, None
        names = ", ".join(dep.spec.short_name for dep, _ in node.deps)
        return "skipped_condition", (
            f"runs only if a dependency fails ({names})" if names else "runs only if a dependency fails, and it has none")
    for dep, required in node.deps:
        if required and outcome(dep) != "succeeded":
            how = "fail" if outcome(dep) == "failed" else "be skipped"
            return "skipped_upstream", f"required dependency {dep.spec.short_name} would {how}"
    return node.intrinsic, None


def _as_planned(node: _Node) -> Outcome:
    return node.outcome


def _evaluate(node: _Node, *, start: int) -> None:
    """Decide ``node``'s children, ``node`` running from ``start``; then its own intrinsic
    outcome (how it ends if it runs) and when it ends."""
    spoiled = False
    end = start
    for child in sorted(node.children, key=lambda c: c.topo):
        child_start = max([start, *(dep.end for dep, _ in child.deps)])
        if child.spec.is_group:
            _evaluate(child, start=child_start)
        child.outcome, why = _decide(child, _as_planned)
        if child.outcome.startswith("skipped"):
            # A disabled node is planned skipped, ended before its group even starts: what
            # depends on it does not wait for its dependencies.
            child.end = start if child.off else child_start
            child.step.runs, child.step.skip = False, why
            _skip_below(child)
        elif child.spec.is_group:
            child.end = max(child.end, child_start)
        else:
            child.end = child_start + 1
            child.step.wave = child_start + 1
        spoiled = spoiled or child.outcome in ("failed", "skipped_upstream")
        end = max(end, child.end)
    node.intrinsic = "failed" if spoiled else "succeeded"
    node.end = end


def _skip_below(group: _Node) -> None:
    """A group skipped on the happy path: nothing below it runs."""
    stack = list(group.children)
    while stack:
        node = stack.pop()
        if node.step.runs:
            node.step.runs = False
            node.step.skip = f"group {group.spec.name} would be skipped"
            node.step.wave = None
        stack.extend(node.children)


def _failure_effects(root: _Node) -> None:
    """For each node that runs on the happy path, what its failure changes among its
    siblings, replaying the siblings that depend on it (in dependency order)."""
    stack = [root]
    while stack:
        group = stack.pop()
        stack.extend(group.children)
        for node in group.children:
            if node.step.runs and node.dependents:
                _one_failure(node)


def _one_failure(failed: _Node) -> None:
    changed: dict[int, Outcome] = {id(failed): "failed"}

    def outcome(node: _Node) -> Outcome:
        return changed.get(id(node), node.outcome)

    queue = [(d.topo, id(d), d) for d in failed.dependents]
    heapq.heapify(queue)
    seen: set[int] = set()
    step = failed.step
    while queue:
        _, key, node = heapq.heappop(queue)
        if key in seen:
            continue
        seen.add(key)
        now, _ = _decide(node, outcome)
        if now == node.outcome:
            continue
        changed[key] = now
        was_running = not node.outcome.startswith("skipped")
        if len(step.if_fails_skips) + len(step.if_fails_runs) >= FAILURE_NAMES:
            step.if_fails_more = True
            return
        (step.if_fails_skips if was_running else step.if_fails_runs).append(node.spec.short_name)
        for dependent in node.dependents:
            heapq.heappush(queue, (dependent.topo, id(dependent), dependent))
