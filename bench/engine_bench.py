"""End-to-end engine throughput: a 1,000-leaf tree of ``true`` with ``max_workers = 8``.

Usage: ``.venv/bin/python bench/engine_bench.py [-n 1000] [--workers 8] [--repeat 3] [--dir DIR]``

In one run, interleaved per repeat so they share the machine's noise, it measures:
  (a) raw      ``os.posix_spawn("/bin/true")`` + ``waitpid``, 8 in flight (the floor)
  (b) asyncio  ``create_subprocess_exec("true")`` under a semaphore of 8
  (c) engine   one trigger of a group with N leaves ``command = "true"``: scheduler, wrapper,
               per-attempt output files (through the output keeper process, whose CPU is
               reported apart), every transition saved (group commit, durable
               terminal states) and published — until the root run is terminal
  (d) tsp      task-spooler ``tsp -S 8`` with N ``tsp true`` enqueues, until all finished
               (when ``tsp`` is installed; Debian package ``task-spooler``)
and prints medians, the ratios c/a, c/b, c/d (as speed), the engine's CPU per task and the
store writer thread's CPU per saved transition.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from spawn_bench import TRUE, bench_asyncio, bench_raw

from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.events import EngineEvent, RunUpdated
from taskflow.engine.process.cgroups import AttemptCgroups
from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.wrapper import wrapper_argv, wrapper_script
from taskflow.model import Dependency, Run, TaskSet, TaskSpec
from taskflow.store import Store


def tree(n: int) -> TaskSet:
    children = [f"tree/leaf{i:05d}" for i in range(n)]
    tasks = {"tree": TaskSpec(name="tree", kind="group", children=tuple(children))}
    for name in children:
        tasks[name] = TaskSpec(name=name, kind="command", command="true", parent="tree")
    return TaskSet(tasks=tasks)


def chain(n: int) -> TaskSet:
    """A group of ``n`` ``true`` leaves, each depending on the one before: one at a time."""
    children = [f"tree/step{i:05d}" for i in range(n)]
    tasks = {"tree": TaskSpec(name="tree", kind="group", children=tuple(children))}
    for i, name in enumerate(children):
        tasks[name] = TaskSpec(name=name, kind="command", command="true", parent="tree",
                               depends_on=(Dependency(children[i - 1]),) if i else ())
    return TaskSet(tasks=tasks)


def _store_thread_cpu() -> float:
    """CPU seconds of aiosqlite's connection threads (the store's SQLite work)."""
    ids = {t.native_id for t in threading.enumerate() if "_connection_worker_thread" in t.name}
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in ids)


async def bench_engine(
    n: int, workers: int, root: Path, commit_window: float = 0.0, tasks: TaskSet | None = None
) -> dict[str, float]:
    """One engine run in ``root`` (left in place: deleting thousands of files right before the
    next measurement slows this VM's disk, ext4 mounted with ``discard``, for many seconds)."""
    root.mkdir(parents=True, exist_ok=True)
    store = await Store.open(root / "state.db", commit_window=commit_window)
    executor = ProcessExecutor(root / "output")
    engine = Engine(store, executor, EngineSettings(max_workers=workers))
    await engine.start(tasks or tree(n))
    done: asyncio.Future[Run] = asyncio.get_running_loop().create_future()

    def on_event(event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.parent_id is None and run.state.terminal and not done.done():
                done.set_result(run)

    engine.bus.subscribe(on_event)
    writes_before = store.stats.intents
    store_cpu = _store_thread_cpu()
    cpu = time.process_time()
    started = time.perf_counter()
    await engine.trigger("tree")
    result = await done
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    # The keeper starts with the first attempt of this run: its whole life is this run.
    keeper_pid = executor.keeper.pid
    keeper_cpu = sum(psutil.Process(keeper_pid).cpu_times()[:2]) if keeper_pid else 0.0
    await store.flush()
    store_cpu = _store_thread_cpu() - store_cpu
    writes = store.stats.intents - writes_before
    assert result.state == "succeeded", result
    await engine.stop("stop")
    await store.close()
    return {"wall": wall, "cpu": cpu, "keeper_cpu": keeper_cpu, "store_cpu": store_cpu, "writes": writes}


def bench_wrapper_floor(n: int, workers: int, root: Path, cgroups: AttemptCgroups) -> float:
    """What the design costs with no engine at all: per task an attempt folder, an attempt
    cgroup (lent from the pool, moved into by the wrapper, given back) and the real wrapper shell running
    ``true`` with its pid file, status trap and output files, ``workers`` in flight, reaped
    with ``waitpid``. No store, no scheduler, no output keeper, no event loop. An engine
    that keeps this design (DESIGN.md: a crash-surviving exit status, per-attempt files,
    attempt cgroups) cannot beat this rate, so ``floor / raw`` bounds ``engine / raw``."""
    root.mkdir(parents=True)
    env = dict(os.environ)
    in_flight: dict[int, str | None] = {}
    started = time.perf_counter()
    launched = 0
    while launched < n or in_flight:
        while len(in_flight) < workers and launched < n:
            out = root / f"a{launched:06d}.1"
            out.mkdir()
            cgroup = cgroups.acquire()
            script = wrapper_script(str(out), command=None, cwd=None, cpu_limit=None, cgroup=cgroup)
            pid = os.posix_spawn("/bin/sh", wrapper_argv(script, (TRUE,)), env, setsid=True)
            in_flight[pid] = cgroup
            launched += 1
        pid, _ = os.waitpid(-1, 0)
        if pid not in in_flight:
            continue  # an earlier engine run's output keeper, reaped here
        cgroup = in_flight.pop(pid)
        if cgroup is not None:
            cgroups.give_back(cgroup)
    return time.perf_counter() - started


_TSP_OUTPUTS: list[str] = []


def bench_tsp(n: int, workers: int, where: str) -> float | None:
    tsp = shutil.which("tsp") or shutil.which("ts")
    if tsp is None:
        return None
    # tsp keeps each job's output in $TMPDIR: the same filesystem as the engine's output.
    outdir = tempfile.mkdtemp(prefix="tsp-bench-", dir=where)
    _TSP_OUTPUTS.append(outdir)
    env = {
        **os.environ,
        "TS_SOCKET": f"/tmp/tsp-bench-{os.getpid()}.sock",
        "TS_MAXFINISHED": str(n + 10),
        "TMPDIR": outdir,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tsp, *args], env=env, capture_output=True, text=True)

    run("-K")
    run("-S", str(workers))
    started = time.perf_counter()
    last = None
    for _ in range(n):
        last = run("true").stdout.strip()
    run("-w", last)
    while True:
        listing = run("-l").stdout
        if "running" not in listing and "queued" not in listing:
            break
        time.sleep(0.01)
    wall = time.perf_counter() - started
    run("-K")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="filesystem for state and output")
    parser.add_argument("--no-tsp", action="store_true")
    parser.add_argument(
        "--engine-only", action="store_true", help="run only the engine (for perf record / py-spy)"
    )
    parser.add_argument("--commit-window", type=float, default=0.0, help="store group-commit window, seconds")
    parser.add_argument("--chain", type=int, default=1000, metavar="N",
                        help="then a chain of N dependent leaves vs a serial raw spawn loop (0: skip)")
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"n={args.n} workers={args.workers} repeat={args.repeat} dir={args.dir} cores={os.cpu_count()}")
    base = AttemptCgroups.discover().base
    print(f"attempt cgroups: {'on, under ' + base if base else 'off (no writable cgroup2 with cgroup.kill here)'}")

    raw, aio, eng, tsp, floor = [], [], [], [], []
    cgroups = AttemptCgroups.discover()
    scratch = Path(tempfile.mkdtemp(prefix="taskflow-engine-bench-", dir=args.dir))
    if args.engine_only:
        for i in range(args.repeat):
            e = asyncio.run(bench_engine(args.n, args.workers, scratch / f"run{i}", args.commit_window))
            print(f"  repeat {i + 1}: engine {args.n / e['wall']:.0f}/s, {e['cpu'] / args.n * 1e6:.0f} us CPU per task")
        shutil.rmtree(scratch, ignore_errors=True)
        return
    for i in range(args.repeat):
        raw.append(args.n / bench_raw(args.n, args.workers)[0])
        floor.append(args.n / bench_wrapper_floor(args.n, args.workers, scratch / f"floor{i}", cgroups))
        aio.append(args.n / asyncio.run(bench_asyncio(args.n, args.workers))[0])
        e = asyncio.run(bench_engine(args.n, args.workers, scratch / f"run{i}", args.commit_window))
        eng.append(e)
        t = None if args.no_tsp else bench_tsp(args.n, args.workers, args.dir)
        if t is not None:
            tsp.append(args.n / t)
        print(
            f"  repeat {i + 1}: raw {raw[-1]:.0f}/s  wrapper floor {floor[-1]:.0f}/s  asyncio {aio[-1]:.0f}/s  "
            f"engine {args.n / e['wall']:.0f}/s" + (f"  tsp {tsp[-1]:.0f}/s" if t is not None else "")
        )

    for outdir in _TSP_OUTPUTS:
        shutil.rmtree(outdir, ignore_errors=True)
    med = statistics.median
    engine_rate = med(args.n / e["wall"] for e in eng)
    print()
    print(f"raw posix_spawn loop      {med(raw):8.0f} tasks/s")
    print(f"wrapper floor (no engine) {med(floor):8.0f} tasks/s")
    print(f"asyncio subprocess loop   {med(aio):8.0f} tasks/s")
    print(f"taskflow engine (tree)    {engine_rate:8.0f} tasks/s")
    if tsp:
        print(f"task-spooler tsp -S {args.workers}     {med(tsp):8.0f} tasks/s")
    print()
    print(f"engine / raw posix_spawn  {engine_rate / med(raw):6.2f}   (target >= 0.6)")
    print(f"engine / asyncio loop     {engine_rate / med(aio):6.2f}   (target >= 0.9)")
    print(f"wrapper floor / raw       {med(floor) / med(raw):6.2f}   (the most engine / raw can be with this design)")
    print(f"engine / wrapper floor    {engine_rate / med(floor):6.2f}   (what the engine itself costs)")
    if tsp:
        print(f"engine / task-spooler     {engine_rate / med(tsp):6.2f}   (target >= 2)")
    print(f"engine CPU per task       {med(e['cpu'] / args.n for e in eng) * 1e6:6.0f} us (whole process)   (target <= 500)")
    print(f"output keeper CPU per task {med(e['keeper_cpu'] / args.n for e in eng) * 1e6:5.0f} us (its own process)")
    print(
        f"store CPU per transition  {med(e['store_cpu'] / max(e['writes'], 1) for e in eng) * 1e6:6.1f} us "
        f"(SQLite thread; {med(e['writes'] for e in eng):.0f} saves per run)   (target <= 30)"
    )
    if args.chain:
        serial, serial_floor, steps = [], [], []
        for i in range(args.repeat):
            serial.append(bench_raw(args.chain, 1)[0] / args.chain)
            serial_floor.append(bench_wrapper_floor(args.chain, 1, scratch / f"chainfloor{i}", cgroups) / args.chain)
            e = asyncio.run(bench_engine(args.chain, args.workers, scratch / f"chain{i}", args.commit_window,
                                         tasks=chain(args.chain)))
            steps.append(e["wall"] / args.chain)
        print(f"chain of {args.chain} dependent leaves: {med(steps) * 1000:.2f} ms per step "
              f"(target <= 1.5), raw serial spawn {med(serial) * 1000:.2f} ms, ratio {med(steps) / med(serial):.1f}x; "
              f"serial wrapper floor {med(serial_floor) * 1000:.2f} ms")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
