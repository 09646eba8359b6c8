"""Which notifier hears of which engine event — and what it is told. No I/O here.

A run counts for a notifier when the notifier names its task (``tasks`` globs, ``tags``) or,
for a notifier that names none, when it is a top-level run: a 10,000-leaf tree that fails
is one notice, not 10,000. Breaker changes go to notifiers that name no task, or name a task
using that service.
"""

from __future__ import annotations

import fnmatch
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from taskflow.model import BreakerState, BreakerStatus, Run, RunState, TaskSpec
from taskflow.model.notifications import NotifierConfig, NotifyEvent

#: Terminal states told as "failed": a run that failed, or one a crash lost.
FAILED_STATES = frozenset({RunState.FAILED, RunState.INTERRUPTED})
#: Terminal states that say whether a task works (cancelled and skipped runs say nothing).
VERDICT_STATES = frozenset({RunState.SUCCEEDED, *FAILED_STATES})

HOST = socket.gethostname()


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell: ``body`` is the JSON document every channel carries."""

    event: NotifyEvent
    subject: str
    body: dict[str, Any]
    env: dict[str, str]


def names(notifier: NotifierConfig, task: str, spec: TaskSpec | None) -> bool:
    """Does the notifier's selection (``tasks`` globs, ``tags``) name this task?"""
    if any(fnmatch.fnmatchcase(task, pattern) for pattern in notifier.tasks):
        return True
    return spec is not None and bool(set(spec.tags) & set(notifier.tags))


def selects_nothing(notifier: NotifierConfig) -> bool:
    return not notifier.tasks and not notifier.tags


def wants_run(notifier: NotifierConfig, run: Run, tasks: Mapping[str, TaskSpec]) -> bool:
    if selects_nothing(notifier):
        return run.parent_id is None
    return names(notifier, run.task, tasks.get(run.task))


def wants_service(notifier: NotifierConfig, service: str, tasks: Mapping[str, TaskSpec]) -> bool:
    if selects_nothing(notifier):
        return True
    return any(spec.service == service and names(notifier, name, spec) for name, spec in tasks.items())


def breaker_event(previous: BreakerStatus | None, state: BreakerState) -> NotifyEvent | None:
    """``breaker_opened`` when it opens (tripped or by failures), ``breaker_closed`` when an
    open or half-open breaker closes; half-open alone is not news."""
    if state.status == BreakerStatus.OPEN and previous != BreakerStatus.OPEN:
        return "breaker_opened"
    if state.status == BreakerStatus.CLOSED and previous not in (None, BreakerStatus.CLOSED):
        return "breaker_closed"
    return None


def run_notice(event: NotifyEvent, run: Run, previous: Run | None = None) -> Notice:
    what = {"failed": "failed", "recovered": "recovered", "late": "is late"}.get(event, event)
    subject = f"[taskflow] {run.task} {what} on {HOST}"
    body: dict[str, Any] = {
        "event": event,
        "host": HOST,
        "time": _now(),
        "run": _plain(_without_spec(run)),
    }
    if previous is not None:
        body["previous"] = {"id": previous.id, "state": str(previous.state)}
    env = {
        "TASKFLOW_EVENT": event,
        "TASKFLOW_HOST": HOST,
        "TASKFLOW_RUN_ID": run.id,
        "TASKFLOW_TASK": run.task,
        "TASKFLOW_STATE": str(run.state),
        "TASKFLOW_ERROR_TYPE": str(run.error_type or ""),
        "TASKFLOW_EXIT_CODE": "" if run.exit_code is None else str(run.exit_code),
        "TASKFLOW_MESSAGE": (run.message or "")[:2000],
    }
    return Notice(event, subject, body, env)


def wants_task(notifier: NotifierConfig, task: str, tasks: Mapping[str, TaskSpec]) -> bool:
    """A finding about a task as a whole (late by a time of day): as for its top-level runs."""
    if selects_nothing(notifier):
        return "/" not in task
    return names(notifier, task, tasks.get(task))


def late_notice(task: str, why: str, expected: str, run: Run | None) -> Notice:
    if why == "duration":
        subject = f"[taskflow] {task} is late on {HOST}: still running after {expected}"
    else:
        subject = f"[taskflow] {task} is late on {HOST}: no success by {expected}"
    body: dict[str, Any] = {"event": "late", "host": HOST, "time": _now(), "task": task,
                            "late": {"why": why, "expected": expected}}
    env = {"TASKFLOW_EVENT": "late", "TASKFLOW_HOST": HOST, "TASKFLOW_TASK": task,
           "TASKFLOW_LATE_WHY": why, "TASKFLOW_LATE_EXPECTED": expected}
    if run is not None:
        body["run"] = _plain(_without_spec(run))
        env.update(TASKFLOW_RUN_ID=run.id, TASKFLOW_STATE=str(run.state))
    return Notice("late", subject, body, env)


def breaker_notice(event: NotifyEvent, state: BreakerState) -> Notice:
    verb = "opened" if event == "breaker_opened" else "closed"
    subject = f"[taskflow] breaker {state.service} {verb} on {HOST}"
    body = {"event": event, "host": HOST, "time": _now(), "breaker": _plain(state)}
    env = {
        "TASKFLOW_EVENT": event,
        "TASKFLOW_HOST": HOST,
        "TASKFLOW_SERVICE": state.service,
        "TASKFLOW_STATE": str(state.status),
    }
    return Notice(event, subject, body, env)


def summary(notice: Notice) -> str:
    """A few lines for a person: the mail body's head, before the JSON."""
    run = notice.body.get("run")
    if notice.event == "late":
        late = notice.body["late"]
        lines = [notice.subject.removeprefix("[taskflow] "), "", f"task     {notice.body['task']}",
                 f"expected {late['expected']} ({late['why']})"]
        if run is not None:
            lines += [f"run      {run['id']}", f"state    {run['state']}"]
        return "\n".join(lines)
    if run is not None:
        lines = [notice.subject.removeprefix("[taskflow] "), "",
                 f"run      {run['id']}", f"task     {run['task']}", f"state    {run['state']}"]
        for key in ("error_type", "exit_code", "message", "started_at", "finished_at"):
            if run.get(key) not in (None, ""):
                lines.append(f"{key.replace('_', ' '):<8} {run[key]}")
        return "\n".join(lines)
    breaker = notice.body["breaker"]
    return "\n".join([notice.subject.removeprefix("[taskflow] "), "",
                      f"service  {breaker['service']}", f"status   {breaker['status']}",
                      f"failures {breaker['consecutive_failures']}"])


def _without_spec(run: Run) -> Run:
    return msgspec.structs.replace(run, spec=None) if run.spec is not None else run


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
