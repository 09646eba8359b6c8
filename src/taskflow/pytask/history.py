"""``taskflow.History``: a Python task's read-only view of its own task's earlier runs.

A parameter annotated ``taskflow.History`` is injected, like ``taskflow.Context``. The daemon
reads the task's latest ended runs from its store when the run starts and hands them to the
runner with the call (under ``HISTORY_KEY``, never a parameter of the function), so a task
can see how it went last time — when it last succeeded, what it returned — without talking
to the daemon. Newest first; at most ``HISTORY_LIMIT`` runs; runs still going are not in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, overload

import msgspec

#: The key of the call's params under which the daemon passes the history to the runner.
HISTORY_KEY = "__taskflow_history__"
#: How many earlier runs a task sees.
HISTORY_LIMIT = 20


class PastRun(msgspec.Struct, frozen=True, kw_only=True):
    """One earlier, ended run of the task (its own run record, as ``show`` has it)."""

    id: str
    state: str  # succeeded, failed, cancelled, skipped, interrupted
    trigger: str = "manual"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_type: str | None = None
    exit_code: int | None = None
    message: str | None = None
    result: Any = None

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"


class History(Sequence[PastRun]):
    """The task's earlier runs, newest first; read-only."""

    __slots__ = ("_runs",)

    def __init__(self, runs: Sequence[PastRun] = ()) -> None:
        self._runs = tuple(runs)

    @classmethod
    def from_call(cls, records: Any) -> History:
        """The history as the runner received it (a list of run records), or empty."""
        if not records:
            return cls()
        return cls(msgspec.convert(records, list[PastRun]))

    @overload
    def __getitem__(self, index: int) -> PastRun: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PastRun]: ...
    def __getitem__(self, index: int | slice) -> PastRun | Sequence[PastRun]:
        return self._runs[index]

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[PastRun]:
        return iter(self._runs)

    @property
    def last(self) -> PastRun | None:
        """The latest earlier run, or None when this is the first."""
        return self._runs[0] if self._runs else None

    @property
    def last_success(self) -> PastRun | None:
        """The latest earlier run that succeeded, or None."""
        return next((run for run in self._runs if run.succeeded), None)

    def __repr__(self) -> str:
        return f"History({len(self._runs)} runs)"
