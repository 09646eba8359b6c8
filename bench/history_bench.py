"""History at scale: bytes per finished run and start-up/listing query times vs history size.

Fills a store through its own API (``save_runs`` + ``save_attempt`` of finished leaf runs of
a short command, in batches), then times the queries the daemon's start-up
(``last_runs_by_task``, ``active_runs``, ``task_states``) and ``runs --limit 50``
(``list_runs``) make, and reports database bytes per run. Then a real ``taskflowd`` is
started on that state folder (the history is each size's own ``state.db``): its start-up
time to a healthy answer, its RSS once up, and the wall time of ``taskflow status --json``
and ``taskflow runs --limit 50 --json`` against it (medians of 5 CLI calls, 3 daemon starts).

Retention (``--retention N``): one sweep keeping the newest N runs per task (the daemon's
hourly pass, through the store's ``prune``), then the file's size, and its size after
``VACUUM`` (what is left once freed pages are given back; SQLite reuses them for new runs
either way, so a file under retention stops growing).

    .venv/bin/python bench/history_bench.py [--sizes 0,100000,1000000] [--tasks 50] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
from daemon_launch import BIN, start_taskflowd, stop_taskflowd

from taskflow.model import Attempt, RetentionConfig, Run, RunState, new_ulid
from taskflow.store import Store


def _finished(task: str, now: datetime, output_root: str) -> tuple[Run, Attempt]:
    run_id = new_ulid()
    run = Run(id=run_id, task=task, root_id=run_id, created_at=now, started_at=now,
              finished_at=now, state=RunState.SUCCEEDED, exit_code=0, attempts=1)
    attempt = Attempt(run_id=run_id, number=1, state=RunState.SUCCEEDED, pid=12345,
                      started_at=now, finished_at=now, exit_code=0,
                      output_dir=f"{output_root}/{run_id}.1")  # where the daemon puts it
    return run, attempt


async def _fill(store: Store, count: int, tasks: int, batch: int = 2000) -> None:
    now = datetime.now(UTC)
    output_root = os.path.join(os.path.dirname(os.path.abspath(store.path)), "output")
    for start in range(0, count, batch):
        pairs = [_finished(f"task{i % tasks}", now, output_root) for i in range(start, min(count, start + batch))]
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


def _median_wall(argv: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure_daemon(state: Path, tasks: int, retention: int | None) -> dict[str, float]:
    tasks_dir = state.parent / "tasks"
    tasks_dir.mkdir(exist_ok=True)
    (tasks_dir / "history.toml").write_text("".join(f'[tasks.task{i}]\ncommand = "true"\n' for i in range(tasks)))
    sock = f"/tmp/tf-history-{os.getpid()}.sock"
    taskflow = [str(BIN / "taskflow"), "--socket", sock]
    starts, rss = [], []
    out: dict[str, float] = {}
    keep_all = state.parent / "keep-all.toml"  # the default (1,000 per task) would prune at start
    keep_all.write_text("[retention]\ndays = false\nper_task = false\n")
    for _ in range(3):
        daemon, took = start_taskflowd(state, sock, tasks_dir, "--config", str(keep_all))
        try:
            starts.append(took)
            time.sleep(1.0)  # settled: start-up reads done, heap as it stays
            rss.append(psutil.Process(daemon.pid).memory_info().rss / 2**20)
            out["status_ms"] = _median_wall([*taskflow, "status", "--json"]) * 1000
            out["runs50_ms"] = _median_wall([*taskflow, "runs", "--limit", "50", "--json"]) * 1000
        finally:
            stop_taskflowd(daemon)
    out["start_s"] = statistics.median(starts)
    out["rss_mib"] = statistics.median(rss)
    if retention is not None:
        out.update(asyncio.run(_retain(state / "state.db", retention)))
    return out


async def _retain(db: Path, per_task: int) -> dict[str, float]:
    """One retention sweep (the daemon's hourly pass, through the store's own ``prune``)."""
    store = await Store.open(db)
    try:
        await store.prune(RetentionConfig(days=None, per_task=per_task))
    finally:
        await store.close()
    out = {"after_retention_mib": os.path.getsize(db) / 2**20}
    with sqlite3.connect(db) as conn:
        out["runs_left"] = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out["after_vacuum_mib"] = os.path.getsize(db) / 2**20
    return out


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
    parser.add_argument("--retention", type=int, default=None, metavar="N",
                        help="then start the daemon with [retention] per_task = N and measure the file")
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            state = Path(tmp) / f"h{size}" / "state"
            state.mkdir(parents=True)
            row = asyncio.run(measure(state / "state.db", size, args.tasks))
            row.update(measure_daemon(state, args.tasks, args.retention if size else None))
            print(f"{size:>9} runs: " + "  ".join(f"{k}={v:.2f}" for k, v in row.items()),
                  flush=True)


if __name__ == "__main__":
    main()
