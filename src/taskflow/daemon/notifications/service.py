"""Queues and workers: the engine's events in, notices out, never blocking the engine.

The bus callback only filters and enqueues (a bounded queue: past it, notices are dropped
and counted). A router task decides "recovered" (it may read the task's previous run from
the store) and hands each notice to its notifier's own queue, whose worker delivers it,
retrying with backoff. A notifier that keeps failing is logged once, then once per its
``quiet_for`` with a count; the line after it works again says how many it had missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from taskflow.daemon.late import LateFinding
from taskflow.daemon.notifications.channels import DeliveryFailed, deliver
from taskflow.daemon.notifications.routing import (
    FAILED_STATES,
    VERDICT_STATES,
    Notice,
    breaker_event,
    breaker_notice,
    late_notice,
    run_notice,
    wants_run,
    wants_service,
    wants_task,
)
from taskflow.engine.events import BreakerChanged, EngineEvent, RunUpdated
from taskflow.model import BreakerState, BreakerStatus, Run, TaskSpec
from taskflow.model.notifications import NotifierConfig

log = logging.getLogger(__name__)

QUEUE_BOUND = 1000  # notices waiting per notifier (and in the router) before new ones are dropped
BACKOFF_FIRST = 1.0  # seconds before the first retry; doubled each time, at most BACKOFF_MAX
BACKOFF_MAX = 60.0


class RunHistory(Protocol):
    async def list_runs(self, *, task: str | None = None, roots_only: bool = False,
                        limit: int = 100, before: str | None = None) -> list[Run]: ...


@dataclass(slots=True)
class NotifierStats:
    sent: int = 0
    failed: int = 0  # notices given up on after every retry
    dropped: int = 0  # notices refused by a full queue
    failing_since: float | None = None
    last_error: str | None = None
    last_logged: float = 0.0
    held_back: int = 0  # failures not logged since the last line


@dataclass(slots=True)
class _Channel:
    config: NotifierConfig
    queue: asyncio.Queue[Notice] = field(default_factory=lambda: asyncio.Queue(QUEUE_BOUND))
    stats: NotifierStats = field(default_factory=NotifierStats)
    worker: asyncio.Task[None] | None = None


class Notifications:
    """Subscribe an instance to the engine's bus; ``start()`` its workers; ``close()`` them."""

    def __init__(
        self,
        notifiers: Mapping[str, NotifierConfig],
        tasks: Callable[[], Mapping[str, TaskSpec]],
        history: RunHistory,
        breakers: list[BreakerState],
        backoff_first: float = BACKOFF_FIRST,
    ) -> None:
        self._tasks = tasks
        self._history = history
        self._backoff_first = backoff_first
        self._channels: dict[str, _Channel] = {name: _Channel(c) for name, c in notifiers.items()}
        self._incoming: asyncio.Queue[EngineEvent] = asyncio.Queue(QUEUE_BOUND)
        self._breakers: dict[str, BreakerStatus] = {s.service: s.status for s in breakers}
        self._verdicts: dict[str, Run] = {}  # task → its last run that succeeded or failed, once known
        self._router: asyncio.Task[None] | None = None
        self.dropped = 0

    # ------------------------------------------------------------------ engine side

    def __call__(self, event: EngineEvent) -> None:
        """The bus subscriber: cheap filtering, then a non-blocking enqueue."""
        if not self._channels:
            return
        match event:
            case RunUpdated(run=run) if run.state in VERDICT_STATES:
                pass
            case BreakerChanged():
                pass
            case _:
                return
        try:
            self._incoming.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def late(self, finding: LateFinding) -> None:
        """A ``LateWatch`` listener: a run or a task went past its ``expect``."""
        tasks = self._tasks()
        run = finding.run
        wanting = [c for c in self._channels.values()
                   if (wants_run(c.config, run, tasks) if run is not None and finding.why == "duration"
                       else wants_task(c.config, finding.task, tasks))]
        self._offer(wanting, late_notice(finding.task, finding.why, finding.expected, run))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._router = asyncio.create_task(self._route_forever(), name="notifications-router")
        for channel in self._channels.values():
            self._start_worker(channel)

    async def close(self) -> None:
        tasks = [t for t in (self._router, *(c.worker for c in self._channels.values())) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def reconfigure(self, notifiers: Mapping[str, NotifierConfig]) -> None:
        """A reload: changed notifiers keep their queue and counts; removed ones stop."""
        for name in set(self._channels) - set(notifiers):
            worker = self._channels.pop(name).worker
            if worker is not None:
                worker.cancel()
        for name, config in notifiers.items():
            channel = self._channels.get(name)
            if channel is None:
                self._channels[name] = channel = _Channel(config)
                if self._router is not None:
                    self._start_worker(channel)
            else:
                channel.config = config

    def stats(self) -> dict[str, NotifierStats]:
        return {name: channel.stats for name, channel in self._channels.items()}

    def _start_worker(self, channel: _Channel) -> None:
        channel.worker = asyncio.create_task(self._deliver_forever(channel), name=f"notifier-{channel.config.name}")

    # ------------------------------------------------------------------ routing

    async def _route_forever(self) -> None:
        while True:
            event = await self._incoming.get()
            try:
                await self._route(event)
            except Exception:  # a routing bug must not end notifications
                log.exception("notification routing failed on %s", type(event).__name__)

    async def _route(self, event: EngineEvent) -> None:
        tasks = self._tasks()
        match event:
            case RunUpdated(run=run):
                wanting = [c for c in self._channels.values() if wants_run(c.config, run, tasks)]
                if not wanting:
                    return
                if run.state in FAILED_STATES:
                    self._verdicts[run.task] = run
                    self._offer(wanting, run_notice("failed", run))
                    return
                previous = await self._previous_verdict(run)
                self._verdicts[run.task] = run
                if previous is not None and previous.state in FAILED_STATES:
                    self._offer(wanting, run_notice("recovered", run, previous))
            case BreakerChanged(state=state):
                kind = breaker_event(self._breakers.get(state.service), state)
                self._breakers[state.service] = state.status
                if kind is not None:
                    wanting = [c for c in self._channels.values() if wants_service(c.config, state.service, tasks)]
                    self._offer(wanting, breaker_notice(kind, state))

    async def _previous_verdict(self, run: Run) -> Run | None:
        """The task's last run before ``run`` that said whether it works (succeeded or failed)."""
        known = self._verdicts.get(run.task)
        if known is not None:
            return known
        earlier = await self._history.list_runs(task=run.task, roots_only=run.parent_id is None,
                                                limit=20, before=run.id)
        return next((r for r in earlier if r.task == run.task and r.state in VERDICT_STATES), None)

    def _offer(self, channels: list[_Channel], notice: Notice) -> None:
        for channel in channels:
            if notice.event not in channel.config.on:
                continue
            try:
                channel.queue.put_nowait(notice)
            except asyncio.QueueFull:
                channel.stats.dropped += 1
                self._report(channel, f"{QUEUE_BOUND} notices are waiting; dropped one ({notice.event})")

    # ------------------------------------------------------------------ delivery

    async def _deliver_forever(self, channel: _Channel) -> None:
        while True:
            notice = await channel.queue.get()
            await self._deliver_one(channel, notice)

    async def _deliver_one(self, channel: _Channel, notice: Notice) -> None:
        delay = self._backoff_first
        config = channel.config
        for attempt in range(config.retries + 1):
            try:
                await deliver(config, notice)
            except DeliveryFailed as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a channel's bug is a failed delivery, not a dead worker
                error = f"{type(exc).__name__}: {exc}"
            else:
                self._succeeded(channel)
                return
            if attempt < config.retries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
        channel.stats.failed += 1
        self._report(channel, f"{notice.event} notice not delivered after {config.retries + 1} tries: {error}")

    def _succeeded(self, channel: _Channel) -> None:
        stats = channel.stats
        stats.sent += 1
        if stats.failing_since is not None:
            log.info("notifier %s delivers again (%d notices were lost while it failed)",
                     channel.config.name, stats.failed)
            stats.failing_since = None
            stats.held_back = 0

    def _report(self, channel: _Channel, error: str) -> None:
        """Log a failure once, then at most once per ``quiet_for``, counting the rest."""
        stats = channel.stats
        now = time.monotonic()
        stats.last_error = error
        if stats.failing_since is None:
            stats.failing_since = now
        elif now - stats.last_logged < channel.config.quiet_for:
            stats.held_back += 1
            return
        more = f" ({stats.held_back} more failures since the last report)" if stats.held_back else ""
        log.warning("notifier %s: %s%s; next report of it in %g s at the earliest",
                    channel.config.name, error, more, channel.config.quiet_for)
        stats.last_logged = now
        stats.held_back = 0
