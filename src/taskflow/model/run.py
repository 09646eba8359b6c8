"""Runs and attempts: what happened when a task executed.

Times are timezone-aware UTC datetimes; on the wire and in ``--json`` they are RFC 3339.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec


class RunState(enum.StrEnum):
    PENDING = "pending"  # waiting for dependencies
    QUEUED = "queued"  # ready, waiting for a worker slot
    RUNNING = "running"
    RETRYING = "retrying"  # failed attempt, waiting for its backoff
    BLOCKED = "blocked"  # its service's breaker is open or its rate limit is spent
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.SKIPPED, RunState.INTERRUPTED}
)
ACTIVE_STATES = frozenset(set(RunState) - TERMINAL_STATES)


class ErrorType(enum.StrEnum):
    EXIT = "exit"  # non-zero exit
    TIMEOUT = "timeout"
    SIGNAL = "signal"
    EXCEPTION = "exception"  # Python task raised
    CONFIG = "config"  # bad parameters, missing function: never retried
    RESOURCES = "resources"  # a limit was hit
    SPAWN = "spawn"  # could not start
    LOST = "lost"  # the cluster worker running it went away (dask executor)


class SkipReason(enum.StrEnum):
    UPSTREAM = "upstream"  # a required dependency did not succeed
    CONDITION = "condition"  # run_if not met
    MARKED = "marked"  # an operator marked it skipped (``taskflow mark``): it counts as done


class Trigger(enum.StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    RERUN = "rerun"
    ADHOC = "adhoc"
    BACKFILL = "backfill"  # ``taskflow backfill``: one run per past schedule slot


class Attempt(msgspec.Struct, kw_only=True):
    """One try of a leaf run."""

    run_id: str
    number: int  # 1-based
    state: RunState = RunState.RUNNING
    pid: int | None = None
    pid_started_at: float | None = None  # process create time, to recognise it after a restart
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    signal: int | None = None
    error_type: ErrorType | None = None
    message: str | None = None
    peak_rss: int | None = None  # bytes, whole process tree
    cpu_seconds: float | None = None
    output_dir: str | None = None  # holds stdout, stderr, status and (Python) result files
    output_bytes: int = 0
    output_cut: int = 0  # bytes dropped from the head by the output cap
    result: Any = None  # Python task return value (JSON-safe)
    worker: str | None = None  # the cluster worker that ran it (dask executor); None: this host
    traceback: str | None = None  # a Python task's exception, as the runner formatted it


class Run(msgspec.Struct, kw_only=True):
    """One execution of a task; a group's run aggregates its children's."""

    id: str
    task: str
    root_id: str
    parent_id: str | None = None
    state: RunState = RunState.PENDING
    trigger: Trigger = Trigger.MANUAL
    priority: int = 2
    params: dict[str, Any] = {}
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    not_before: datetime | None = None  # retry backoff deadline
    error_type: ErrorType | None = None
    skip_reason: SkipReason | None = None
    message: str | None = None
    exit_code: int | None = None
    result: Any = None
    attempts: int = 0
    progress: float | None = None
    progress_message: str | None = None
    requested_by: str | None = None
    late_at: datetime | None = None  # when it went past its task's ``expect`` (still in flight)
    scheduled_at: datetime | None = None  # the schedule slot it runs for (schedule, backfill); None: manual
    after_run: str | None = None  # root only: waits ``pending`` until that run ended (slots one at a time)
    # Set when an operator marked the ended run succeeded or skipped (``taskflow mark``).
    marked_by: str | None = None
    marked_reason: str | None = None
    marked_from: RunState | None = None  # its state before the mark
    marked_at: datetime | None = None
    spec: bytes | None = None  # msgpack TaskSpec snapshot for ad-hoc runs and removed tasks

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            from datetime import UTC

            end = datetime.now(UTC)
        return (end - self.started_at).total_seconds()


class RunTree(msgspec.Struct, kw_only=True):
    """A run with its attempts and child run trees, as ``show`` prints it."""

    run: Run
    attempts: list[Attempt] = []
    children: list[RunTree] = []

    def walk(self) -> Iterator[RunTree]:
        """This tree and every tree below it, depth first, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()

    @staticmethod
    def linked(nodes: list[RunTree]) -> RunTree:
        """The tree of childless ``nodes`` given in tree order (the top first, each parent
        before its children, as ``PageRunTree`` pages them), linked by ``parent_id``."""
        by_id = {node.run.id: node for node in nodes}
        for node in nodes[1:]:
            parent = by_id.get(node.run.parent_id or "")
            if parent is not None:
                parent.children.append(node)
        return nodes[0]
