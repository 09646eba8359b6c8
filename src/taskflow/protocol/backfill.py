"""``Backfill``: run a scheduled task once for each of its schedule's slots in a range.

A mutation (operators and admins; audited with the range and how many runs it made). The
daemon computes the slots from the task's schedule — naive ``start``/``end`` are read in the
schedule's timezone, aware ones as given — and refuses, creating nothing, a task without a
schedule, a range without slots, or one with more than ``limit`` slots. Otherwise it makes
one run per slot, oldest first, each knowing its slot (``Run.scheduled_at``); they run one
after another unless the schedule has ``allow_overlap``.
"""

from __future__ import annotations

from datetime import datetime

from taskflow.protocol.daemon_views import View
from taskflow.protocol.request_base import Request

__all__ = ["BACKFILL_LIMIT", "Backfill", "BackfillInfo", "BackfilledRun"]

#: Slots a backfill may make unless it asks for more (``taskflow backfill --max N``).
BACKFILL_LIMIT = 1000


class BackfilledRun(View):
    """One run a backfill made, and the slot it runs for."""

    id: str
    scheduled_at: datetime


class BackfillInfo(View):
    """The runs a backfill made, in slot order."""

    task: str
    runs: list[BackfilledRun] = []


class Backfill(Request[BackfillInfo], kw_only=True):
    """One run of ``task`` per slot of its schedule in ``[start, end]`` (both included)."""

    task: str
    start: datetime
    end: datetime
    limit: int = BACKFILL_LIMIT
