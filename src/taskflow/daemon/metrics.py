"""Optional Prometheus exposition (extra ``metrics``) on a localhost port.

Runs by task and final state, a run duration histogram, running and queued gauges,
breaker states (fed from the engine's event bus), and whether the state database takes
writes (``taskflow_store_writable``, ``taskflow_store_held_writes``).
"""

from __future__ import annotations

import logging
from typing import Any

from taskflow.engine.events import BreakerChanged, EngineEvent, RunUpdated
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
        engine.bus.subscribe(self._on_event)
        self.server, self.thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        log.info("metrics on http://127.0.0.1:%d/metrics", port)

    def _on_event(self, event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.state.terminal:
                self.runs.labels(run.task, run.state.value).inc()
                if run.duration is not None:
                    self.duration.labels(run.task).observe(run.duration)
            case BreakerChanged(state=state):
                self.breaker.labels(state.service).set(_BREAKER_VALUE[state.status])
            case _:
                pass  # attempts and task changes are not metrics

    def close(self) -> None:
        self.server.shutdown()
