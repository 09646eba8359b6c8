"""What clients see of the daemon: task, status and run views built from the engine and the store.

Runs leave without the engine's spec snapshot (an internal blob); a run that ended while a
full disk held its record back is shown as the engine knows it, not as the store last saved it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from taskflow import __version__
from taskflow.daemon.server import RequestError
from taskflow.model import Run, RunState, RunTree
from taskflow.protocol import ClusterInfo, ErrorCode, PauseInfo, StatusInfo, SystemdInfo, TaskInfo
from taskflow.protocol.task_views import CHILDREN_LISTED

if TYPE_CHECKING:
    from taskflow.engine.engine import Engine
    from taskflow.store import Store


def public_run(run: Run) -> Run:
    """A run as clients see it: without the engine's spec snapshot (an internal blob)."""
    return msgspec.structs.replace(run, spec=None) if run.spec is not None else run


@dataclass(slots=True)
class TaskFileReport:
    """How the last load of the task files went: its errors, and how many files it read."""

    errors: list[str] = field(default_factory=list)
    files: int = 0


class DaemonViews:
    """Builds the protocol's views of tasks, the daemon's status and run trees."""

    def __init__(self, engine: Engine, store: Store, task_files: TaskFileReport,
                 systemd: SystemdInfo | None = None) -> None:
        self.engine = engine
        self.store = store
        self.task_files = task_files
        self.systemd = systemd  # how systemd runs the daemon, seen at start; None outside it
        # The dask executor's view of its cluster (``ClusterExecutor.cluster_view``); None: local.
        self.cluster: Callable[[], dict[str, Any]] | None = None

    def task_info(self, name: str) -> TaskInfo:
        engine = self.engine
        spec = engine.tasks.get(name)
        if spec is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no task named {name!r}")
        status = engine.status.get(name)
        last = engine.last_runs.get(name)
        return TaskInfo(
            name=name,
            kind=spec.kind,
            enabled=status.enabled if status else spec.enabled,
            disabled_reason=status.reason if status and not status.enabled else None,
            orphaned=bool(status and status.orphaned),
            schedule=spec.schedule.describe() if spec.schedule else None,
            # A disabled task's schedule does not fire: it has no next run to show.
            next_run=engine.timer.next_fire.get(name) if engine.is_enabled(name) else None,
            last_state=last.state if last else None,
            last_run_id=last.id if last else None,
            last_finished_at=last.finished_at if last else None,
            description=spec.description,
            tags=list(spec.tags),
            service=spec.service,
            pool=spec.pool,
            depends_on=[d.task for d in spec.depends_on],
            children=list(spec.children[:CHILDREN_LISTED]),
            more_children=max(0, len(spec.children) - CHILDREN_LISTED),
            paused=engine.holds(spec),
        )

    def status_info(self) -> StatusInfo:
        """Live figures from the engine; ``counts`` cover the runs in flight only."""
        engine = self.engine
        counts = engine.counts()
        return StatusInfo(
            version=__version__,
            pid=os.getpid(),
            started_at=engine.started_at,
            uptime=(datetime.now(UTC) - engine.started_at).total_seconds(),
            workers_busy=engine.busy,
            workers_max=engine.scheduler.max_workers,
            counts=counts,
            queued=counts.get(RunState.QUEUED.value, 0),
            task_errors=list(self.task_files.errors),
            files=self.task_files.files,
            tasks=len(engine.tasks),
            problems=self.problems(),
            systemd=self.systemd,
            cluster=self.cluster_info(),
            load=list(os.getloadavg()),
            paused=pauses if (pauses := self.pause_info()).any else None,
        )

    def pause_info(self) -> PauseInfo:
        """What holds queued work now: operators' pauses and pools with a limit of 0."""
        engine = self.engine
        pauses = engine.pauses
        return PauseInfo(
            all=pauses.all, pools=sorted(pauses.pools), tasks=sorted(pauses.tasks),
            zero_pools=sorted(pool for pool, limit in engine.scheduler.pools.items() if limit == 0),
        )

    def cluster_info(self) -> ClusterInfo | None:
        return None if self.cluster is None else msgspec.convert(self.cluster(), ClusterInfo)

    def problems(self) -> list[str]:
        """Daemon-level trouble an operator must hear about (``status``, ``health``)."""
        cluster = self.cluster_info()
        if cluster is not None and cluster.problem:
            return [cluster.problem, *self._store_problems()]
        return self._store_problems()

    def _store_problems(self) -> list[str]:
        problem = self.store.problem
        if problem is None:
            return []
        held = self.store.backlog
        unsaved = len(self.engine.unsaved)
        return [
            f"{problem}; {held} write(s) held in memory and retried"
            + (f", including the end of {unsaved} run(s)" if unsaved else "")
            + " (free space to let them land)"
        ]

    def status_line(self) -> str:
        """One line for systemd's ``STATUS=``."""
        engine = self.engine
        counts = engine.counts()
        errors = self.task_files.errors
        return (
            f"{len(engine.tasks)} tasks, {engine.busy}/{engine.scheduler.max_workers} "
            f"workers busy, {counts.get('queued', 0)} queued"
            + (f", {len(errors)} task file errors" if errors else "")
        )

    def public_tree(self, tree: RunTree) -> RunTree:
        """A stored run tree as clients see it, with runs the store has not caught up on."""
        run, attempts = tree.run, tree.attempts
        unsaved = self.engine.unsaved.get(run.id)
        if unsaved is not None:  # ended, but a full disk holds its record back: show the truth
            run = unsaved
            active = self.engine.active.get(run.id)
            last = active.attempt if active is not None else None
            if last is not None:
                attempts = [a for a in attempts if a.number != last.number] + [last]
        return RunTree(
            run=public_run(run),
            attempts=attempts,
            children=[self.public_tree(child) for child in tree.children],
        )
