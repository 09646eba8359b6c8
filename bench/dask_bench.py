"""The dask executor against bare Dask, and 2 workers against 1 on CPU-bound work.

Usage: ``.venv/bin/python bench/dask_bench.py [-n 1000] [--threads 4] [--repeat 3] [--dir DIR] [--cpu-report] [--no-cpu]``

On one cluster of 2 worker processes (``--threads`` slots each; by default a ``dask scheduler``
and ``dask worker`` processes, ``--cluster local`` a ``LocalCluster``), interleaved per repeat
so they share the machine's noise:
  (a) bare     ``client.map`` of N calls of ``subprocess.run(["true"])``, gathered
  (b) taskflow one trigger of a group of N leaves ``command = "true"`` with ``where = {}`` in a
               real engine and store: each leaf one Dask task running the attempt wrapper on
               its worker (own process group, output files, status file), its placement and
               every transition saved and published, until the root run is terminal
and prints medians and b/a as speed (target ≥ 0.7×). Then a tree of 8 CPU-bound leaves
(``--cpu-seconds`` each of a Python loop) on a cluster of 1 worker and one of 2 (1 slot each):
the 2-worker run must finish faster.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from taskflow.engine.cluster.executor import ClusterExecutor, open_cluster_executor
from taskflow.engine.engine import Engine, EngineSettings
from taskflow.engine.events import EngineEvent, RunUpdated
from taskflow.engine.process.local import ProcessExecutor
from taskflow.model import ExecutorConfig, LocalClusterSettings, Placement, Run, TaskSet, TaskSpec
from taskflow.store import Store


def true_call(_: int) -> int:
    return subprocess.run(["true"], check=False).returncode


def tree(n: int, command: str) -> TaskSet:
    children = [f"tree/leaf{i:05d}" for i in range(n)]
    tasks = {"tree": TaskSpec(name="tree", kind="group", children=tuple(children))}
    for name in children:
        tasks[name] = TaskSpec(name=name, kind="command", command=command, parent="tree", where=Placement())
    return TaskSet(tasks=tasks)


async def bench_bare(executor: ClusterExecutor, n: int) -> float:
    started = time.perf_counter()
    futures = executor.client.map(true_call, range(n), pure=False)
    codes = await executor.client.gather(futures)
    assert codes == [0] * n
    del futures
    return time.perf_counter() - started


async def bench_taskflow(executor: ClusterExecutor, root: Path, tasks: TaskSet, max_workers: int) -> float:
    root.mkdir(parents=True, exist_ok=True)
    store = await Store.open(root / "state.db")
    executor.local = ProcessExecutor(root / "output")
    engine = Engine(store, executor, EngineSettings(max_workers=max_workers))
    executor.on_placed = engine.ledger.record_placement
    await engine.start(tasks)
    done: asyncio.Future[Run] = asyncio.get_running_loop().create_future()

    def on_event(event: EngineEvent) -> None:
        match event:
            case RunUpdated(run=run) if run.parent_id is None and run.state.terminal and not done.done():
                done.set_result(run)

    engine.bus.subscribe(on_event)
    started = time.perf_counter()
    await engine.trigger("tree")
    result = await done
    wall = time.perf_counter() - started
    assert result.state == "succeeded", result
    # Leave the cluster running for the next measurement: stop only the engine's own parts.
    engine._stopping = True
    await engine.timer.stop()
    pump = engine._pump_task
    if pump is not None:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
    await store.flush()
    await store.close()
    executor.local.close()
    return wall


class ExternalCluster:
    """``dask scheduler`` and ``dask worker`` processes of their own, as in production (the
    scheduler is not in the daemon's process, competing with it for its event loop)."""

    def __init__(self, workers: int, threads: int, root: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).with_name("dask"))
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        "--no-dashboard"], **quiet)]
        for i in range(workers):
            self.procs.append(subprocess.Popen(
                [dask, "worker", self.address, "--name", f"w{i + 1}", "--nthreads", str(threads), "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1", "--local-directory", str(root / f"w{i + 1}")], **quiet))

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # a worker busy closing its comms: the bench is over
                proc.kill()
                proc.wait()


def cpu_seconds(external: ExternalCluster | None) -> dict[str, float]:
    """CPU seconds used so far by this process (the daemon's side), the scheduler and the
    workers (with the processes they reaped: wrappers and tasks)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    used = {"daemon": me.ru_utime + me.ru_stime}
    if external is None:
        return used
    import psutil

    for name, proc in zip(["scheduler", "w1", "w2"], external.procs, strict=False):
        try:
            t = psutil.Process(proc.pid).cpu_times()
        except psutil.Error:
            continue
        used[name] = t.user + t.system + t.children_user + t.children_system
    return used


async def cluster(workers: int, threads: int, external: ExternalCluster | None = None) -> ClusterExecutor:
    if external is not None:
        config = ExecutorConfig(kind="dask", address=external.address, poll_interval=0.5, connect_timeout=30)
    else:
        config = ExecutorConfig(kind="dask", local=LocalClusterSettings(workers=workers, threads=threads),
                                poll_interval=0.5)
    executor = await open_cluster_executor(ProcessExecutor(Path(tempfile.mkdtemp()) / "out"), config,
                                           python_path=[], use_cgroups=True)
    await executor.client.wait_for_workers(workers, timeout=60)
    return executor


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="dask-bench-", dir=args.dir))
    slots = args.max_workers or 2 * args.threads * 2
    external = ExternalCluster(2, args.threads, root) if args.cluster == "processes" else None
    executor = await cluster(2, args.threads, external)
    try:
        await bench_bare(executor, 50)  # warm both paths: imports and connections on the workers
        await bench_taskflow(executor, root / "warm", tree(50, "true"), slots)
        bare, ours = [], []
        cpu: dict[str, list[dict[str, float]]] = {"bare": [], "taskflow": []}
        for i in range(args.repeat):
            before = cpu_seconds(external)
            bare.append(await bench_bare(executor, args.n))
            middle = cpu_seconds(external)
            ours.append(await bench_taskflow(executor, root / f"r{i}", tree(args.n, "true"), slots))
            after = cpu_seconds(external)
            cpu["bare"].append({k: middle[k] - before[k] for k in before})
            cpu["taskflow"].append({k: after[k] - middle[k] for k in before})
    finally:
        executor.close()
        await executor.shutdown()
        if external is not None:
            external.stop()
    a, b = statistics.median(bare), statistics.median(ours)
    where = "dask scheduler + 2 dask worker processes" if external else "a LocalCluster of 2 workers"
    print(f"{args.n} leaves of `true` on {where} x {args.threads} slots, max_workers {slots}, "
          f"median of {args.repeat}:")
    print(f"  bare client.map of subprocess.run(['true']): {a:6.2f} s  ({args.n / a:6.0f} tasks/s)")
    print(f"  taskflow tree, dask executor:                 {b:6.2f} s  ({args.n / b:6.0f} tasks/s)")
    print(f"  taskflow / bare: {a / b:.2f}x speed  (target >= 0.7x)")
    if args.cpu_report:
        for phase, runs in cpu.items():
            parts = ", ".join(f"{k} {statistics.median(r[k] for r in runs) * 1000 / args.n:.2f}" for k in runs[0])
            print(f"  CPU ms per leaf, {phase}: {parts}")

    if args.no_cpu:
        return
    burn = (f"{sys.executable} -c 'import time; t = time.process_time()\n"
            f"while time.process_time() - t < {args.cpu_seconds}: pass'")
    walls = {}
    for workers in (1, 2):
        executor = await cluster(workers, 1)
        try:
            walls[workers] = await bench_taskflow(executor, root / f"cpu{workers}", tree(8, burn), 8)
        finally:
            executor.close()
            await executor.shutdown()
    print(f"8 CPU-bound leaves of {args.cpu_seconds:g} CPU-s each: 1 worker {walls[1]:.2f} s, "
          f"2 workers {walls[2]:.2f} s ({walls[1] / walls[2]:.2f}x faster; target > 1x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-workers", type=int, default=0, help="the daemon's limit (default: 2 x the slots)")
    parser.add_argument("--cpu-seconds", type=float, default=1.0)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--no-cpu", action="store_true", help="only the 1,000-leaf comparison (profiling)")
    parser.add_argument("--cpu-report", action="store_true",
                        help="also the CPU time per leaf of each process (daemon, scheduler, workers)")
    parser.add_argument("--cluster", choices=("processes", "local"), default="processes",
                        help="separate scheduler and worker processes (default), or a LocalCluster "
                             "whose scheduler runs in this process")
    asyncio.run(main(parser.parse_args()))
