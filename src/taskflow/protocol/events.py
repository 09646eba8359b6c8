"""Events the daemon pushes to subscribers, and the topics that select them.

Each event travels inside a ``Push{seq, event}`` envelope whose ``seq`` rises by one per
connection, so a subscriber can see a gap. ``Resync`` is sent on every topic subscription
when the daemon had to drop a slow subscriber's queue (or, client-side, after a reconnect):
the receiver should re-read the state it shows.
"""

from __future__ import annotations

from typing import Final, get_args

from taskflow.model import Attempt, BreakerState, Run
from taskflow.protocol.base import Body
from taskflow.protocol.task_views import StatusInfo, TaskInfo

TOPIC_RUNS: Final = "runs"
TOPIC_ATTEMPTS: Final = "attempts"
TOPIC_TASKS: Final = "tasks"
TOPIC_BREAKERS: Final = "breakers"
TOPIC_LOGS: Final = "logs"
TOPIC_STATS: Final = "stats"
TOPICS: Final = frozenset(
    {TOPIC_RUNS, TOPIC_ATTEMPTS, TOPIC_TASKS, TOPIC_BREAKERS, TOPIC_LOGS, TOPIC_STATS}
)


class RunChanged(Body, kw_only=True):
    """A run was created or changed state, progress or outcome (topic ``runs``)."""

    run: Run


class AttemptChanged(Body, kw_only=True):
    """An attempt started, changed or finished (topic ``attempts``)."""

    attempt: Attempt
    root_id: str | None = None  # root of the run tree, so a tree's follower can filter


class TaskChanged(Body, kw_only=True):
    """One task definition or its live state changed: enabled, disabled, last run (``tasks``)."""

    task: TaskInfo


class TaskRemoved(Body, kw_only=True):
    """A task disappeared from the task files (topic ``tasks``)."""

    name: str


class TasksReloaded(Body, kw_only=True):
    """Task files were re-read; clients re-list tasks (topic ``tasks``)."""

    tasks: int
    errors: list[str] = []


class BreakerChanged(Body, kw_only=True):
    """A service's circuit breaker opened, closed, half-opened or was reset (``breakers``)."""

    state: BreakerState


class LogLines(Body, kw_only=True):
    """New complete output lines of an attempt (topic ``logs``)."""

    run_id: str
    attempt: int
    stream: str  # "stdout" or "stderr"
    lines: list[str]
    root_id: str | None = None


class DaemonStats(Body, kw_only=True):
    """Periodic daemon load figures (topic ``stats``)."""

    stats: StatusInfo


class Resync(Body, kw_only=True):
    """Events were lost (slow consumer, reconnect): re-read state instead of patching it."""

    reason: str


Event = (
    RunChanged
    | AttemptChanged
    | TaskChanged
    | TaskRemoved
    | TasksReloaded
    | BreakerChanged
    | LogLines
    | DaemonStats
    | Resync
)
EVENT_TYPES: Final[tuple[type[Body], ...]] = get_args(Event)


def event_run_ids(event: object) -> tuple[str | None, ...] | None:
    """The run ids an event concerns (itself and its tree's root), or ``None`` if not run-scoped.

    The server uses it to honour ``Subscribe.run_id``: a follower of one run tree gets only
    that tree's run, attempt and log events.
    """
    if isinstance(event, RunChanged):
        return (event.run.id, event.run.root_id)
    if isinstance(event, AttemptChanged):
        return (event.attempt.run_id, event.root_id)
    if isinstance(event, LogLines):
        return (event.run_id, event.root_id)
    return None
