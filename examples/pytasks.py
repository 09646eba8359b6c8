"""Python tasks used by checks.toml: data checks that report progress while they work.

A parameter annotated ``taskflow.Context`` is injected; the others come from ``params``
(or ``-p key=value`` at trigger time) and are checked against these type hints first.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import taskflow


@taskflow.task
def check_rows(ctx: taskflow.Context, table: str, rows: int = 1000,
               max_null_ratio: float = 0.05) -> dict[str, float]:
    """Scan a (generated) table and fail if too many rows have a missing value."""
    rng = random.Random(table)  # same table, same data: reruns agree
    nulls = 0
    for row in range(1, rows + 1):
        if rng.random() < 0.02:
            nulls += 1
        if row % (rows // 10 or 1) == 0:
            ctx.progress(row / rows, f"{table}: scanned {row}/{rows} rows")
            if ctx.wait_cancelled(0.2):
                ctx.log(f"{table}: cancelled after {row} rows")
                return {"rows": row, "null_ratio": nulls / row}
    ratio = nulls / rows
    ctx.log(f"{table}: {rows} rows, {nulls} with nulls ({ratio:.2%})")
    if ratio > max_null_ratio:
        raise ValueError(f"{table}: null ratio {ratio:.2%} exceeds {max_null_ratio:.2%}")
    return {"rows": rows, "null_ratio": ratio}


@taskflow.task
async def check_freshness(ctx: taskflow.Context, feeds: list[str],
                          max_age: float = 3600) -> dict[str, float]:
    """Ask each feed (simulated) how old its newest record is."""
    ages: dict[str, float] = {}
    for index, feed in enumerate(feeds, start=1):
        await asyncio.sleep(0.5)  # stands in for a network round trip
        ages[feed] = (time.time() % 600) + 60 * index
        ctx.progress(index / len(feeds), f"{feed}: newest record {ages[feed]:.0f}s old")
    stale = [feed for feed, age in ages.items() if age > max_age]
    if stale:
        raise RuntimeError(f"stale feeds: {', '.join(stale)}")
    ctx.log(f"all {len(feeds)} feeds fresh (max age {max(ages.values()):.0f}s)")
    return ages


@taskflow.task
def row_trend(history: taskflow.History, log: logging.Logger, table: str = "orders") -> dict[str, Any]:
    """Compare today's (simulated) row count with the earlier runs': a ``History`` of this
    task's ended runs and a ``Logger`` are injected by their annotations, like ``Context``."""
    rows = 5000 + int(time.time() // 60) % 500
    earlier = [run.result["rows"] for run in history if run.succeeded and isinstance(run.result, dict)]
    last_ok = history.last_success
    log.info("%s: %d rows now; %d earlier runs, last success %s", table, rows, len(history),
             last_ok.finished_at if last_ok else "never")
    if earlier and rows < 0.5 * (sum(earlier) / len(earlier)):
        raise ValueError(f"{table}: {rows} rows is less than half the recent average")
    return {"rows": rows, "earlier": earlier[:5]}
