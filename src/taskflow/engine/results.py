"""Results that flow: what a leaf is told of the dependencies it waited for.

For each dependency ``NAME`` (its last path part, upper-cased, other characters as ``_``):
``TASKFLOW_UPSTREAM_<NAME>_STATE`` (how it ended) and, when it ran,
``TASKFLOW_UPSTREAM_<NAME>_RESULT``: the path of the file its last attempt's result is in
(``$TASKFLOW_RESULT`` of that attempt: a Python task's return value as JSON, or whatever a
command wrote there). The file exists only when the dependency left a result. A Python task
reads them typed through ``Context.upstream``.

A run of a schedule slot (fired by the schedule, a missed-slot catch-up, or ``backfill``)
also tells its leaves that slot: ``TASKFLOW_SCHEDULED_AT`` (RFC 3339, UTC); a Python task
reads it as ``Context.scheduled_at``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from taskflow.engine.executor import TASK_RESULT_NAME
from taskflow.model import Run
from taskflow.pytask.upstream import upstream_var


def upstream_env(upstream: Iterable[tuple[str, Run]], locate: Callable[[str, int], str]) -> dict[str, str]:
    """The variables for ``upstream`` (dependency task name, its run), ``locate`` being the
    executor's ``locate_output``."""
    env: dict[str, str] = {}
    for task, run in upstream:
        env[upstream_var(task, "STATE")] = str(run.state)
        if run.attempts:
            env[upstream_var(task)] = os.path.join(locate(run.id, run.attempts), TASK_RESULT_NAME)
    return env


#: The variable that gives a scheduled (or backfill) run's slot to its leaves, RFC 3339 UTC.
SCHEDULED_AT_VAR = "TASKFLOW_SCHEDULED_AT"


def slot_env(scheduled_at: datetime) -> dict[str, str]:
    """``TASKFLOW_SCHEDULED_AT`` for a run of the slot ``scheduled_at``: RFC 3339 in UTC,
    ``Z``-suffixed, whole seconds unless the slot has a fraction."""
    return {SCHEDULED_AT_VAR: rfc3339(scheduled_at)}


def rfc3339(when: datetime) -> str:
    """``2026-01-02T02:00:00Z``: a time as the schedule variable and the CLI give it."""
    text = when.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"
