"""``RemoteAttempt``: the daemon's handle of one attempt running on a cluster worker.

It satisfies ``AttemptHandle``: ``wait`` resolves with the outcome the worker's wrapper
recorded (or ``lost`` when the worker went away), ``cancel`` asks the executor to kill the
remote process group. ``pid`` and the worker are known once the worker has started it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, Protocol

from taskflow.engine.cluster.messages import Placed
from taskflow.engine.cluster.mirror import OutputMirror
from taskflow.engine.executor import AttemptOutcome, ResourceUsage
from taskflow.model import ErrorType, Placement


class AttemptOwner(Protocol):
    """What a remote attempt needs of its executor: the way to its worker."""

    def cancel(self, handle: RemoteAttempt) -> None: ...


class RemoteAttempt:
    """One attempt sent to the cluster (or found there after a restart)."""

    def __init__(self, owner: AttemptOwner, *, key: str, run_id: str, number: int, mirror: OutputMirror,
                 started_at: datetime) -> None:
        self._owner = owner
        self.key = key
        self.run_id = run_id
        self.number = number
        self.mirror = mirror
        self.started_at = started_at
        self.placed: Placed | None = None
        self.pid: int | None = None
        self.pid_started_at: float | None = None
        self.cancel_requested = False
        self.dask_future: Any = None  # the Dask future while its result is awaited
        self.call: bytes = b""  # the encoded AttemptCall, kept to submit again after a reconnect
        self.where: Placement | None = None
        self._future: asyncio.Future[AttemptOutcome | None] = asyncio.get_running_loop().create_future()

    @property
    def output_dir(self) -> str:
        return self.mirror.folder

    @property
    def done(self) -> bool:
        return self._future.done()

    @property
    def worker(self) -> str | None:
        return self.placed.worker if self.placed is not None else None

    async def wait(self) -> AttemptOutcome | None:
        return await asyncio.shield(self._future)

    def cancel(self) -> None:
        if not self._future.done():
            self.cancel_requested = True
            self._owner.cancel(self)

    def usage(self) -> ResourceUsage:
        return ResourceUsage(None, None)

    def place(self, placed: Placed) -> bool:
        """Record where it runs; True the first time."""
        if self.placed is not None:
            return False
        self.placed = placed
        self.pid, self.pid_started_at = placed.pid, placed.pid_started_at
        return True

    def settle(self, outcome: AttemptOutcome | None) -> None:
        if not self._future.done():
            self.mirror.finish()
            self._future.set_result(outcome)


def lost_outcome(message: str) -> AttemptOutcome:
    return AttemptOutcome(exit_code=None, signal=None, error_type=ErrorType.LOST, message=message,
                          peak_rss=None, cpu_seconds=None, finished_at=datetime.now(UTC))


def failed_to_start(message: str) -> AttemptOutcome:
    return AttemptOutcome(exit_code=None, signal=None, error_type=ErrorType.SPAWN,
                          message=f"could not start on the cluster: {message}",
                          peak_rss=None, cpu_seconds=None, finished_at=datetime.now(UTC))


def cancelled_before_start() -> AttemptOutcome:
    return AttemptOutcome(exit_code=None, signal=None, error_type=ErrorType.SIGNAL,
                          message="cancelled before a worker started it", peak_rss=None, cpu_seconds=None,
                          cancelled=True, finished_at=datetime.now(UTC))
