"""Requests about tasks, runs, their output, breakers and the audit log, and the table of
every request a client may send.

A request class names its result type as its generic parameter (``ListRuns`` is a
``Request[list[Run]]``), so ``client.call(ListRuns())`` is typed ``list[Run]`` and both sides
encode and decode the ``Ok`` payload as that type — never as a loose dict. The base and the
result decoders live in ``request_base``; the requests about the daemon and the connection
itself (``Status``, ``Health``, ``Reload``, ``Subscribe``...) in ``daemon_requests``, so the
lightest CLI calls need not load this module and the model types it names. They are
re-exported here, with the table (``AnyRequest``, ``REQUEST_TYPES``...) that covers both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from taskflow.model import AuditEntry, BreakerState, Run, RunState, RunTree, TaskSpec
from taskflow.protocol.artifacts import ListArtifacts, ReadArtifact
from taskflow.protocol.backfill import Backfill
from taskflow.protocol.daemon_requests import Health, Reload, Status, Subscribe, Unsubscribe
from taskflow.protocol.daemon_views import PauseInfo
from taskflow.protocol.plan import PlanTask
from taskflow.protocol.request_base import Request, response_type, result_decoder
from taskflow.protocol.task_views import LogChunk, LogStream, RunRef, RunSummary, TaskInfo, TaskPage, TreePage

__all__ = [
    "MUTATING_REQUESTS",
    "REQUEST_TYPES",
    "RESPONSE_TYPES",
    "AnyRequest",
    "Backfill",
    "Cancel",
    "DisableTask",
    "EnableTask",
    "Exec",
    "GetRun",
    "GetTask",
    "Health",
    "ListAudit",
    "ListBreakers",
    "ListRuns",
    "ListTasks",
    "Mark",
    "PageRunTree",
    "PageTasks",
    "Pause",
    "PlanTask",
    "ReadLogs",
    "Reload",
    "Request",
    "Rerun",
    "ResetBreaker",
    "Resume",
    "ShowRun",
    "Status",
    "Subscribe",
    "SummarizeRun",
    "TriggerTask",
    "TripBreaker",
    "Unsubscribe",
    "response_type",
    "result_decoder",
]


# Reads (any role)
class ListTasks(Request[list[TaskInfo]], kw_only=True):
    """Task definitions, optionally only enabled/disabled ones or one tag's. More than fit in
    one frame are refused (``bad_request``): use ``PageTasks``."""

    enabled: bool | None = None
    tag: str | None = None


class PageTasks(Request[TaskPage], kw_only=True):
    """Task definitions in name order after ``after`` (from the start when None), at most
    ``limit`` and never more than fit in one frame; filtered as ``ListTasks``."""

    after: str | None = None
    limit: int = 2000
    enabled: bool | None = None
    tag: str | None = None


class GetTask(Request[TaskSpec], kw_only=True):
    """One task's full resolved definition."""

    name: str


class ListRuns(Request[list[Run]], kw_only=True):
    """Run history, newest first; ``before`` (a run id) pages backwards."""

    state: RunState | None = None
    task: str | None = None
    limit: int = 50
    roots_only: bool = True
    before: str | None = None


class ShowRun(Request[RunTree], kw_only=True):
    """One run tree with its attempts. A tree too big for one frame is refused
    (``bad_request``): use ``SummarizeRun`` and ``PageRunTree``."""

    run_id: str


class GetRun(Request[Run], kw_only=True):
    """One run alone, without its tree: what waiting on a run polls."""

    run_id: str


class SummarizeRun(Request[RunSummary], kw_only=True):
    """A run's tree as counts by state, with the first ``limit`` leaves in trouble."""

    run_id: str
    limit: int = 20


class PageRunTree(Request[TreePage], kw_only=True):
    """The runs of a run's tree, in tree order, ``limit`` from ``offset``."""

    run_id: str
    offset: int = 0
    limit: int = 500


class ReadLogs(Request[LogChunk], kw_only=True):
    """A chunk of an attempt's output; ``attempt=None`` means the latest attempt."""

    run_id: str
    attempt: int | None = None
    stream: LogStream = "both"
    offset: int = 0
    max_bytes: int = 64 * 1024


class ListBreakers(Request[list[BreakerState]], kw_only=True):
    """Every service's circuit breaker."""


class ListAudit(Request[list[AuditEntry]], kw_only=True):
    """The newest audit entries."""

    limit: int = 100


# Mutations (operator or admin; the daemon's handler checks the role)
class TriggerTask(Request[RunRef], kw_only=True):
    """Start a task or a whole tree; ``params`` override the task's ``params``.

    ``at``: start no earlier than this time (the tree waits ``pending`` with ``not_before``
    set: *scheduled*; cancellable, kept across restarts). ``priority`` (0 urgent … 3 low)
    overrides the priority of every run of the tree."""

    task: str
    params: dict[str, Any] = {}
    wait: bool = False
    at: datetime | None = None
    priority: int | None = None


class Exec(Request[RunRef], kw_only=True):
    """Run an ad-hoc command (argv) as a one-off task."""

    command: list[str]
    name: str | None = None
    timeout: float | None = None
    retries: int = 0
    cwd: str | None = None


class Cancel(Request[RunRef], kw_only=True):
    """Cancel a run and its whole tree."""

    run_id: str


class Rerun(Request[RunRef], kw_only=True):
    """Start a run again as a new run; ``failed_only`` reruns only what did not succeed."""

    run_id: str
    failed_only: bool = False


class Mark(Request[Run], kw_only=True):
    """Mark an ended run that did not succeed as ``succeeded`` or ``skipped``, with a reason:
    its dependents skipped because of it run, its groups are decided again. Answers the
    marked run (with ``marked_by``, ``marked_reason``, ``marked_from``, ``marked_at``)."""

    run_id: str
    state: RunState
    reason: str


class EnableTask(Request[TaskInfo], kw_only=True):
    name: str


class DisableTask(Request[TaskInfo], kw_only=True):
    """Disable a task: it can no longer be triggered or fire on schedule."""

    name: str
    reason: str = ""


class ResetBreaker(Request[BreakerState], kw_only=True):
    service: str


class TripBreaker(Request[BreakerState], kw_only=True):
    service: str


class Pause(Request[PauseInfo], kw_only=True):
    """Hold queued work: of everything (``all``), one ``pool`` or one ``task`` (and its
    subtree); exactly one of the three. Running work goes on."""

    all: bool = False
    pool: str | None = None
    task: str | None = None


class Resume(Request[PauseInfo], kw_only=True):
    """Lift a pause: ``all`` lifts every pause; ``pool`` / ``task`` lift that one."""

    all: bool = False
    pool: str | None = None
    task: str | None = None


AnyRequest = (
    Status
    | Health
    | ListTasks
    | PageTasks
    | GetTask
    | ListRuns
    | ShowRun
    | GetRun
    | SummarizeRun
    | PageRunTree
    | ReadLogs
    | ListArtifacts
    | ReadArtifact
    | ListBreakers
    | ListAudit
    | PlanTask
    | TriggerTask
    | Exec
    | Cancel
    | Rerun
    | Mark
    | Backfill
    | EnableTask
    | DisableTask
    | ResetBreaker
    | TripBreaker
    | Reload
    | Pause
    | Resume
    | Subscribe
    | Unsubscribe
)
REQUEST_TYPES: tuple[type[Request[Any]], ...] = get_args(AnyRequest)

# Requests that change state; the daemon audits these and refuses them to viewers.
MUTATING_REQUESTS: frozenset[type[Request[Any]]] = frozenset(
    {TriggerTask, Exec, Cancel, Rerun, EnableTask, DisableTask, ResetBreaker, TripBreaker, Reload,
     Pause, Resume, Mark, Backfill}
)


RESPONSE_TYPES: dict[type[Request[Any]], Any] = {cls: response_type(cls) for cls in REQUEST_TYPES}
