"""Backfill: run a schedule's slots in a range, one run per slot, oldest first.

Each run is an ordinary run tree (trigger ``backfill``) that records its slot
(``Run.scheduled_at``, ``TASKFLOW_SCHEDULED_AT`` for its leaves), so pools, priorities,
breakers, pauses and cancel apply as to any run. Without the schedule's ``allow_overlap``
the slots run one after another: each root waits ``pending`` for the run before it
(``after``) — the first for the task's newest run still going, if any — and a cancelled or
failed slot lets the next one go. With ``allow_overlap`` they are all queued at once.

The slots come from the pure ``slots_between``; this module only checks the request and
creates the runs through the engine's ``trigger``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from taskflow.engine.decision.schedules import slots_between
from taskflow.engine.errors import EngineError
from taskflow.engine.results import rfc3339
from taskflow.model import Run, TaskSpec, Trigger

#: Slots one backfill may create when the request does not say (``--max`` raises it).
DEFAULT_LIMIT = 1000
#: Slots one backfill may never exceed, whatever it asks: every slot is a run tree in memory.
MAX_LIMIT = 10_000


class BackfillTriggers(Protocol):
    """What a backfill needs of the engine."""

    @property
    def tasks(self) -> Mapping[str, TaskSpec]: ...
    def active_runs_of(self, task: str) -> list[Run]: ...
    async def trigger(
        self, name: str, *, trigger: Trigger, requested_by: str | None,
        scheduled_at: datetime | None = None, after: str | None = None,
    ) -> Run: ...


async def backfill(
    engine: BackfillTriggers,
    name: str,
    start: datetime,
    end: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    requested_by: str | None = None,
) -> list[Run]:
    """Create one run per slot of ``name``'s schedule in ``[start, end]`` (naive ends in the
    schedule's timezone); returns the root runs in slot order. Refuses, creating nothing, a
    task without a schedule, an empty range or one with more than ``limit`` slots."""
    spec = engine.tasks.get(name)
    if spec is None:
        raise EngineError("not_found", f"no task named {name!r}")
    schedule = spec.schedule
    if schedule is None:
        raise EngineError("bad_request", f"task {name} has no schedule, so it has no slots to backfill (use run)")
    if not 1 <= limit <= MAX_LIMIT:
        raise EngineError("bad_request", f"the backfill limit must be 1 to {MAX_LIMIT}, got {limit}")
    slots = slots_between(schedule, start, end, limit)
    span = f"from {_shown(start)} to {_shown(end)}"
    if not slots:
        raise EngineError("bad_request", f"no slot of {name}'s schedule ({schedule.describe()}) falls {span}")
    if len(slots) > limit:
        raise EngineError(
            "bad_request",
            f"{name}'s schedule ({schedule.describe()}) has more than {limit} slots {span}; "
            f"narrow the range or raise the limit (--max, at most {MAX_LIMIT})",
        )
    after: str | None = None
    if not schedule.allow_overlap:
        going = [run for run in engine.active_runs_of(name) if run.is_root]
        after = max(going, key=lambda run: run.id).id if going else None
    runs: list[Run] = []
    for slot in slots:
        run = await engine.trigger(
            name, trigger=Trigger.BACKFILL, requested_by=requested_by, scheduled_at=slot, after=after
        )
        runs.append(run)
        if not schedule.allow_overlap:
            after = run.id
    return runs


def _shown(when: datetime) -> str:
    """A range end as given: RFC 3339 when it has a zone, else as the schedule's local time."""
    return rfc3339(when) if when.tzinfo is not None else when.isoformat(sep=" ")
