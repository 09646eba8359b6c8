"""The seam between the engine and whatever runs attempts: the ``Executor`` protocol.

The ledger and the scheduler never see a process. They hand a leaf to an ``Executor``, get an
``AttemptHandle`` back, and wait for its ``AttemptOutcome``. The local ``ProcessExecutor``
(``taskflow.engine.process``) is the first implementation; a remote one (a cluster) has to
provide exactly this and nothing else: start, cancel, adopt after a restart, trace a start the
store never recorded, read an outcome, locate and read output, and sample resources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import msgspec

from taskflow.model import Attempt, ErrorType, TaskSpec

#: Where an attempt leaves its result, in the folder ``locate_output`` names: the task's
#: ``$TASKFLOW_RESULT``, which the tasks that depend on it read (``engine.results``).
TASK_RESULT_NAME = "result"

# A Python task reported progress: (run id, fraction 0..1, message).
ProgressCallback = Callable[[str, float, str | None], None]


class AttemptOutcome(msgspec.Struct, kw_only=True):
    """The end of one attempt, ready to copy onto ``Attempt``.

    ``error_type`` None means success. A cancelled attempt has ``cancelled`` True,
    ``error_type`` SIGNAL and message "cancelled; ..." (the engine marks the run cancelled).
    """

    exit_code: int | None
    signal: int | None
    error_type: ErrorType | None
    message: str | None
    peak_rss: int | None
    cpu_seconds: float | None
    result: Any = None
    exception: dict[str, Any] | None = None
    output_bytes: int = 0
    output_cut: int = 0
    cancelled: bool = False
    finished_at: datetime


class ResourceUsage(NamedTuple):
    """What an attempt uses, as last sampled: resident memory (bytes) and CPU seconds."""

    rss: int | None
    cpu_seconds: float | None


class OutputChunk(NamedTuple):
    """Bytes of one output stream from an offset, where the next read starts, bytes cut."""

    data: bytes
    next_offset: int
    cut: int


class AttemptHandle(Protocol):
    """One started (or adopted) attempt, until its outcome is known."""

    @property
    def pid(self) -> int | None: ...
    @property
    def pid_started_at(self) -> float | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def output_dir(self) -> str: ...

    async def wait(self) -> AttemptOutcome | None:
        """The outcome once the attempt ended; None if it was detached."""
        ...

    def cancel(self) -> None:
        """End the attempt (the outcome then says ``cancelled``)."""
        ...

    def usage(self) -> ResourceUsage:
        """Resources used so far, as last sampled."""
        ...


# What adopting or tracing finds: still running, already ended, or nothing to tell.
Found = AttemptHandle | AttemptOutcome | None


class Executor(Protocol):
    """Runs attempts for the engine."""

    on_progress: ProgressCallback | None

    @property
    def stop_grace(self) -> float:
        """Seconds a cancelled attempt gets between the polite and the hard stop."""
        ...

    def refusal(self, spec: TaskSpec) -> str | None:
        """Why this executor cannot run ``spec`` at all (a configuration problem), or None."""
        ...

    def start(self, spec: TaskSpec, run_id: str, attempt: int, params: Mapping[str, Any]) -> AttemptHandle:
        """Start attempt ``attempt`` of ``run_id`` now. Never raises for the task's own
        problem: a failure to start is a handle whose outcome says so."""
        ...

    async def adopt(self, attempt: Attempt, spec: TaskSpec | None) -> Found:
        """Reconnect to a recorded attempt after a restart."""
        ...

    async def trace(self, run_id: str, number: int, spec: TaskSpec | None) -> tuple[Attempt, Found] | None:
        """Attempt ``number`` of ``run_id`` from the traces it left, for a start the store
        never recorded; None when it never began (starting it is safe)."""
        ...

    def locate_output(self, run_id: str, number: int) -> str:
        """Where the output of attempt ``number`` of ``run_id`` is (or will be) kept."""
        ...

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        """Up to ``limit`` bytes of ``stream`` of the attempt kept at ``output_dir``."""
        ...

    async def stop_all(self) -> None:
        """Cancel every running attempt and wait for their outcomes."""
        ...

    def detach_all(self) -> None:
        """Leave every running attempt running; a later ``adopt`` finds them."""
        ...

    def close(self) -> None:
        """Release what the executor holds (after ``stop_all`` or ``detach_all``)."""
        ...
