"""Late runs and late tasks (a task's ``expect``): marked, told and counted, never killed.

``expect.duration``: a run still in flight that long after it started is marked late
(``Run.late_at``, in the store, on screen). ``expect.by = "HH:MM"``: at that time of day, a
task with no run that succeeded in the 24 hours before is late; its runs in flight are
marked too. Each late finding goes to the listeners (notifications, metrics) once.

One asyncio task sleeps until the nearest deadline; the engine's events arm and disarm the
duration deadlines, and each ``by`` deadline re-arms itself for the next day.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from taskflow.engine.events import EngineEvent, RunUpdated, TasksUpdated
from taskflow.model import Run, RunState, TaskSpec

log = logging.getLogger(__name__)

#: How often the ``by`` deadlines are recomputed even without a reload (clock changes, DST).
RECHECK = 3600.0


@dataclass(frozen=True, slots=True)
class LateFinding:
    """``run`` went past ``expect.duration``, or ``task`` missed ``expect.by`` (``run``: one
    of its runs still in flight, if any)."""

    task: str
    why: str  # "duration" or "by"
    expected: str  # "10m" or "03:30 Europe/Paris", for people
    run: Run | None


class LateEngine(Protocol):
    @property
    def tasks(self) -> Mapping[str, TaskSpec]: ...
    def active_runs_of(self, task: str) -> list[Run]: ...
    def mark_late(self, run_id: str, at: float) -> Run | None: ...


class SuccessHistory(Protocol):
    async def list_runs(self, *, state: RunState | None = None, task: str | None = None,
                        roots_only: bool = False, limit: int = 100, before: str | None = None) -> list[Run]: ...


class LateWatch:
    """Subscribe to the engine's bus, then ``run()`` it; ``listeners`` get each finding."""

    def __init__(
        self,
        engine: LateEngine,
        history: SuccessHistory,
        listeners: list[Callable[[LateFinding], None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.history = history
        self.listeners = listeners
        self.clock = clock
        self._due: list[tuple[float, str, str]] = []  # (when, "run"|"task", run id | task name)
        self._by_due: dict[str, float] = {}  # task -> its next `by` deadline
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ engine side

    def __call__(self, event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.state == RunState.RUNNING and run.late_at is None:
                spec = self.engine.tasks.get(run.task)
                expect = spec.expect if spec is not None else None
                if expect is not None and expect.duration is not None and run.started_at is not None:
                    self._arm(run.started_at.timestamp() + expect.duration, "run", run.id)
            case TasksUpdated():
                self._plan_by_deadlines()

    def _arm(self, when: float, kind: str, key: str) -> None:
        heapq.heappush(self._due, (when, kind, key))
        if self._due[0][0] == when:
            self._wake.set()

    def _plan_by_deadlines(self) -> None:
        now = self.clock()
        for name, spec in self.engine.tasks.items():
            expect = spec.expect
            if expect is None or expect.by is None:
                self._by_due.pop(name, None)
                continue
            when = next_time_of_day(expect.by, expect.timezone, now)
            if self._by_due.get(name) != when:
                self._by_due[name] = when
                self._arm(when, "task", name)
        for name in [n for n in self._by_due if n not in self.engine.tasks]:
            del self._by_due[name]

    # ------------------------------------------------------------------ the clock

    async def run(self) -> None:
        self._plan_by_deadlines()
        recheck = self.clock() + RECHECK
        while True:
            self._wake.clear()
            now = self.clock()
            while self._due and self._due[0][0] <= now:
                when, kind, key = heapq.heappop(self._due)
                try:
                    if kind == "run":
                        self._run_overdue(key, now)
                    elif self._by_due.get(key) == when:
                        await self._task_deadline(key, when)
                except Exception:  # a finding that fails must not stop the watch
                    log.exception("late check of %s failed", key)
            if now >= recheck:
                self._plan_by_deadlines()
                recheck = now + RECHECK
            until = min(self._due[0][0] if self._due else recheck, recheck)
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, until - self.clock()))
            except TimeoutError:
                pass

    def _run_overdue(self, run_id: str, now: float) -> None:
        run = self.engine.mark_late(run_id, now)
        if run is None:
            return  # ended meanwhile, or marked already
        spec = self.engine.tasks.get(run.task)
        expected = _duration_text(spec.expect.duration) if spec and spec.expect and spec.expect.duration else "?"
        log.warning("run %s of %s is late: still %s after %s", run.id, run.task, run.state, expected)
        self._tell(LateFinding(run.task, "duration", expected, run))

    async def _task_deadline(self, name: str, when: float) -> None:
        spec = self.engine.tasks.get(name)
        self._by_due.pop(name, None)
        self._plan_by_deadlines()  # tomorrow's
        if spec is None or spec.expect is None or spec.expect.by is None:
            return
        expected = f"{spec.expect.by} {spec.expect.timezone}"
        wins = await self.history.list_runs(state=RunState.SUCCEEDED, task=name, roots_only=True, limit=1)
        last = wins[0] if wins else None
        if last is not None and last.finished_at is not None and last.finished_at.timestamp() >= when - 86400:
            return
        marked = [r for r in (self.engine.mark_late(a.id, when) for a in self.engine.active_runs_of(name)) if r]
        log.warning("task %s is late: no run succeeded in the 24 h before %s", name, expected)
        self._tell(LateFinding(name, "by", expected, marked[0] if marked else None))

    def _tell(self, finding: LateFinding) -> None:
        for listener in self.listeners:
            try:
                listener(finding)
            except Exception:  # one listener's bug must not hide the finding from the others
                log.exception("late listener failed on %s", finding.task)


def next_time_of_day(clock_time: str, zone: str, now: float) -> float:
    """The next ``HH:MM`` in ``zone`` after ``now`` (a POSIX time), as a POSIX time."""
    hour, minute = (int(part) for part in clock_time.split(":"))
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(now, tz)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target.timestamp() <= now:
        target = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return target.timestamp()


def _duration_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
