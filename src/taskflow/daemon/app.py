"""``taskflowd``'s lifecycle: open the store, start the engine, serve the socket, stop cleanly.

Order on start: lock the state dir → open the store → load task files → reconcile in-flight
runs → serve the socket → ``READY=1``. On SIGTERM: ``STOPPING=1`` → stop accepting → leave
running tasks (``on_stop = "detach"``) or stop them (``"stop"``) → close the store → exit 0.
SIGHUP reloads the config and the task files. The parts it wires own their concern:
``views`` (what clients see), ``event_relay`` (engine events → protocol events),
``handlers`` (requests), ``output_tail``, ``heartbeat`` and ``retention``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskflow import __version__
from taskflow.daemon.event_relay import EventRelay
from taskflow.daemon.handlers import RequestHandler
from taskflow.daemon.heartbeat import Heartbeat
from taskflow.daemon.late import LateWatch
from taskflow.daemon.library import TaskLibrary
from taskflow.daemon.lock import StateLock
from taskflow.daemon.notifications.service import Notifications
from taskflow.daemon.notify import SystemdNotifier
from taskflow.daemon.output_tail import OutputTail, TailedAttempt
from taskflow.daemon.retention import prune_periodically
from taskflow.daemon.run_log import RunLog
from taskflow.daemon.server import Server
from taskflow.daemon.views import DaemonViews, TaskFileReport
from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import DaemonConfig, TaskSet
from taskflow.protocol import ReloadInfo, TasksReloaded
from taskflow.protocol.events import TOPIC_TASKS
from taskflow.store import Store

if TYPE_CHECKING:
    from taskflow.daemon.metrics import Metrics
    from taskflow.engine.cluster.executor import ClusterExecutor

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
    """Owns the parts (store, engine, server, views, background loops) and their order."""

    def __init__(self, config: DaemonConfig, *, reload_config: Callable[[], DaemonConfig] | None = None) -> None:
        self.config = config
        self._reload_config = reload_config  # re-reads the config files for a reload
        self.state_dir = Path(config.state_dir)
        self.lock = StateLock(self.state_dir)
        self.notifier = SystemdNotifier()
        self.stopping = False
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.store: Store
        self.engine: Engine
        self.server: Server
        self.views: DaemonViews
        self.heartbeat: Heartbeat
        self.notifications: Notifications
        self.late: LateWatch
        self.library = TaskLibrary(config.tasks, config.max_tree_nodes)
        self.task_files = TaskFileReport()

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
        output_root = self.state_dir / "output"
        self.store = await Store.open(
            self.state_dir / DB_NAME, commit_window=self.config.commit_window, output_root=output_root
        )
        executor = ProcessExecutor(
            output_root,
            output_cap=self.config.output_cap,
            stop_grace=self.config.stop_grace,
            python_path=self.config.python_path,
            use_cgroups=self.config.attempt_cgroups,
        )
        if executor.cgroups.base is not None:
            log.info("attempt cgroups under %s", executor.cgroups.base)
        elif self.config.attempt_cgroups:
            log.info("no writable cgroup v2 with cgroup.kill: timeouts and cancels signal process groups only")
        cluster = await self._open_cluster(executor) if self.config.executor.kind == "dask" else None
        self.engine = Engine(self.store, cluster or executor, self._engine_settings(self.config))
        if cluster is not None:
            cluster.on_placed = self.engine.ledger.record_placement
        # Before the engine starts, so that runs recovery finds lost are told as failed too.
        self.notifications = Notifications(
            self.config.notifiers, lambda: self.engine.tasks, self.store, self.engine.board.states()
        )
        self.engine.bus.subscribe(self.notifications)
        self.engine.bus.subscribe(RunLog())  # before start: recovery's transitions are logged too
        self.notifications.start()
        self.late = LateWatch(self.engine, self.store, [self.notifications.late])
        self.engine.bus.subscribe(self.late)
        taskset = self._load_tasks()
        await self.engine.start(taskset)
        self.views = DaemonViews(self.engine, self.store, self.task_files, self.notifier.info)
        if cluster is not None:
            self.views.cluster = cluster.cluster_view
        self.heartbeat = Heartbeat(self.views, self.notifier)
        self.server = Server(
            self.config.socket,
            RequestHandler(self.engine, self.store, self.views, self),
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
        self.engine.bus.subscribe(EventRelay(self.engine, self.views, self.server))
        metrics = self._start_metrics()
        if metrics is not None:
            self.late.listeners.append(metrics.late)
        tail = OutputTail(self._tailed_attempts, self.engine.read_output, self.server)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        retention = prune_periodically(self.store, lambda: self.config.retention, self.state_dir / "output")
        for coro in (self._watch_tasks(), self.heartbeat.run(self.server), retention, tail.run(),
                     self.late.run()):
            self._tasks.append(asyncio.create_task(coro))
        self.notifier.ready(self.views.status_line())
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
        await self.notifications.close()
        if cluster is not None:
            await cluster.shutdown()
        await self.store.close()
        if metrics is not None:
            metrics.close()
        self.notifier.close()
        log.info("stopped")

    async def _open_cluster(self, local: ProcessExecutor) -> ClusterExecutor:
        """The dask executor (``[executor] kind = "dask"``); ``distributed`` is imported here only."""
        try:
            from taskflow.engine.cluster.connection import ClusterUnreachable
            from taskflow.engine.cluster.executor import open_cluster_executor
        except ImportError:
            await self.store.close()
            raise StartupError("[executor] kind = \"dask\" needs distributed (pip install 'taskflowd[dask]')") from None
        try:
            return await open_cluster_executor(local, self.config.executor, python_path=self.config.python_path,
                                               use_cgroups=self.config.attempt_cgroups)
        except ClusterUnreachable as exc:
            await self.store.close()
            raise StartupError(str(exc)) from None

    def request_stop(self) -> None:
        self._stop.set()

    @property
    def loop_lag_ms(self) -> float:
        """How late the event loop wakes up, as the heartbeat last measured it."""
        return self.heartbeat.loop_lag_ms

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
            except Exception as exc:  # noqa: BLE001 - a plugin's import may raise anything; the daemon runs on without it
                log.error("plugin %s could not be imported: %s: %s", module, type(exc).__name__, exc)

    def _start_metrics(self) -> Metrics | None:
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

    def _load_tasks(self) -> TaskSet:
        taskset = self.library.load()
        self.task_files.errors = [str(e) for e in taskset.errors]
        self.task_files.files = len(taskset.files)
        for error in self.task_files.errors:
            log.error("task file error: %s", error)
        log.info("loaded %d tasks from %d files", len(taskset.tasks), self.task_files.files)
        return taskset

    async def reload(self) -> ReloadInfo:
        """SIGHUP or ``Reload``: re-read the config (what can change live) and the task files."""
        if self._reload_config is not None:
            try:
                fresh: DaemonConfig = self._reload_config()
            except Exception as exc:  # noqa: BLE001 - a config reader's failure of any kind keeps the running config
                log.error("config reload failed, keeping the current config: %s", exc)
            else:
                self._apply_config(fresh)
        taskset = await asyncio.to_thread(self._load_tasks)
        python = await asyncio.to_thread(self.engine.check_python, taskset)
        self.engine.update_tasks(taskset, python)
        errors = self.task_files.errors
        self.server.publish(TOPIC_TASKS, TasksReloaded(tasks=len(taskset.tasks), errors=errors))
        self.notifier.status(self.views.status_line())
        return ReloadInfo(tasks=len(taskset.tasks), errors=errors)

    def _apply_config(self, fresh: DaemonConfig) -> None:
        for fixed in ("state_dir", "socket"):
            if getattr(fresh, fixed) != getattr(self.config, fixed):
                log.warning("%s changed in the config; it takes effect on restart", fixed)
        self.engine.apply_settings(self._engine_settings(fresh))
        self.notifications.reconfigure(fresh.notifiers)
        if fresh.tasks != self.config.tasks or fresh.max_tree_nodes != self.config.max_tree_nodes:
            self.library = TaskLibrary(fresh.tasks, fresh.max_tree_nodes)
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

    # ---------------------------------------------------------------- output tails

    def _tailed_attempts(self) -> list[TailedAttempt]:
        """The engine's attempts that have output files, for the output tail."""
        return [
            TailedAttempt(
                run_id=attempt.run_id,
                number=attempt.number,
                root_id=active.run.root_id,
                output_dir=attempt.output_dir,
                finished=active.handle is None,
            )
            for active in list(self.engine.active.values())
            if (attempt := active.attempt) is not None and attempt.output_dir
        ]
