"""``PlanTask``: what a trigger would run, asked of the daemon without running anything.

A read (viewers may ask): the daemon checks the task and the parameters exactly as
``TriggerTask`` would — the same one-sentence refusal for an unknown or disabled task or a
bad parameter — and then answers with the tree it would plan instead of planning it: no
run is created, nothing is written, nothing is audited.

A tree of 10,000 nodes does not fit in one frame, so the nodes come in pages, in tree order
(parents before children) from ``offset``; every page carries the whole plan's summary
(counts, waves, pauses), so a client that shows only the first nodes still tells the truth
about the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from taskflow.model import Dependency, Placement, RetryPolicy
from taskflow.protocol.daemon_views import View
from taskflow.protocol.request_base import Request

__all__ = ["PLAN_PAGE", "PlanTask", "PlannedNode", "TaskPlan"]

#: Nodes one ``TaskPlan`` page holds at most (fewer when they would not fit a frame).
PLAN_PAGE = 2000


class PlannedNode(View):
    """One node of the tree a trigger would run, as planned now.

    ``runs``/``skip``/``wave`` describe the *happy path*, where every attempt succeeds:
    ``skip`` says why the node would not run then (disabled, ``run_if = "any_failed"``, a
    required dependency skipped); ``wave`` numbers the leaves that may start together (1:
    at once; N: once what they wait on in earlier waves is done). ``if_fails_skips`` and
    ``if_fails_runs`` name the siblings a failure of this node would skip, or run instead
    (short names; ``if_fails_more``: the lists were cut). The live part — ``breaker``,
    ``paused`` — is as the daemon sees it now and may change before a real run."""

    name: str
    kind: str  # "command", "python" or "group"
    parent: str | None = None
    depth: int = 0
    runs: bool = True
    skip: str | None = None
    wave: int | None = None
    depends_on: list[Dependency] = []
    run_if: str = "all_done"
    if_fails_skips: list[str] = []
    if_fails_runs: list[str] = []
    if_fails_more: bool = False
    # What a leaf would get (groups pass these down to their leaves in the task file).
    priority: int = 2
    pool: str | None = None
    pool_limit: int | None = None  # the pool's limit; None: only max_workers bounds it
    timeout: float | None = None
    retries: RetryPolicy = RetryPolicy()
    service: str | None = None
    on_open: str = "wait"
    breaker: str | None = None  # the service's breaker now: "closed", "open", "half_open"
    breaker_note: str | None = None  # why an open one is open, and when it may let a probe through
    paused: str | None = None  # why its queued run would wait now: a pause, or a pool limit of 0
    where: Placement | None = None
    runs_on: Literal["local", "cluster"] | None = None  # None for groups
    command: str | list[str] | None = None  # as written
    expanded: str | None = None  # a shell command with its $TASKFLOW_PARAM_* references filled in
    python: str | None = None
    params: dict[str, Any] = {}  # what the leaf would get: its own params, then the trigger's
    param_env: dict[str, str] = {}  # a command leaf's TASKFLOW_PARAM_* variables
    problem: str | None = None  # why its attempt would fail before starting (config), if it would


class TaskPlan(View):
    """The plan of one trigger: the summary of the whole tree, and one page of its nodes."""

    task: str
    params: dict[str, Any] = {}  # the trigger's, after pre-run hooks
    nodes_total: int = 0
    leaves: int = 0
    leaves_run: int = 0  # leaves that run on the happy path
    skipped: int = 0  # nodes (groups too) that would not run on the happy path
    problems: int = 0  # leaves whose attempt would fail before starting
    waves: list[int] = []  # waves[i]: leaves starting in wave i + 1
    max_workers: int = 0
    executor: str = "local"  # "local" or "dask"
    paused: list[str] = []  # what is paused now that holds some of this tree
    nodes: list[PlannedNode] = []  # tree order, from ``offset``
    offset: int = 0
    next_offset: int | None = None  # None: no more nodes


class PlanTask(Request[TaskPlan], kw_only=True):
    """What triggering ``task`` with ``params`` would run — checked as ``TriggerTask`` is,
    but nothing runs, nothing is stored and nothing is audited. Nodes ``offset`` onwards,
    at most ``limit`` (and never more than fit in a frame)."""

    task: str
    params: dict[str, Any] = {}
    offset: int = 0
    limit: int = PLAN_PAGE
