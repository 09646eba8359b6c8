"""Requests a client may send, one Struct each, and the result type each one answers with.

A request class names its result type as its generic parameter (``ListRuns`` is a
``Request[list[Run]]``), so ``client.call(ListRuns())`` is typed ``list[Run]`` and both sides
encode and decode the ``Ok`` payload as that type — never as a loose dict.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any, Generic, TypeVar

import msgspec

from taskflow.model import AuditEntry, BreakerState, Run, RunState, RunTree, TaskSpec
from taskflow.protocol.base import Body
from taskflow.protocol.views import (
    HealthInfo,
    LogChunk,
    LogStream,
    ReloadInfo,
    RunRef,
    StatusInfo,
    TaskInfo,
)

R = TypeVar("R")


class Request(Body, Generic[R], kw_only=True):
    """A request; ``id`` is set by the client and echoed in its one response."""

    id: int = 0


# Reads (any role)
class Status(Request[StatusInfo], kw_only=True):
    """Daemon version, pid, uptime, workers and run counts."""


class Health(Request[HealthInfo], kw_only=True):
    """Whether the daemon answers and its loop keeps up."""


class ListTasks(Request[list[TaskInfo]], kw_only=True):
    """Task definitions, optionally only enabled/disabled ones or one tag's."""

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
    """One run tree with its attempts."""

    run_id: str


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
    """Start a task or a whole tree; ``params`` override the task's ``params``."""

    task: str
    params: dict[str, Any] = {}
    wait: bool = False


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


class Reload(Request[ReloadInfo], kw_only=True):
    """Re-read config and task files now (as SIGHUP does)."""


# Subscriptions (handled by the server transport itself)
class Subscribe(Request[list[str]], kw_only=True):
    """Replace this connection's subscription; the result lists the topics now subscribed.

    ``run_id`` limits run, attempt and log events to that run and the tree below it.
    """

    topics: list[str]
    run_id: str | None = None


class Unsubscribe(Request[list[str]], kw_only=True):
    """Stop all pushed events on this connection."""


AnyRequest = (
    Status
    | Health
    | ListTasks
    | GetTask
    | ListRuns
    | ShowRun
    | ReadLogs
    | ListBreakers
    | ListAudit
    | TriggerTask
    | Exec
    | Cancel
    | Rerun
    | EnableTask
    | DisableTask
    | ResetBreaker
    | TripBreaker
    | Reload
    | Subscribe
    | Unsubscribe
)
REQUEST_TYPES: tuple[type[Request[Any]], ...] = AnyRequest.__args__  # type: ignore[attr-defined]

# Requests that change state; the daemon audits these and refuses them to viewers.
MUTATING_REQUESTS: frozenset[type[Request[Any]]] = frozenset(
    {TriggerTask, Exec, Cancel, Rerun, EnableTask, DisableTask, ResetBreaker, TripBreaker, Reload}
)


def response_type(request_type: type[Request[Any]]) -> Any:
    """The result type a request class answers with: its ``Request[...]`` parameter."""
    for base in getattr(request_type, "__orig_bases__", ()):
        if typing.get_origin(base) is Request:
            return typing.get_args(base)[0]
    raise TypeError(f"{request_type.__name__} does not name its result type")


RESPONSE_TYPES: dict[type[Request[Any]], Any] = {cls: response_type(cls) for cls in REQUEST_TYPES}


@cache
def result_decoder(request_type: type[Request[Any]]) -> msgspec.msgpack.Decoder[Any]:
    """A strict decoder for ``request_type``'s result (cached: building one is not free)."""
    return msgspec.msgpack.Decoder(RESPONSE_TYPES[request_type])
