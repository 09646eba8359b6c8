"""Result shapes made for clients: what ``status``, ``ls`` and ``logs`` show.

The model types (``Run``, ``RunTree``, ``TaskSpec``...) travel as they are; these views add
what only the daemon knows (next fire time, orphaned, live counters) or cut a large thing
(log output) into chunks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from taskflow.model import RunState

LogStream = Literal["stdout", "stderr", "both"]


class View(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of the view structs: strict like every message."""


class TaskInfo(View):
    """One task definition with its live state, as ``ls`` and the TUI's task tree show it."""

    name: str
    kind: str  # "command", "python" or "group"
    enabled: bool = True
    disabled_reason: str | None = None
    orphaned: bool = False  # its Python function cannot be imported or is not registered
    schedule: str | None = None  # human form: a cron line, "every 10m", "at ..."
    next_run: datetime | None = None
    last_state: RunState | None = None
    last_run_id: str | None = None
    last_finished_at: datetime | None = None
    description: str = ""
    tags: list[str] = []
    service: str | None = None
    pool: str | None = None
    depends_on: list[str] = []
    children: list[str] = []


class StatusInfo(View):
    """Daemon health and load at a glance (``status``, the TUI header, ``stats`` events)."""

    version: str
    pid: int
    started_at: datetime
    uptime: float  # seconds
    workers_busy: int = 0
    workers_max: int = 0
    counts: dict[str, int] = {}  # runs by state
    queued: int = 0
    task_errors: list[str] = []  # task file problems, "file: path: reason"
    files: int = 0
    tasks: int = 0


class HealthInfo(View):
    """``health``: whether the daemon's event loop keeps up."""

    ok: bool
    loop_lag_ms: float = 0.0


class RunRef(View):
    """The run a mutating request created or acted on."""

    id: str
    task: str


class LogChunk(View):
    """A slice of one attempt's output, read from ``offset`` (bytes) of its stream.

    ``cut`` is how many bytes the output cap dropped from the head; ``eof`` is true when the
    attempt has finished and everything up to its end has been returned, so a follower knows
    to stop.
    """

    run_id: str
    attempt: int
    stream: LogStream
    data: bytes
    offset: int
    next_offset: int
    cut: int = 0
    eof: bool = False


class ReloadInfo(View):
    """Outcome of a reload: how many tasks are loaded, and every task file problem."""

    tasks: int
    errors: list[str] = []
