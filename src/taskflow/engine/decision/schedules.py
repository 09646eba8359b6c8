"""When scheduled tasks fire: the next fire time, and what to do about fires missed while
the daemon was down.

Times are timezone-aware datetimes (naive ones are read as UTC); results are UTC. Cron
expressions are evaluated in the schedule's own timezone, so ``0 9 * * *`` in
``Europe/Berlin`` follows Berlin's daylight-saving changes.

First fire after a fresh start (``last_fire`` and ``next_planned`` both unknown): the first
fire strictly after *now* — a newly loaded task never fires at load time and has nothing
"missed". When only ``last_fire`` is known (the planned time was not kept, or the schedule
was edited), the fires since ``last_fire`` count as missed and the missed-fire policy applies.

Backfill (``slots_between``): the fires of a schedule in a past range, each run once for
its slot. Naive range ends are read in the schedule's own timezone.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter

from taskflow.model import Schedule

# ``every`` schedules are aligned to this instant, so "every 10m" fires at :00, :10, ...
EVERY_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
# A fire this late (seconds) is still on time, not missed: the loop may be a little behind.
DEFAULT_GRACE = 60.0
# Walking cron fires one by one past this many, we jump straight to the latest one.
_WALK_LIMIT = 1000


def next_fire(schedule: Schedule, after: datetime) -> datetime | None:
    """The first fire strictly after ``after``, or None when the schedule will not fire again."""
    after = _aware(after)
    if schedule.cron is not None:
        start = after.astimezone(_zone(schedule.timezone))
        return _utc(croniter(schedule.cron, start).get_next(datetime))
    if schedule.every is not None:
        if schedule.every <= 0:
            return None
        step = schedule.every
        elapsed = (after - EVERY_ANCHOR).total_seconds()
        count = math.floor(elapsed / step) + 1
        fire = EVERY_ANCHOR + timedelta(seconds=count * step)
        # Float rounding can land on ``after`` itself; the contract is strictly after.
        while fire <= after:
            count += 1
            fire = EVERY_ANCHOR + timedelta(seconds=count * step)
        return fire
    if schedule.at is not None:
        at = _aware(schedule.at, schedule.timezone)
        return at if at > after else None
    return None


def due_fires(
    schedule: Schedule,
    last_fire: datetime | None,
    next_planned: datetime | None,
    now: datetime,
    *,
    grace: float = DEFAULT_GRACE,
) -> tuple[list[datetime], datetime | None]:
    """Fires to trigger now (oldest first) and the next planned fire after them.

    Every planned fire at or before ``now`` is due. The latest due fire is *on time* when it is
    at most ``grace`` seconds old; the others are *missed* (the daemon was down or stalled) and
    ``schedule.missed`` decides: ``skip`` fires only the on-time one (if any); ``once`` fires
    the latest due fire, once, whatever its age; ``all`` fires every due fire, keeping the
    latest ``max_missed`` of them. The caller persists the returned next planned fire.
    """
    now = _aware(now)
    if next_planned is None:
        base = now if last_fire is None else _aware(last_fire)
        next_planned = next_fire(schedule, base)
    else:
        next_planned = _aware(next_planned)
    if next_planned is None or next_planned > now:
        return [], next_planned
    latest = _latest_at_or_before(schedule, now, floor=next_planned)
    upcoming = next_fire(schedule, now)
    on_time = (now - latest).total_seconds() <= grace
    if schedule.missed == "all":
        return _due_back(schedule, latest, next_planned, max(1, schedule.max_missed)), upcoming
    if schedule.missed == "once" or on_time:
        return [latest], upcoming
    return [], upcoming


def slots_between(schedule: Schedule, start: datetime, end: datetime, limit: int) -> list[datetime]:
    """The schedule's fires in ``[start, end]`` (both included), oldest first, at most
    ``limit + 1`` of them: one more than ``limit`` says the range holds too many. Naive
    ``start``/``end`` are in the schedule's timezone."""
    start = _aware(start, schedule.timezone)
    end = _aware(end, schedule.timezone)
    slots: list[datetime] = []
    if end < start:
        return slots
    fire = next_fire(schedule, start - timedelta(microseconds=1))  # ``start`` itself may be a slot
    while fire is not None and fire <= end and len(slots) <= limit:
        slots.append(fire)
        fire = next_fire(schedule, fire)
    return slots


def _latest_at_or_before(schedule: Schedule, now: datetime, *, floor: datetime) -> datetime:
    """The latest fire in ``[floor, now]``; ``floor`` itself is a planned fire."""
    if schedule.cron is not None:
        start = now.astimezone(_zone(schedule.timezone))
        prev = _utc(croniter(schedule.cron, start).get_prev(datetime))
        # get_prev is strictly before ``now``; ``now`` may itself be a fire time.
        after_prev = next_fire(schedule, prev)
        latest = after_prev if after_prev is not None and after_prev <= now else prev
    elif schedule.every is not None and schedule.every > 0:
        elapsed = (now - EVERY_ANCHOR).total_seconds()
        latest = EVERY_ANCHOR + timedelta(seconds=math.floor(elapsed / schedule.every) * schedule.every)
    else:
        latest = floor
    return max(latest, floor)


def _due_back(schedule: Schedule, latest: datetime, floor: datetime, limit: int) -> list[datetime]:
    """Up to ``limit`` fires in ``[floor, latest]``, newest kept, returned oldest first."""
    if schedule.every is not None and schedule.every > 0:
        step = timedelta(seconds=schedule.every)
        fires: deque[datetime] = deque()
        back_fire = latest
        while back_fire >= floor and len(fires) < limit:
            fires.appendleft(back_fire)
            back_fire = back_fire - step
        if not fires:
            fires.append(latest)
        return list(fires)
    if schedule.cron is not None:
        kept: deque[datetime] = deque(maxlen=limit)
        fire: datetime | None = floor
        walked = 0
        while fire is not None and fire <= latest and walked < _WALK_LIMIT:
            kept.append(fire)
            fire = next_fire(schedule, fire)
            walked += 1
        if fire is not None and fire <= latest:
            # Too many to walk: take the newest ones by walking backwards from ``latest``.
            back: deque[datetime] = deque([latest])
            it = croniter(schedule.cron, latest.astimezone(_zone(schedule.timezone)))
            while len(back) < limit:
                prev = _utc(it.get_prev(datetime))
                if prev < floor:
                    break
                back.appendleft(prev)
            return list(back)
        return list(kept)
    return [latest]


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _aware(value: datetime, timezone: str = "UTC") -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=_zone(timezone)).astimezone(UTC)
    return value.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
