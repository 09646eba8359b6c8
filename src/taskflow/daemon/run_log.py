"""The daemon's log of run transitions: one record per change of a run's state.

Subscribed to the engine's bus, it logs each run's start, end and every step between with
the run's id, task and new state as record fields (``extra``), so ``--log-format json``
lines carry ``run_id``, ``task`` and ``state`` and journald can be searched by run. Waiting
states (pending, queued) are logged at debug level: a big tree queues thousands at once.
"""

from __future__ import annotations

import logging

from taskflow.engine.events import EngineEvent, RunUpdated
from taskflow.model import Run, RunState

log = logging.getLogger("taskflow.runs")

_LEVELS = {
    RunState.PENDING: logging.DEBUG,
    RunState.QUEUED: logging.DEBUG,
    RunState.RUNNING: logging.INFO,
    RunState.RETRYING: logging.WARNING,
    RunState.BLOCKED: logging.INFO,
    RunState.SUCCEEDED: logging.INFO,
    RunState.FAILED: logging.WARNING,
    RunState.CANCELLED: logging.INFO,
    RunState.SKIPPED: logging.INFO,
    RunState.INTERRUPTED: logging.WARNING,
}


class RunLog:
    """Bus subscriber: logs a run each time its state changes (not on progress updates)."""

    def __init__(self) -> None:
        self._last: dict[str, RunState] = {}  # runs in flight -> the state last logged

    def __call__(self, event: EngineEvent) -> None:
        if not isinstance(event, RunUpdated):
            return
        run = event.run
        if self._last.get(run.id) is run.state:
            return
        if run.state.terminal:
            self._last.pop(run.id, None)
        else:
            self._last[run.id] = run.state
        level = _LEVELS[run.state]
        if log.isEnabledFor(level):
            log.log(level, "run %s of %s %s", run.id, run.task, _describe(run),
                    extra={"run_id": run.id, "task": run.task, "state": run.state.value})


def _describe(run: Run) -> str:
    """The new state, with why when the run did not succeed."""
    text = run.state.value
    if run.error_type is not None and run.state in (RunState.FAILED, RunState.RETRYING):
        text += f" ({run.error_type})"
    if run.skip_reason is not None and run.state is RunState.SKIPPED:
        text += f" ({run.skip_reason})"
    if run.message and run.state is not RunState.RUNNING and run.state is not RunState.SUCCEEDED:
        text += f": {run.message}"
    return text
