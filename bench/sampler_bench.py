"""Daemon CPU spent watching N concurrent ``sleep 60`` attempts, this tree against another.

Usage: ``.venv/bin/python bench/sampler_bench.py [-n 1000] [--age 20] [--seconds 15] [--against HEAD] [--repeat 3]``

For each source tree (this checkout's ``src``, and ``git archive <against>`` of it unpacked
into a temporary folder) a fresh process starts N attempts through ``ProcessExecutor``
directly, waits until all are running, lets them age ``--age`` seconds, then measures its own CPU
(``psutil`` ``cpu_times`` user+system, children excluded) over ``--seconds``; the same for
an idle event loop. Prints % of one core for each. The output keeper child runs as
``python -m taskflow.engine.process.keeper``, so ``PYTHONPATH`` points at the tree under test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def _measure(n: int, age: float, seconds: float, out: Path) -> tuple[float, float]:
    import psutil

    from taskflow.engine.process.local import ProcessExecutor
    from taskflow.model import TaskSpec

    me = psutil.Process()

    def cpu() -> float:
        t = me.cpu_times()
        return t.user + t.system

    async def span() -> float:
        before, wall = cpu(), asyncio.get_running_loop().time()
        await asyncio.sleep(seconds)
        return 100 * (cpu() - before) / (asyncio.get_running_loop().time() - wall)

    idle = await span()
    executor = ProcessExecutor(out)
    spec = TaskSpec(name="sleep", kind="command", command="sleep 60")
    handles = [executor.start(spec, f"run{i:05d}", 1) for i in range(n)]
    assert executor.running == n, executor.running
    await asyncio.sleep(age)
    busy = await span()
    await executor.stop_all()
    executor.close()
    del handles
    return idle, busy


def _worker(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as out:
        idle, busy = asyncio.run(_measure(args.n, args.age, args.seconds, Path(out)))
    print(f"{idle:.2f} {busy:.2f}")


def _run(src: Path, args: argparse.Namespace) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, __file__, "--worker", "-n", str(args.n), "--age", str(args.age), "--seconds", str(args.seconds)]
    result = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    idle, busy = (float(x) for x in result.stdout.split())
    return idle, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--age", type=float, default=20.0, help="seconds the attempts run before measuring")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--against", default="HEAD", help="git revision to compare with ('' for none)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per tree (medians printed)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args)
        return
    trees = [("this tree", ROOT / "src")]
    with tempfile.TemporaryDirectory() as old:
        if args.against:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against, "src"], check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
            trees.append((args.against, Path(old) / "src"))
        print(f"{args.n} concurrent `sleep 60` attempts, aged {args.age:.0f} s, daemon CPU over {args.seconds:.0f} s (% of one core)")
        for label, src in trees:
            runs = [_run(src, args) for _ in range(max(1, args.repeat))]
            idle = statistics.median(r[0] for r in runs)
            busy = statistics.median(r[1] for r in runs)
            each = ", ".join(f"{r[1]:.2f}" for r in runs)
            print(f"  {label:10s} idle loop {idle:5.2f} %   watching {args.n}: {busy:5.2f} %"
                  + (f"  (median of {len(runs)}: {each})" if len(runs) > 1 else ""))
        print("target: watching 1,000 <= 5 % of one core")


if __name__ == "__main__":
    main()
