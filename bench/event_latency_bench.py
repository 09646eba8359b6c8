"""Event fan-out latency: daemon-side publish → receipt in subscriber processes.

A real ``taskflow.daemon.server.Server`` publishes ``RunChanged`` events at a fixed rate to N
subscriber connections held by OTHER processes; each subscriber stamps receipt with
``time.monotonic_ns()`` (one clock for every process on the machine) and compares it with the
publish time carried in the event. Reports p50/p99/max per rate, idle and with every core
kept busy by loops that spawn ``true``.

    .venv/bin/python bench/event_latency_bench.py                  # idle, 1000 and 2000/s
    .venv/bin/python bench/event_latency_bench.py --busy           # also with all cores busy
    .venv/bin/python bench/event_latency_bench.py --rates 2000 --seconds 3 --subscribers 10

Targets (DESIGN/brief): p99 ≤ 1 ms at 2,000 events/s to 10 subscribers idle, ≤ 30 ms busy.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing as mp
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from taskflow.daemon.server import Server
from taskflow.model import Run, RunState
from taskflow.protocol import (
    SERVER_DECODER,
    FrameReader,
    Hello,
    Ok,
    Push,
    RunChanged,
    Subscribe,
    decode_body,
    encode_frame,
)


def subscriber(path: str, expected: int, results: Any, ready: Any) -> None:
    """Runs in its own process: subscribe to ``runs`` and time every event's arrival."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(encode_frame(Hello(protocol=1, client="bench")) + encode_frame(Subscribe(id=1, topics=["runs"])))
    reader = FrameReader()
    latencies: list[int] = []
    seqs: list[int] = []
    subscribed = False
    sock.settimeout(30)
    while len(latencies) < expected:
        try:
            data = sock.recv(1 << 18)
        except TimeoutError:
            break
        now = time.monotonic_ns()
        if not data:
            break
        for body in reader.feed(data):
            message = decode_body(SERVER_DECODER, body)
            if isinstance(message, Ok) and not subscribed:
                subscribed = True
                ready.release()
            elif isinstance(message, Push) and isinstance(message.event, RunChanged):
                latencies.append(now - int(message.event.run.message or 0))
                seqs.append(message.seq)
    gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
    results.put((latencies, gaps))
    sock.close()


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index] / 1e6


async def publish_at_rate(server: Server, rate: int, count: int) -> None:
    """Publish ``count`` events at ``rate``/s, each stamped just before it is published."""
    run = Run(id="01BENCH", task="bench/task", root_id="01BENCH", state=RunState.RUNNING, created_at=datetime.now(UTC))
    start = time.monotonic()
    sent = 0
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            run.message = str(time.monotonic_ns())
            server.publish("runs", RunChanged(run=run))
            sent += 1
        await asyncio.sleep(1 / rate)


async def measure(rate: int, seconds: float, subscribers: int) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="tfbench-", dir="/tmp")
    path = os.path.join(workdir, "d.sock")

    async def handler(request: Any, peer: Any) -> None:
        return None

    server = Server(path, handler, version="bench", socket_group=None, queue_size=10_000)
    await server.start()
    count = int(rate * seconds)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    ready = ctx.Semaphore(0)
    procs = [ctx.Process(target=subscriber, args=(path, count, results, ready)) for _ in range(subscribers)]
    for proc in procs:
        proc.start()
    for _ in procs:
        while not ready.acquire(block=False):
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    await publish_at_rate(server, rate, count)
    collected = [await asyncio.to_thread(results.get, True, 60) for _ in procs]
    for proc in procs:
        proc.join(10)
    await server.close()
    shutil.rmtree(workdir, ignore_errors=True)
    latencies = sorted(value for values, _ in collected for value in values)
    return {
        "rate": rate,
        "subscribers": subscribers,
        "received": len(latencies),
        "expected": count * subscribers,
        "gaps": sum(gaps for _, gaps in collected),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] / 1e6 if latencies else float("nan"),
    }


def start_busy_loops() -> list[subprocess.Popen[bytes]]:
    """One shell per core spawning ``true`` forever: CPU and fork pressure like a busy host."""
    return [
        subprocess.Popen(["sh", "-c", "while :; do true; /bin/true; done"], start_new_session=True)
        for _ in range(os.cpu_count() or 2)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="1000,2000", help="events per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="publishing time per measurement")
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--busy", action="store_true", help="also measure with every core busy")
    args = parser.parse_args()
    print("command:", shlex.join([os.path.relpath(sys.executable), *sys.argv]))
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    modes = ["idle", "busy"] if args.busy else ["idle"]
    print(f"{'mode':<5} {'rate/s':>7} {'subs':>4} {'received':>17} {'gaps':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for mode in modes:
        busy = start_busy_loops() if mode == "busy" else []
        try:
            for rate in (int(r) for r in args.rates.split(",")):
                row = asyncio.run(measure(rate, args.seconds, args.subscribers))
                print(
                    f"{mode:<5} {row['rate']:>7} {row['subscribers']:>4} "
                    f"{row['received']:>8}/{row['expected']:<8} {row['gaps']:>4} "
                    f"{row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f} {row['max_ms']:>8.3f}",
                    flush=True,
                )
        finally:
            for proc in busy:
                os.killpg(proc.pid, 15)
                proc.wait()


if __name__ == "__main__":
    main()
