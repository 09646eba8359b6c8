"""Views of the daemon itself: ``status``, ``health`` and ``reload`` results.

Apart from ``task_views`` because they name no model type: ``taskflow status --json``, which
monitoring polls, loads these without building the run and task Structs.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class View(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of the view structs: strict like every message."""


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
    problems: list[str] = []  # daemon-level trouble, one sentence each (e.g. a full state disk)


class HealthInfo(View):
    """``health``: whether the daemon's event loop keeps up."""

    ok: bool
    loop_lag_ms: float = 0.0
    problems: list[str] = []  # why it is not ok, one sentence each


class ReloadInfo(View):
    """Outcome of a reload: how many tasks are loaded, and every task file problem."""

    tasks: int
    errors: list[str] = []
