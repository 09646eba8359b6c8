"""Schedules: fire tasks by cron, interval or one-off time, and catch up after downtime.

The pure rules (next fire, missed-fire policy) live in ``schedules``; this module owns the
clock: one asyncio task sleeping until the earliest next fire, woken early on reload.

Every run a fire starts knows its slot (``Run.scheduled_at``). Overlap: without
``allow_overlap`` a fire finding the task's previous run still going is dropped — except
under ``missed = "all"``, where every slot runs: the fire queues behind the last run of the
task (``after``), one after another, at most ``max_missed`` waiting at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from taskflow.engine.decision.schedules import due_fires
from taskflow.engine.errors import EngineError
from taskflow.model import Run, RunState, TaskSpec, Trigger

log = logging.getLogger(__name__)


class ScheduleRecords(Protocol):
    """Where the timer keeps each task's last and next fire (the store)."""

    async def schedules(self) -> dict[str, tuple[datetime | None, datetime | None]]: ...
    def save_schedule(self, task: str, last_fire: datetime | None, next_fire: datetime | None) -> object: ...


class Triggers(Protocol):
    """What the timer fires runs through (the engine)."""

    @property
    def tasks(self) -> Mapping[str, TaskSpec]: ...
    def is_enabled(self, name: str) -> bool: ...
    def is_paused(self, name: str) -> bool: ...
    def active_runs_of(self, task: str) -> list[Run]: ...
    async def trigger(
        self, name: str, *, trigger: Trigger, requested_by: str | None,
        scheduled_at: datetime | None = None, after: str | None = None,
    ) -> Run: ...


class ScheduleTimer:
    """Keeps ``next_fire`` per scheduled task and triggers runs when they come due."""

    def __init__(self, records: ScheduleRecords, triggers: Triggers) -> None:
        self.records = records
        self.triggers = triggers
        self.next_fire: dict[str, datetime | None] = {}
        self.last_fire: dict[str, datetime | None] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for task, (last, nxt) in (await self.records.schedules()).items():
            self.last_fire[task] = last
            self.next_fire[task] = nxt
        await self.tick(datetime.now(UTC))
        self._task = asyncio.create_task(self._loop(), name="taskflow-schedules")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def reload(self) -> None:
        """Task definitions changed: recompute on the next tick."""
        self._changed.set()

    async def _loop(self) -> None:
        while True:
            self._changed.clear()
            paused = self.triggers.is_paused
            upcoming = [t for n, t in self.next_fire.items() if t is not None and not paused(n)]
            timeout = None
            if upcoming:
                timeout = max(0.0, (min(upcoming) - datetime.now(UTC)).total_seconds())
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass
            try:
                await self.tick(datetime.now(UTC))
            except Exception:
                log.exception("schedule tick failed; continuing")

    async def tick(self, now: datetime) -> None:
        """Fire what is due, apply missed-fire policies, and persist the bookkeeping."""
        specs = {name: spec for name, spec in self.triggers.tasks.items() if spec.schedule is not None}
        for name in [n for n in self.next_fire if n not in specs]:
            del self.next_fire[name]
        for name, spec in specs.items():
            assert spec.schedule is not None
            if self.triggers.is_paused(name):
                continue  # its due fires wait for the resume, then follow its missed policy
            fires, nxt = due_fires(spec.schedule, self.last_fire.get(name), self.next_fire.get(name), now)
            for fire_time in fires:
                await self._fire(name, fire_time)
                self.last_fire[name] = fire_time
            if fires or nxt != self.next_fire.get(name):
                self.next_fire[name] = nxt
                self.records.save_schedule(name, self.last_fire.get(name), nxt)

    async def _fire(self, name: str, fire_time: datetime) -> None:
        triggers = self.triggers
        spec = triggers.tasks[name]
        if not triggers.is_enabled(name):
            log.info("schedule of %s due at %s not fired: task is disabled", name, fire_time)
            return
        schedule = spec.schedule
        assert schedule is not None
        after: str | None = None
        active = [run for run in triggers.active_runs_of(name) if run.is_root]
        if not schedule.allow_overlap and active:
            if schedule.missed != "all":
                log.info("schedule of %s due at %s skipped: the previous run is still going", name, fire_time)
                return
            waiting = [run for run in active if run.after_run is not None and run.state is RunState.PENDING]
            if len(waiting) >= max(1, schedule.max_missed):
                log.info("schedule of %s due at %s dropped: %d runs already wait their turn (max_missed)",
                         name, fire_time, len(waiting))
                return
            after = max(active, key=lambda run: run.id).id  # the newest: slots queue in order
        try:
            run = await triggers.trigger(
                name, trigger=Trigger.SCHEDULE, requested_by="schedule", scheduled_at=fire_time, after=after
            )
            log.info("schedule fired %s for %s as run %s", name, fire_time.isoformat(), run.id)
        except EngineError as exc:
            log.warning("schedule of %s not fired: %s", name, exc.message)
