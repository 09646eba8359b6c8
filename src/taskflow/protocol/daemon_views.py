"""Views of the daemon itself: ``status``, ``health`` and ``reload`` results.

Apart from ``task_views`` because they name no model type: ``taskflow status --json``, which
monitoring polls, loads these without building the run and task Structs.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class View(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of the view structs: strict like every message."""


class SystemdInfo(View):
    """How systemd runs the daemon, as seen when it started (``taskflow service status``).

    Present only when systemd started it (``INVOCATION_ID`` or ``NOTIFY_SOCKET`` was set).
    """

    unit: str | None = None  # "taskflowd.service", read from the daemon's cgroup; None if unknown
    manager: str = "system"  # "system", or "user" for a unit of a user's manager (systemctl --user)
    invocation_id: str | None = None  # systemd's id of this start (journalctl _SYSTEMD_INVOCATION_ID=…)
    notify: bool = False  # READY/STATUS/WATCHDOG go to systemd (NOTIFY_SOCKET was set)


class ClusterWorker(View):
    """One worker of the dask executor's cluster."""

    address: str
    name: str
    threads: int | None = None
    resources: dict[str, float] = {}
    busy: int = 0  # taskflow attempts running on it


class ClusterInfo(View):
    """The cluster of ``[executor] kind = "dask"``, as the daemon last saw it."""

    kind: str = "dask"
    scheduler: str | None = None
    connected: bool = False
    problem: str | None = None
    workers: list[ClusterWorker] = []
    remote_running: int = 0


class PauseInfo(View):
    """What holds queued work (``pause``/``resume``, ``status``): everything, pools (by an
    operator, or by a configured limit of 0) and tasks (each with its subtree). Running work
    goes on; held runs stay ``queued``."""

    all: bool = False
    pools: list[str] = []  # paused by an operator
    tasks: list[str] = []
    zero_pools: list[str] = []  # pools whose configured limit is 0

    @property
    def any(self) -> bool:
        return self.all or bool(self.pools or self.tasks or self.zero_pools)


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
    systemd: SystemdInfo | None = None  # None when systemd did not start the daemon
    cluster: ClusterInfo | None = None  # None with the local executor
    load: list[float] = []  # the host's 1, 5 and 15 minute load averages (`taskflow hosts`)
    paused: PauseInfo | None = None  # None when nothing is paused


class HealthInfo(View):
    """``health``: whether the daemon's event loop keeps up."""

    ok: bool
    loop_lag_ms: float = 0.0
    problems: list[str] = []  # why it is not ok, one sentence each


class ReloadInfo(View):
    """Outcome of a reload: how many tasks are loaded, and every task file problem."""

    tasks: int
    errors: list[str] = []
