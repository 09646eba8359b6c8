"""Daemon configuration (``taskflow.toml``), shared so ``validate`` can check it offline."""

from __future__ import annotations

from typing import Literal

import msgspec

from taskflow.model.notifications import NotifierConfig
from taskflow.model.placement import ExecutorConfig
from taskflow.model.spec import BreakerSettings

#: What the daemon does with running tasks when it stops: leave them (adopted on restart) or end them.
StopMode = Literal["detach", "stop"]

#: Nodes one top-level task tree may have unless ``max_tree_nodes`` says otherwise.
DEFAULT_MAX_TREE_NODES = 100_000


class RetentionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Finished runs older than ``days`` or beyond the newest ``per_task`` of their task are
    pruned with their output; audit entries older than ``audit_days`` are pruned too.
    ``None`` keeps them."""

    days: float | None = 30.0
    per_task: int | None = 1000
    # The audit table is the security record: kept long, and apart from run history.
    audit_days: float | None = 365.0


class ConnectionLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Client connections the daemon holds open at once (the ``[connections]`` table).

    Every connection costs the daemon a file descriptor, and anyone who can open the socket
    can hold connections open: without a bound, one local user could use up the daemon's
    open-file limit. ``max_per_user`` bounds each non-admin uid; ``max_total`` bounds
    everyone, and the last ``admin_reserve`` of those slots only root (admin) gets, so an
    admin can always connect to look. The defaults sit far below the systemd unit's
    ``LimitNOFILE=65536``, leaving the rest to tasks, their pipes and the store.
    """

    max_per_user: int = 64
    max_total: int = 512
    admin_reserve: int = 4


class DaemonConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Settings of ``taskflowd``. Empty paths mean "the default for this user"."""

    state_dir: str = ""
    socket: str = ""
    tasks: list[str] = []
    max_workers: int = 8
    min_workers: int = 1
    adaptive: bool = False  # lower the effective worker count under CPU/memory pressure
    log_format: Literal["json", "text"] = "text"
    socket_group: str = "taskflow"
    operator_group: str = "taskflow-ops"
    adhoc: Literal["admin", "operator", "off"] = "admin"
    on_stop: StopMode = "detach"
    stop_grace: float = 10.0  # SIGTERM → SIGKILL grace for timeouts, cancels and on_stop=stop
    attempt_cgroups: bool = True  # a cgroup per attempt where possible (kills setsid'd children)
    output_cap: int = 16 * 1024 * 1024  # bytes kept per attempt and stream (the tail)
    # Nodes one top-level task tree may have; a bigger one is refused at load (file:key error).
    max_tree_nodes: int = DEFAULT_MAX_TREE_NODES
    commit_window: float = 0.0  # seconds each store commit waits to gather more writes
    python_path: list[str] = []
    plugins: list[str] = []  # modules imported at start (hooks, shared task code)
    pools: dict[str, int] = {}
    breaker: BreakerSettings = BreakerSettings()
    retention: RetentionConfig = RetentionConfig()
    connections: ConnectionLimits = ConnectionLimits()
    executor: ExecutorConfig = ExecutorConfig()  # local processes, or a Dask cluster
    notifiers: dict[str, NotifierConfig] = {}  # [notifiers.NAME]: who hears of failures and breakers
    metrics_port: int | None = None
    theme: str = "taskflow-dark"
    keys: dict[str, str] = {}  # TUI binding id -> keys
    confirm_run: bool = True  # TUI: enter on a task asks "Run NAME?" before starting it
