"""Pages of things too many for one frame: task definitions, and the runs of a big tree.

A reply is one frame of at most 1 MiB. A page stops at a count *and* at a byte budget well
under that, so a page of long descriptions or wide groups still fits. A run tree is paged
from its skeleton (id, parent, state of every run: a few dozen bytes each, read in one
query), so only the runs of the page asked for are read in full, with their attempts.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import msgspec

from taskflow.model import RunState, SkipReason
from taskflow.protocol import TaskInfo, TaskPage

PAGE_BUDGET = 512 * 1024  # bytes of encoded items per page: half a frame, room for the envelope

_encode = msgspec.msgpack.Encoder().encode


def task_page(
    names: Sequence[str],
    info: Callable[[str], TaskInfo | None],
    *,
    after: str | None,
    limit: int,
    budget: int = PAGE_BUDGET,
) -> TaskPage:
    """The definitions of sorted ``names`` after ``after``, at most ``limit`` and ``budget``
    bytes; ``info`` gives a name's view, or None to leave it out (filtered away)."""
    start = bisect.bisect_right(names, after) if after is not None else 0
    tasks: list[TaskInfo] = []
    used = 0
    for name in names[start:]:
        view = info(name)
        if view is None:
            continue
        size = len(_encode(view))
        if tasks and (len(tasks) >= limit or used + size > budget):
            return TaskPage(tasks=tasks, next_after=tasks[-1].name)
        tasks.append(view)
        used += size
    return TaskPage(tasks=tasks, next_after=None)


def fitting(items: Sequence[object], budget: int = PAGE_BUDGET) -> int:
    """How many of ``items``, from the first, fit in ``budget`` encoded bytes (at least one,
    so a page always moves on)."""
    used = 0
    for count, item in enumerate(items):
        used += len(_encode(item))
        if used > budget and count:
            return count
    return len(items)


class SkeletonNode(NamedTuple):
    """One run of a tree, as little as ordering and counting it needs."""

    id: str
    parent_id: str | None
    state: RunState
    skip_reason: SkipReason | None


class TreeSkeleton:
    """A run tree's shape: its runs in tree order (parents before children, children in
    creation order), and which of them are leaves."""

    def __init__(self, nodes: Iterable[SkeletonNode], top: str) -> None:
        """``nodes`` in creation order, all of one root's tree; ``top`` the run to start from
        (the root, or a run inside the tree)."""
        by_id: dict[str, SkeletonNode] = {}
        children: dict[str, list[str]] = {}
        for node in nodes:
            by_id[node.id] = node
            children.setdefault(node.parent_id or "", []).append(node.id)
        self._children = children
        self.order: list[SkeletonNode] = []
        if top not in by_id:
            return
        stack = [top]
        while stack:
            run_id = stack.pop()
            self.order.append(by_id[run_id])
            stack.extend(reversed(children.get(run_id, ())))

    def is_leaf(self, run_id: str) -> bool:
        return run_id not in self._children


TROUBLE = frozenset({RunState.FAILED, RunState.CANCELLED, RunState.INTERRUPTED})


def leaf_counts(skeleton: TreeSkeleton, limit: int) -> tuple[dict[str, int], list[str]]:
    """Leaves by state, and the ids of the first ``limit`` leaves in trouble (failed,
    cancelled, interrupted, or skipped because something upstream did not succeed)."""
    leaves: dict[str, int] = {}
    trouble: list[str] = []
    for node in skeleton.order:
        if not skeleton.is_leaf(node.id):
            continue
        leaves[node.state.value] = leaves.get(node.state.value, 0) + 1
        upstream = node.state is RunState.SKIPPED and node.skip_reason is SkipReason.UPSTREAM
        if (node.state in TROUBLE or upstream) and len(trouble) < limit:
            trouble.append(node.id)
    return leaves, trouble
