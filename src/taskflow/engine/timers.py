"""Schedules: fire tasks by cron, interval or one-off time, and catch up after downtime.

The pure rules (next fire, missed-fire policy) live in ``schedules``; this module owns the
clock: one asyncio task sleeping until the earliest next fire, woken early on reload.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from taskflow.engine.errors import EngineError
from taskflow.engine.schedules import due_fires
from taskflow.model import Trigger

if TYPE_CHECKING:
    from taskflow.engine.engine import Engine

log = logging.getLogger(__name__)


class ScheduleTimer:
    """Keeps ``next_fire`` per scheduled task and triggers runs when they come due."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.next_fire: dict[str, datetime | None] = {}
        self.last_fire: dict[str, datetime | None] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for task, (last, nxt) in (await self.engine.store.schedules()).items():
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
            upcoming = [t for t in self.next_fire.values() if t is not None]
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
        specs = {name: spec for name, spec in self.engine.tasks.items() if spec.schedule is not None}
        for name in [n for n in self.next_fire if n not in specs]:
            del self.next_fire[name]
        for name, spec in specs.items():
            assert spec.schedule is not None
            fires, nxt = due_fires(spec.schedule, self.last_fire.get(name), self.next_fire.get(name), now)
            for fire_time in fires:
                await self._fire(name, fire_time)
                self.last_fire[name] = fire_time
            if fires or nxt != self.next_fire.get(name):
                self.next_fire[name] = nxt
                self.engine.store.save_schedule(name, self.last_fire.get(name), nxt)

    async def _fire(self, name: str, fire_time: datetime) -> None:
        engine = self.engine
        spec = engine.tasks[name]
        if not engine.is_enabled(name):
            log.info("schedule of %s due at %s not fired: task is disabled", name, fire_time)
            return
        assert spec.schedule is not None
        if not spec.schedule.allow_overlap and engine.active_runs_of(name):
            log.info("schedule of %s due at %s skipped: the previous run is still going", name, fire_time)
            return
        try:
            run = await engine.trigger(name, trigger=Trigger.SCHEDULE, requested_by="schedule")
            log.info("schedule fired %s for %s as run %s", name, fire_time.isoformat(), run.id)
        except EngineError as exc:
            log.warning("schedule of %s not fired: %s", name, exc.message)
