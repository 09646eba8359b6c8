"""``Backfill`` requests: one run per schedule slot in a range (``engine.backfill`` makes them).

The handler's role check and audit apply as to any mutation; the audit entry also records
how many runs the backfill made (``count``).
"""

from __future__ import annotations

from typing import Any

from taskflow.engine.backfill import BackfillTriggers, backfill
from taskflow.protocol import Backfill, BackfilledRun, BackfillInfo


async def backfill_task(engine: BackfillTriggers, request: Backfill, user: str | None) -> BackfillInfo:
    """Make the runs of ``request``'s slots, in order; refusals are ``EngineError``\\ s."""
    runs = await backfill(engine, request.task, request.start, request.end, limit=request.limit, requested_by=user)
    return BackfillInfo(
        task=request.task,
        runs=[BackfilledRun(id=run.id, scheduled_at=run.scheduled_at) for run in runs if run.scheduled_at],
    )


def audited_count(result: object) -> dict[str, Any] | None:
    """What the audit entry of an answered request adds to its arguments: a backfill's
    number of runs; nothing for other requests."""
    return {"count": len(result.runs)} if isinstance(result, BackfillInfo) else None
