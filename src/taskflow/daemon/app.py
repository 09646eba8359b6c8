"""``taskflowd``'s lifecycle: open the store, start the engine, serve the socket, stop cleanly.

Order on start: lock the state dir → open the store → load task files → reconcile in-flight
runs → serve the socket → ``READY=1``. On SIGTERM: ``STOPPING=1`` → stop accepting → leave
running tasks (``on_stop = "detach"``) or stop them (``"stop"``) → close the store → exit 0.
SIGHUP reloads the config and the task files.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taskflow import __version__
from taskflow.daemon.handlers import RequestHandler, public_run
from taskflow.daemon.library import TaskLibrary
from taskflow.daemon.lock import StateLock
from taskflow.daemon.logtail import LogTailer
from taskflow.daemon.notify import SystemdNotifier
from taskflow.daemon.server import RequestError, Server
from taskflow.engine import events
from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.executor import ProcessExecutor
from taskflow.model import Attempt, BreakerState, DaemonConfig, Run, RunState
from taskflow.protocol import (
    AttemptChanged,
    BreakerChanged,
    DaemonStats,
    ErrorCode,
    ReloadInfo,
    RunChanged,
    StatusInfo,
    TaskChanged,
    TaskInfo,
    TasksReloaded,
)
from taskflow.store import Store

log = logging.getLogger(__name__)

DB_NAME = "taskflow.db"


def check_state_dir_writable(state_dir: Path) -> None:
    """Really create and remove a file: mode bits say nothing for root or on a read-only mount."""
    probe = state_dir / f".write-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StartupError(f"the state dir {state_dir} is not writable: {exc.strerror}") from None


class StartupError(Exception):
    """Why the daemon cannot start, as one sentence."""


class Daemon:
    def __init__(self, config: DaemonConfig, *, reload_config: Any = None) -> None:
        self.config = config
        self._reload_config = reload_config  # callable returning a fresh DaemonConfig
        self.state_dir = Path(config.state_dir)
        self.lock = StateLock(self.state_dir)
        self.notifier = SystemdNotifier()
        self.stopping = False
        self.loop_lag_ms = 0.0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.store: Store
        self.engine: Engine
        self.server: Server
        self.library = TaskLibrary(config.tasks)
        self.task_errors: list[str] = []
        self.files = 0

    # ---------------------------------------------------------------- lifecycle

    async def run(self) -> int:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        Path(self.config.socket).parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        check_state_dir_writable(self.state_dir)
        self.lock.acquire()
        try:
            await self._serve()
        finally:
            self.lock.release()
        return 0

    async def _serve(self) -> None:
        self._import_plugins()
        self.store = await Store.open(self.state_dir / DB_NAME, commit_window=self.config.commit_window)
        executor = ProcessExecutor(
            self.state_dir / "output",
            output_cap=self.config.output_cap,
            stop_grace=self.config.stop_grace,
            python_path=self.config.python_path,
            use_cgroups=self.config.attempt_cgroups,
        )
        if executor.cgroups.base is not None:
            log.info("attempt cgroups under %s", executor.cgroups.base)
        elif self.config.attempt_cgroups:
            log.info("no writable cgroup v2 with cgroup.kill: timeouts and cancels signal process groups only")
        self.engine = Engine(self.store, executor, self._engine_settings(self.config))
        taskset = self._load_tasks()
        await self.engine.start(taskset)
        self.server = Server(
            self.config.socket,
            RequestHandler(self),
            version=__version__,
            socket_group=self.config.socket_group,
            operator_group=self.config.operator_group,
            limits=self.config.connections,
        )
        try:
            await self.server.start()
        except BaseException:
            await self.engine.stop("detach")
            await self.store.close()
            raise
        self.engine.bus.subscribe(self._forward)
        metrics = self._start_metrics()
        self.tailer = LogTailer(self)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        for coro in (self._watch_tasks(), self._heartbeat(), self._retention(), self.tailer.run()):
            self._tasks.append(asyncio.create_task(coro))
        self.notifier.ready(self._status_line())
        self.notifier.start_watchdog()
        log.info("taskflowd %s serving on %s (state %s)", __version__, self.config.socket, self.state_dir)

        await self._stop.wait()

        self.stopping = True
        self.notifier.stopping()
        log.info("stopping (on_stop = %s)", self.config.on_stop)
        await self.server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.engine.stop(self.config.on_stop)
        await self.store.close()
        if metrics is not None:
            metrics.close()
        self.notifier.close()
        log.info("stopped")

    def request_stop(self) -> None:
        self._stop.set()

    def _engine_settings(self, config: DaemonConfig) -> EngineSettings:
        return EngineSettings(
            max_workers=config.max_workers,
            min_workers=config.min_workers,
            adaptive=config.adaptive,
            pools=dict(config.pools),
            breaker=config.breaker,
            python_path=list(config.python_path),
        )

    def _import_plugins(self) -> None:
        for path in self.config.python_path:
            if path not in sys.path:
                sys.path.insert(0, path)
        for module in self.config.plugins:
            try:
                importlib.import_module(module)
                log.info("plugin %s loaded", module)
            except Exception as exc:
                log.error("plugin %s could not be imported: %s: %s", module, type(exc).__name__, exc)

    def _start_metrics(self) -> Any:
        if self.config.metrics_port is None:
            return None
        try:
            from taskflow.daemon.metrics import Metrics

            return Metrics(self.config.metrics_port, self.engine)
        except ImportError:
            log.error("metrics_port is set but prometheus-client is not installed (pip install 'taskflowd[metrics]')")
        except OSError as exc:
            log.error("cannot serve metrics on 127.0.0.1:%s: %s", self.config.metrics_port, exc)
        return None

    # ---------------------------------------------------------------- task files

    def _load_tasks(self):  # noqa: ANN202
        taskset = self.library.load()
        self.task_errors = [str(e) for e in taskset.errors]
        self.files = len(taskset.files)
        for error in self.task_errors:
            log.error("task file error: %s", error)
        log.info("loaded %d tasks from %d files", len(taskset.tasks), self.files)
        return taskset

    async def reload(self) -> ReloadInfo:
        """SIGHUP or ``Reload``: re-read the config (what can change live) and the task files."""
        if self._reload_config is not None:
            try:
                fresh: DaemonConfig = self._reload_config()
            except Exception as exc:
                log.error("config reload failed, keeping the current config: %s", exc)
            else:
                self._apply_config(fresh)
        taskset = await asyncio.to_thread(self._load_tasks)
        python = await asyncio.to_thread(self.engine.check_python, taskset)
        self.engine.update_tasks(taskset, python)
        self.server.publish(
            events.TASKS, TasksReloaded(tasks=len(taskset.tasks), errors=self.task_errors)
        )
        self.notifier.status(self._status_line())
        return ReloadInfo(tasks=len(taskset.tasks), errors=self.task_errors)

    def _apply_config(self, fresh: DaemonConfig) -> None:
        for fixed in ("state_dir", "socket"):
            if getattr(fresh, fixed) != getattr(self.config, fixed):
                log.warning("%s changed in the config; it takes effect on restart", fixed)
        settings = self._engine_settings(fresh)
        self.engine.settings = settings
        self.engine.scheduler.max_workers = settings.max_workers
        if fresh.tasks != self.config.tasks:
            self.library = TaskLibrary(fresh.tasks)
        self.config = fresh

    async def _watch_tasks(self) -> None:
        stop = asyncio.Event()

        async def changed() -> None:
            log.info("task files changed; reloading")
            await self.reload()

        try:
            await self.library.watch(changed, stop)
        finally:
            stop.set()

    # ---------------------------------------------------------------- events and views

    def _forward(self, topic: str, payload: Any) -> None:
        """Engine bus → socket subscribers, as protocol events."""
        server = self.server
        if topic == events.RUNS and isinstance(payload, Run):
            server.publish(topic, RunChanged(run=public_run(payload)))
        elif topic == events.ATTEMPTS and isinstance(payload, Attempt):
            active = self.engine.active.get(payload.run_id)
            server.publish(
                topic, AttemptChanged(attempt=payload, root_id=active.run.root_id if active else None)
            )
        elif topic == events.BREAKERS and isinstance(payload, BreakerState):
            server.publish(topic, BreakerChanged(state=payload))
        elif topic == events.TASKS and isinstance(payload, str) and payload in self.engine.tasks:
            server.publish(topic, TaskChanged(task=self.task_info(payload)))
        if topic == events.RUNS and isinstance(payload, Run) and payload.state.terminal:
            if payload.task in self.engine.tasks:
                server.publish(events.TASKS, TaskChanged(task=self.task_info(payload.task)))

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
            next_run=engine.timer.next_fire.get(name),
            last_state=last.state if last else None,
            last_run_id=last.id if last else None,
            last_finished_at=last.finished_at if last else None,
            description=spec.description,
            tags=list(spec.tags),
            service=spec.service,
            pool=spec.pool,
            depends_on=[d.task for d in spec.depends_on],
            children=list(spec.children),
        )

    def status_info(self) -> StatusInfo:
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
            task_errors=list(self.task_errors),
            files=self.files,
            tasks=len(engine.tasks),
            problems=self.problems(),
        )

    def problems(self) -> list[str]:
        """Daemon-level trouble an operator must hear about (``status``, ``health``)."""
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

    def _status_line(self) -> str:
        counts = self.engine.counts()
        return (
            f"{len(self.engine.tasks)} tasks, {self.engine.busy}/{self.engine.scheduler.max_workers} "
            f"workers busy, {counts.get('queued', 0)} queued"
            + (f", {len(self.task_errors)} task file errors" if self.task_errors else "")
        )

    async def _heartbeat(self) -> None:
        """Measure loop lag, push ``stats`` events each second and ``STATUS=`` to systemd."""
        tick = 0
        while True:
            before = time.monotonic()
            await asyncio.sleep(1.0)
            self.loop_lag_ms = max(0.0, (time.monotonic() - before - 1.0) * 1000)
            tick += 1
            self.server.publish(events.STATS, DaemonStats(stats=self.status_info()))
            if tick % 10 == 0:
                self.notifier.status(self._status_line())

    async def _retention(self) -> None:
        """Prune old runs with their output, and old audit entries, hourly (and shortly after start)."""
        await asyncio.sleep(60)
        while True:
            try:
                pruned = await self.store.prune(self.config.retention, outputs_under=self.state_dir / "output")
                if pruned.roots or pruned.audit_entries:
                    log.info(
                        "retention pruned %d run trees and %d audit entries", pruned.roots, pruned.audit_entries
                    )
            except Exception:
                log.exception("retention failed; will try again")
            await asyncio.sleep(3600)
