"""Spawn throughput: raw posix_spawn vs bare asyncio vs ProcessExecutor, on ``true``.

Usage: ``.venv/bin/python bench/spawn_bench.py [-n 1000] [--concurrency 8] [--repeat 3]``

Prints tasks/s (median over repeats) for:
  (a) raw    ``os.posix_spawn("/bin/true")`` + ``os.waitpid(-1)``, N in flight
  (b) asyncio ``asyncio.create_subprocess_exec("true")`` under a semaphore
  (c) ProcessExecutor.start()+wait() under a semaphore, string ``"true"`` and list ``["true"]``
and the ratios c/a, c/b, plus the executor's own CPU per task (process_time / N).
The executor does more per task than (a)/(b): a wrapper shell with an exit-status trap, a
per-attempt folder with stdout/stderr files, a pidfd watch. ``--dir`` picks the filesystem of
the output root; folder and file creation dominate on a slow disk (see docs/execution.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import TaskSpec

TRUE = shutil.which("true") or "/bin/true"


def bench_raw(n: int, concurrency: int) -> tuple[float, float]:
    env = dict(os.environ)
    started = time.perf_counter()
    cpu = time.process_time()
    in_flight = launched = 0
    while launched < n or in_flight:
        while in_flight < concurrency and launched < n:
            os.posix_spawn(TRUE, ["true"], env)
            in_flight += 1
            launched += 1
        os.waitpid(-1, 0)
        in_flight -= 1
    return time.perf_counter() - started, time.process_time() - cpu


async def bench_asyncio(n: int, concurrency: int) -> tuple[float, float]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            proc = await asyncio.create_subprocess_exec("true")
            await proc.wait()

    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - started, time.process_time() - cpu


async def bench_executor(
    n: int, concurrency: int, command: str | tuple[str, ...], where: str
) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="taskflow-bench-", dir=where))
    try:
        executor = ProcessExecutor(root)
        spec = TaskSpec(name="bench", kind="command", command=command)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                outcome = await executor.start(spec, f"run{i:06d}", 1).wait()
                assert outcome is not None and outcome.error_type is None, outcome

        started = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dir",
        default=".",
        help="where the executor's output root is made (the filesystem matters: file and "
        "folder creation is a large part of a short task's cost; default: current folder)",
    )
    args = parser.parse_args()
    n, c = args.n, args.concurrency
    cases = {
        "raw posix_spawn": lambda: bench_raw(n, c),
        "asyncio subprocess": lambda: asyncio.run(bench_asyncio(n, c)),
        'executor "true"': lambda: asyncio.run(bench_executor(n, c, "true", args.dir)),
        'executor ["true"]': lambda: asyncio.run(bench_executor(n, c, ("true",), args.dir)),
    }
    rates: dict[str, float] = {}
    cpus: dict[str, float] = {}
    for name, case in cases.items():
        samples = [case() for _ in range(args.repeat)]
        rates[name] = statistics.median(n / wall for wall, _ in samples)
        cpus[name] = statistics.median(cpu / n for _, cpu in samples)
        print(f"{name:20s} {rates[name]:8.0f} tasks/s   {cpus[name] * 1e6:7.0f} us CPU/task (this process)")
    raw, aio = rates["raw posix_spawn"], rates["asyncio subprocess"]
    for name in ('executor "true"', 'executor ["true"]'):
        print(f"{name:20s} c/a = {rates[name] / raw:.2f}   c/b = {rates[name] / aio:.2f}")
    print(
        f"(N={n}, concurrency={c}, median of {args.repeat}, {os.cpu_count()} CPUs, "
        f"/bin/sh -> {os.path.realpath('/bin/sh')}, output root in {os.path.abspath(args.dir)})"
    )


if __name__ == "__main__":
    main()
