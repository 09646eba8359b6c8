"""History at scale: bytes per finished run and start-up/listing query times vs history size.

Fills a store through its own API (``save_runs`` + ``save_attempt`` of finished leaf runs of
a short command, in batches), then times the queries the daemon's start-up
(``last_runs_by_task``, ``active_runs``, ``task_states``) and ``runs --limit 50``
(``list_runs``) make, and reports database bytes per run. Daemon RSS and the CLI latency
against a live daemon are not measured here yet (see docs/benchmarks.md).

    .venv/bin/python bench/history_bench.py [--sizes 0,10000,100000] [--tasks 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from taskflow.model import Attempt, Run, RunState, new_ulid
from taskflow.store import Store


def _finished(task: str, now: datetime) -> tuple[Run, Attempt]:
    run_id = new_ulid()
    run = Run(id=run_id, task=task, root_id=run_id, created_at=now, started_at=now,
              finished_at=now, state=RunState.SUCCEEDED, exit_code=0, attempts=1)
    attempt = Attempt(run_id=run_id, number=1, state=RunState.SUCCEEDED, pid=12345,
                      started_at=now, finished_at=now, exit_code=0,
                      output_dir=f"/var/lib/taskflow/runs/{run_id}/1")
    return run, attempt


async def _fill(store: Store, count: int, tasks: int, batch: int = 2000) -> None:
    now = datetime.now(UTC)
    for start in range(0, count, batch):
        pairs = [_finished(f"task{i % tasks}", now) for i in range(start, min(count, start + batch))]
        store.save_runs([run for run, _ in pairs])
        for _, attempt in pairs:
            store.save_attempt(attempt)
        await store.flush()


async def _timed(call, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


async def measure(path: Path, size: int, tasks: int) -> dict[str, float]:
    store = await Store.open(path)
    began = time.perf_counter()
    await _fill(store, size, tasks)
    fill = time.perf_counter() - began
    await store.close()
    store = await Store.open(path)
    try:
        out = {
            "fill_s": fill,
            "last_runs_ms": await _timed(store.last_runs_by_task),
            "active_ms": await _timed(store.active_runs),
            "list50_ms": await _timed(lambda: store.list_runs(limit=50)),
            "counts_ms": await _timed(store.counts_by_state),
        }
    finally:
        await store.close()
    out["bytes_per_run"] = os.path.getsize(path) / size if size else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            row = asyncio.run(measure(Path(tmp) / f"h{size}.db", size, args.tasks))
            print(f"{size:>9} runs: " + "  ".join(f"{k}={v:.2f}" for k, v in row.items()),
                  flush=True)


if __name__ == "__main__":
    main()
