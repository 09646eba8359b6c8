"""Bulk submission from a script: 1,000 one-off commands, end to end, against task-spooler.

Usage: ``.venv/bin/python bench/bulk_submit_bench.py [-n 1000] [--repeat 3] [--dir /dev/shm]``

Interleaved per repeat, so both share the machine's noise:
  (a) tsp       a shell loop of N ``tsp true`` (``tsp -S 8``), until every job has finished
  (b) taskflow  ``taskflow exec --from-file - --wait`` fed N lines of ``true`` by the shell:
                one interpreter, the lines pipelined on one connection, every run waited for
                (a real ``taskflowd`` with ``--max-workers 8``, state in ``--dir``)
  (c) per call  a shell loop of ``taskflow exec -- true`` (``--calls``, default 100), for
                what one submission costs without ``--from-file``
Prints medians of the wall times and the ratio b / a (target ≤ 2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from daemon_launch import BIN, start_taskflowd, stop_taskflowd


def shell(script: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", script], env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_tsp(tsp: str, n: int, where: str) -> float:
    outdir = tempfile.mkdtemp(prefix="tsp-bulk-", dir=where)
    env = {**os.environ, "TS_SOCKET": f"/tmp/tsp-bulk-{os.getpid()}.sock",
           "TS_MAXFINISHED": str(n + 10), "TMPDIR": outdir}
    try:
        subprocess.run([tsp, "-K"], env=env, capture_output=True)
        subprocess.run([tsp, "-S", "8"], env=env, capture_output=True, check=True)
        # Enqueue from a shell loop, then wait until nothing is queued or running.
        return shell(
            f"i=0; while [ $i -lt {n} ]; do {tsp} true >/dev/null; i=$((i+1)); done; "
            f"while {tsp} -l | grep -qE 'running|queued'; do sleep 0.01; done", env)
    finally:
        subprocess.run([tsp, "-K"], env=env, capture_output=True)
        shutil.rmtree(outdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    tsp = shutil.which("tsp") or shutil.which("ts")
    if tsp is None:
        print("task-spooler is not installed (Debian: task-spooler); nothing to compare against")
    work = Path(tempfile.mkdtemp(prefix="taskflow-bulk-", dir=args.dir))
    sock = f"/tmp/tf-bulk-{os.getpid()}.sock"
    (work / "tasks").mkdir()
    daemon, _ = start_taskflowd(work / "state", sock, work / "tasks", "--max-workers", "8")
    env = {**os.environ, "TASKFLOW_SOCKET": sock}
    taskflow = BIN / "taskflow"
    ours, theirs, per_call = [], [], []
    try:
        for r in range(args.repeat):
            if tsp is not None:
                theirs.append(bench_tsp(tsp, args.n, args.dir))
            ours.append(shell(f"yes true | head -n {args.n} | {taskflow} exec --from-file - --wait", env))
            per_call.append(shell(
                f"i=0; while [ $i -lt {args.calls} ]; do {taskflow} exec -- true >/dev/null; i=$((i+1)); done",
                env) / args.calls)
            print(f"  repeat {r + 1}: taskflow --from-file {ours[-1]:.2f} s"
                  + (f", tsp loop {theirs[-1]:.2f} s" if theirs else "")
                  + f", one exec call {per_call[-1] * 1000:.0f} ms", flush=True)
    finally:
        stop_taskflowd(daemon)
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"{args.n} submissions end to end, medians of {args.repeat}:")
    print(f"  taskflow exec --from-file - --wait  {med(ours):6.2f} s")
    if theirs:
        print(f"  shell loop of tsp true, then wait   {med(theirs):6.2f} s")
        ratio = med(ours) / med(theirs)
        print(f"  taskflow / tsp                      {ratio:6.2f}   (target <= 2): {'met' if ratio <= 2 else 'MISSED'}")
    print(f"  one `taskflow exec -- true` call    {med(per_call) * 1000:6.0f} ms (a shell loop of them, for scale)")


if __name__ == "__main__":
    main()
