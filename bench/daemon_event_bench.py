"""End to end: a run's transition in a real ``taskflowd`` → its event in 10 subscriber processes.

Usage: ``.venv/bin/python bench/daemon_event_bench.py [--leaves-per-second 250] [--seconds 8]
[--subscribers 10]``

A daemon runs a 50-leaf tree of ``true`` five times a second (≈ 1,000 transitions/s: each
leaf goes queued → running → succeeded, plus the trees' own). Every subscriber stamps each
``RunChanged`` on receipt and compares with the transition's own time: ``started_at`` for
``running`` (published at once) and ``finished_at`` for terminal states (published only after
their durable commit, so that figure includes the fsync). Clocks: the same machine's wall
clock in every process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from taskflow.client import Client, ClientError
from taskflow.protocol import Health, RunChanged, TriggerTask

TREE = 50


def subscriber(path: str, seconds: float, out: mp.Queue, ready: mp.Event) -> None:  # type: ignore[type-arg]
    running: list[float] = []
    terminal: list[float] = []
    with Client.connect(path, timeout=10) as client:
        client.subscribe(["runs"])  # sends Subscribe now; pushes are read below
        ready.set()
        deadline = time.time() + seconds
        while time.time() < deadline:
            push = client.next_push(0.5)
            now = time.time()
            if push is None:
                continue
            event = push.event
            if isinstance(event, RunChanged):
                run = event.run
                if run.state == "running" and run.started_at is not None and run.parent_id:
                    running.append((now - run.started_at.timestamp()) * 1000)
                elif run.state.terminal and run.finished_at is not None:
                    terminal.append((now - run.finished_at.timestamp()) * 1000)
    out.put((running, terminal))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees-per-second", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--subscribers", type=int, default=10)
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")

    work = Path(tempfile.mkdtemp(prefix="taskflow-event-bench-"))
    (work / "tasks").mkdir()
    leaves = "\n".join(f'[tasks.tree.children.leaf{i}]\ncommand = "true"' for i in range(TREE))
    (work / "tasks" / "bench.toml").write_text(f"[tasks.tree]\n{leaves}\n")
    sock = f"/tmp/tf-event-bench-{os.getpid()}.sock"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "taskflow.daemon.main", "--state-dir", str(work / "state"),
         "--socket", sock, "--tasks", str(work / "tasks"), "--max-workers", "8"],
        stdout=subprocess.DEVNULL, stderr=open(work / "daemon.log", "wb"),  # noqa: SIM115 - the daemon child owns it until it exits
    )
    try:
        for _ in range(200):
            try:
                with Client.connect(sock, timeout=1) as client:
                    client.call(Health())
                break
            except ClientError:
                time.sleep(0.05)
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        readies = [ctx.Event() for _ in range(args.subscribers)]
        procs = [
            ctx.Process(target=subscriber, args=(sock, args.seconds + 3, out, ready))
            for ready in readies
        ]
        for p in procs:
            p.start()
        for ready in readies:
            ready.wait(30)
        interval = 1.0 / args.trees_per_second
        with Client.connect(sock, timeout=10) as client:
            started = time.time()
            n = 0
            while time.time() - started < args.seconds:
                client.call(TriggerTask(task="tree"))
                n += 1
                time.sleep(max(0.0, started + n * interval - time.time()))
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(10)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    running = [v for r, _ in results for v in r]
    terminal = [v for _, t in results for v in t]
    rate = n * (TREE * 3 + 3) / args.seconds
    print(f"{n} trees of {TREE} leaves in {args.seconds:.0f}s ≈ {rate:.0f} transitions/s; "
          f"{args.subscribers} subscribers")
    for label, values in (("running (published at once)", running), ("terminal (after durable commit)", terminal)):
        print(f"  {label:34s} n={len(values):6d}  p50 {percentile(values, 0.5):6.2f} ms  "
              f"p99 {percentile(values, 0.99):6.2f} ms  max {max(values, default=float('nan')):6.1f} ms")
    if running:
        print(f"  median over subscribers (running): {statistics.median(running):.2f} ms")


if __name__ == "__main__":
    main()
