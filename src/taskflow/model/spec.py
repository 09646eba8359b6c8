"""Resolved task definitions: what a task file means once loaded, flattened and checked.

A ``TaskSpec`` is immutable; the engine, the store and the clients share it as is. Names are
full paths (``nightly/verify``); a group lists its direct children by full name.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

import msgspec

from taskflow.model.placement import Placement


class Priority(enum.IntEnum):
    """0 runs first; FIFO within one priority."""

    URGENT = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


TaskKind = Literal["command", "python", "group"]
#: When a task with dependencies runs: once they are all done, unless a required one did not
#: succeed ("all_done"), or only if one did not succeed ("any_failed": rollbacks, alerts).
RunIf = Literal["all_done", "any_failed"]
#: What a task does while its service's breaker is open: wait for it to close, or fail at once.
OnOpen = Literal["wait", "fail"]
MissedPolicy = Literal["skip", "once", "all"]


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How failed attempts are retried.

    ``on`` lists conditions that allow a retry: ``"timeout"``, ``"exit"`` (any non-zero exit),
    ``"exit:75"``, ``"signal"``, ``"resources"``, ``"spawn"``, or a Python exception class name.
    Empty means any failure except ``config``.
    """

    max: int = 0
    backoff: float = 1.0
    max_backoff: float = 60.0
    jitter: float = 0.2
    on: tuple[str, ...] = ()


class Dependency(msgspec.Struct, frozen=True):
    """An edge in a task tree. Optional dependencies only order; required ones gate."""

    task: str
    required: bool = True


class Expectation(msgspec.Struct, frozen=True, kw_only=True):
    """``expect``: when a run is *late* (told, shown, counted — never killed: that is
    ``timeout``). ``duration``: a run still going this many seconds after it started.
    ``by``: "HH:MM" in ``timezone`` — a task with no run that succeeded in the 24 hours
    before that time of day."""

    duration: float | None = None
    by: str | None = None
    timezone: str = "UTC"


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """When a task fires by itself. Exactly one of ``cron``, ``every``, ``at`` is set."""

    cron: str | None = None
    every: float | None = None
    at: datetime | None = None
    timezone: str = "UTC"
    missed: MissedPolicy = "skip"
    max_missed: int = 10
    allow_overlap: bool = False

    def describe(self) -> str:
        if self.cron is not None:
            return self.cron
        if self.every is not None:
            from taskflow.model.units import format_duration

            return f"every {format_duration(self.every)}"
        if self.at is not None:
            return f"at {self.at.isoformat()}"
        return "-"


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Resource limits of one attempt. ``memory`` in bytes (whole process tree RSS),
    ``cpu`` in CPU-seconds (per process, enforced by RLIMIT_CPU)."""

    memory: int | None = None
    cpu: float | None = None


class TaskSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One node of a task tree, as the engine sees it."""

    name: str
    kind: TaskKind
    command: str | tuple[str, ...] | None = None
    python: str | None = None
    params: dict[str, Any] = {}
    children: tuple[str, ...] = ()
    parent: str | None = None
    depends_on: tuple[Dependency, ...] = ()
    run_if: RunIf = "all_done"
    description: str = ""
    timeout: float | None = None
    retries: RetryPolicy = RetryPolicy()
    priority: int = Priority.NORMAL
    enabled: bool = True
    service: str | None = None
    on_open: OnOpen = "wait"
    env: dict[str, str] = {}
    cwd: str | None = None
    pool: str | None = None
    limits: Limits = Limits()
    schedule: Schedule | None = None
    tags: tuple[str, ...] = ()
    user: str | None = None
    where: Placement | None = None  # run on a cluster worker (the dask executor)
    expect: Expectation | None = None  # when a run counts as late (SLA)
    source: str = ""

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def root(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


class BreakerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Per-service circuit breaker: open after ``failures`` consecutive failures, probe after
    ``cooldown`` seconds."""

    failures: int = 3
    cooldown: float = 30.0


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """Token bucket: ``rate`` starts per second, bursts of up to ``burst``."""

    rate: float
    burst: int = 1


class ServiceSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    breaker: BreakerSettings = BreakerSettings()
    rate_limit: RateLimit | None = None


class TaskFileError(msgspec.Struct, frozen=True):
    """One problem in a task file: ``file: path: reason``."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.reason}"
        return f"{self.file}: {self.reason}"


class TaskSet(msgspec.Struct, kw_only=True):
    """Everything loaded from a set of task files. ``tasks`` keeps only valid files' tasks;
    ``errors`` lists every problem found."""

    tasks: dict[str, TaskSpec] = {}
    pools: dict[str, int] = {}
    services: dict[str, ServiceSpec] = {}
    errors: list[TaskFileError] = []
    files: list[str] = []

    def roots(self) -> list[TaskSpec]:
        return [t for t in self.tasks.values() if t.parent is None]

    def subtree(self, name: str) -> list[TaskSpec]:
        """``name`` and all its descendants, parents before children."""
        out: list[TaskSpec] = []
        stack = [name]
        while stack:
            spec = self.tasks[stack.pop()]
            out.append(spec)
            stack.extend(reversed(spec.children))
        return out
