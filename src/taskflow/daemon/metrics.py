"""Optional Prometheus exposition (extra ``metrics``) on a localhost port.

Runs by task and final state, attempts by task and outcome, retries by task, a run
duration histogram, running and queued gauges,
breaker states (fed from the engine's event bus), and whether the state database takes
writes (``taskflow_store_writable``, ``taskflow_store_held_writes``). With the dask executor,
the cluster too: ``taskflow_cluster_up`` (0 while the scheduler is out of reach),
``taskflow_cluster_workers`` and ``taskflow_cluster_busy`` per worker (``ClusterMetrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from taskflow.engine.events import AttemptUpdated, BreakerChanged, EngineEvent, RunUpdated
from taskflow.model import BreakerStatus

log = logging.getLogger(__name__)

_BREAKER_VALUE = {BreakerStatus.CLOSED: 0, BreakerStatus.HALF_OPEN: 1, BreakerStatus.OPEN: 2}


class Metrics:
    def __init__(self, port: int, engine: Any) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

        self.registry = CollectorRegistry()
        self.runs = Counter(
            "taskflow_runs", "Finished runs by task and final state", ["task", "state"],
            registry=self.registry,
        )
        self.attempts = Counter(
            "taskflow_attempts", "Finished attempts by task and outcome (succeeded, failed, cancelled...)",
            ["task", "state"], registry=self.registry,
        )
        self.retries = Counter(
            "taskflow_retries", "Attempts started as a retry (attempt 2 and later) by task", ["task"],
            registry=self.registry,
        )
        self.late_total = Counter(
            "taskflow_late", "Late findings by task: a run past expect.duration, a task past expect.by",
            ["task", "why"], registry=self.registry,
        )
        self._retry_starts: set[tuple[str, int]] = set()  # retries counted, not yet finished
        self.duration = Histogram(
            "taskflow_run_duration_seconds", "Run duration (leaf and root runs)", ["task"],
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600),
        )
        self.running = Gauge("taskflow_running", "Leaf runs running now", registry=self.registry)
        self.queued = Gauge("taskflow_queued", "Runs queued for a worker", registry=self.registry)
        self.breaker = Gauge(
            "taskflow_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open",
            ["service"], registry=self.registry,
        )
        self.held = Gauge(
            "taskflow_store_held_writes",
            "Writes the state database refused for now (disk full, I/O error), kept and retried",
            registry=self.registry,
        )
        self.store_ok = Gauge(
            "taskflow_store_writable", "1 while the state database takes writes, 0 while it refuses them",
            registry=self.registry,
        )
        self.engine = engine
        self.held.set_function(lambda: engine.store.backlog)
        self.store_ok.set_function(lambda: 0 if engine.store.problem else 1)
        self.running.set_function(lambda: engine.scheduler.running)
        self.queued.set_function(lambda: engine.scheduler.queued)
        for state in engine.board.states():
            self.breaker.labels(state.service).set(_BREAKER_VALUE[state.status])
        cluster_view = getattr(engine.executor, "cluster_view", None)
        if cluster_view is not None:  # the dask executor
            self.registry.register(ClusterMetrics(cluster_view))
        engine.bus.subscribe(self._on_event)
        self.server, self.thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        log.info("metrics on http://127.0.0.1:%d/metrics", port)

    def late(self, finding: Any) -> None:
        """A ``LateWatch`` listener: a run past its expected duration, or a task past its ``by``."""
        self.late_total.labels(finding.task, finding.why).inc()

    def _on_event(self, event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.state.terminal:
                self.runs.labels(run.task, run.state.value).inc()
                if run.duration is not None:
                    self.duration.labels(run.task).observe(run.duration)
            case BreakerChanged(state=state):
                self.breaker.labels(state.service).set(_BREAKER_VALUE[state.status])
            case AttemptUpdated(attempt=attempt):
                self._count_attempt(attempt)
            case _:
                pass  # attempts and task changes are not metrics

    def _count_attempt(self, attempt: Any) -> None:
        """An attempt started (a retry when its number is 2 or more) or ended. An attempt is
        published more than once while it runs (placement, recovery): each counts once."""
        active = self.engine.active.get(attempt.run_id)
        task = active.run.task if active is not None else "-"
        key = (attempt.run_id, attempt.number)
        if attempt.finished_at is not None:
            self.attempts.labels(task, attempt.state.value).inc()
            self._retry_starts.discard(key)
        elif attempt.number > 1 and key not in self._retry_starts:
            self._retry_starts.add(key)
            self.retries.labels(task).inc()

    def close(self) -> None:
        self.server.shutdown()


class ClusterMetrics:
    """The dask executor's cluster, read at each scrape from what the executor last saw
    (``ClusterExecutor.cluster_view``: no round trip to the scheduler)."""

    def __init__(self, view: Callable[[], dict[str, Any]]) -> None:
        self.view = view

    def describe(self) -> list[Any]:
        return []  # collected only when scraped: nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        view = self.view()
        workers = view.get("workers", [])
        up = GaugeMetricFamily("taskflow_cluster_up", "1 while the Dask scheduler is reachable, 0 while it is not",
                               labels=["scheduler"])
        up.add_metric([str(view.get("scheduler"))], 1 if view.get("connected") else 0)
        yield up
        yield GaugeMetricFamily("taskflow_cluster_workers", "Workers the Dask scheduler has (0 while it is away)",
                                value=len(workers))
        busy = GaugeMetricFamily("taskflow_cluster_busy", "taskflow attempts running on each cluster worker",
                                 labels=["worker"])
        for worker in workers:
            busy.add_metric([str(worker["name"])], worker["busy"])
        yield busy
        yield GaugeMetricFamily("taskflow_cluster_running", "taskflow attempts sent to the cluster and not ended",
                                value=view.get("remote_running", 0))
