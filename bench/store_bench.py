"""Benchmark of the state store's write path: group commit against one commit per transition.

A *transition* is what the engine writes when a run changes state: an upsert of its whole
``runs`` row, acknowledged only after a durable (fsynced) commit. Producers walk runs through
pending → queued → running → succeeded, each awaiting its save before the next, like the
engine awaiting an intent or terminal state.

    .venv/bin/python bench/store_bench.py [--transitions N] [--repeat K] [--producers P] [--dir DIR]

Prints transitions/s grouped (P concurrent producers) and one-commit-per-transition (one
producer), their ratio, and process CPU µs per grouped transition (event loop + SQLite
thread), each the median of K runs on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from taskflow.model import Run, RunState, new_ulid
from taskflow.store import Store

_STATES = (RunState.QUEUED, RunState.RUNNING, RunState.SUCCEEDED)


async def _producer(store: Store, transitions: int) -> None:
    """Save ``transitions`` state changes, four per run, each awaited until durable."""
    done = 0
    while done < transitions:
        now = datetime.now(UTC)
        run_id = new_ulid()
        run = Run(id=run_id, task="bench/leaf", root_id=run_id, created_at=now,
                  params={"target": "db-1"}, requested_by="bench")  # fmt: skip
        await store.save_runs((run,))
        done += 1
        for state in _STATES:
            if done >= transitions:
                break
            run.state = state
            if state is RunState.RUNNING:
                run.started_at = datetime.now(UTC)
                run.attempts = 1
            elif state is RunState.SUCCEEDED:
                run.finished_at = datetime.now(UTC)
                run.exit_code = 0
            await store.save_runs((run,))
            done += 1


async def _measure(path: str, transitions: int, producers: int) -> tuple[float, float, int]:
    """(transitions/s, CPU µs per transition, commits) for one fresh database."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    store = await Store.open(path)
    share, extra = divmod(transitions, producers)
    counts = [share + (1 if i < extra else 0) for i in range(producers)]
    commits_before = store.stats.commits
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(_producer(store, n) for n in counts if n))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    commits = store.stats.commits - commits_before
    await store.close()
    return transitions / wall, cpu / transitions * 1e6, commits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transitions", type=int, default=40_000, help="grouped transitions per run")
    parser.add_argument("--single-transitions", type=int, default=3_000,
                        help="transitions per run with one commit each (slow: fsync per transition)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--producers", type=int, default=32)
    parser.add_argument("--dir", default=None, help="where to put the database (default: a temp dir under /tmp)")
    args = parser.parse_args()

    folder = args.dir or tempfile.mkdtemp(prefix="taskflow-store-bench-", dir="/tmp")
    path = os.path.join(folder, "store-bench.sqlite")
    grouped, cpu_us, single, commits = [], [], [], []
    for _ in range(args.repeat):
        rate, cpu, n_commits = asyncio.run(_measure(path, args.transitions, args.producers))
        grouped.append(rate)
        cpu_us.append(cpu)
        commits.append(n_commits)
        rate, _, _ = asyncio.run(_measure(path, args.single_transitions, 1))
        single.append(rate)
    g, s = statistics.median(grouped), statistics.median(single)
    print(f"database:                 {path} (synchronous=FULL, WAL)")
    print(f"grouped ({args.producers} producers):   {g:,.0f} transitions/s  "
          f"(median of {args.repeat}; runs: {', '.join(f'{x:,.0f}' for x in grouped)})")  # fmt: skip
    print(f"  commits per run:        {', '.join(str(c) for c in commits)} "
          f"for {args.transitions:,} transitions")  # fmt: skip
    print(f"one commit each:          {s:,.0f} transitions/s  "
          f"(median of {args.repeat}; runs: {', '.join(f'{x:,.0f}' for x in single)})")  # fmt: skip
    print(f"ratio grouped/single:     {g / s:.1f}x")
    print(f"CPU per transition:       {statistics.median(cpu_us):.1f} µs (grouped, process CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
