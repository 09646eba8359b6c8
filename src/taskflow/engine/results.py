"""Results that flow: what a leaf is told of the dependencies it waited for.

For each dependency ``NAME`` (its last path part, upper-cased, other characters as ``_``):
``TASKFLOW_UPSTREAM_<NAME>_STATE`` (how it ended) and, when it ran,
``TASKFLOW_UPSTREAM_<NAME>_RESULT``: the path of the file its last attempt's result is in
(``$TASKFLOW_RESULT`` of that attempt: a Python task's return value as JSON, or whatever a
command wrote there). The file exists only when the dependency left a result. A Python task
reads them typed through ``Context.upstream``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

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
