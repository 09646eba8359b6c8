"""Big trees over the wire: a 10,000-leaf run and 10,000 definitions through the real CLI.

Usage: ``.venv/bin/python bench/big_tree_bench.py [-n 10000] [--dir /dev/shm]``

A real ``taskflowd`` (``--max-workers 8``) loads a group of N ``true`` leaves plus 100
groups of 100 definitions. Then, each as the CLI a user types (medians of 3 where repeated):
``run --wait`` of the group, ``wait``, ``show`` (the summary), ``show --all``, ``show
--json``, ``ls --json``. It also reads every page of the tree and of the task list itself
and reports the largest reply against the 1 MiB frame limit (target: every reply fits, and
every command exits as it should).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from daemon_launch import BIN, start_taskflowd, stop_taskflowd

from taskflow.client import Client
from taskflow.protocol import MAX_FRAME, PageRunTree, PageTasks, SummarizeRun, encode_body


def tasks_file(leaves: int) -> str:
    lines = ["[tasks.big]"]
    for i in range(leaves):
        lines += [f"[tasks.big.children.n{i:05d}]", 'command = "true"']
    for g in range(100):
        lines.append(f"[tasks.db{g:03d}]")
        for leaf in range(100):
            lines += [f"[tasks.db{g:03d}.children.leaf{leaf:03d}]", 'command = "true"']
    return "\n".join(lines) + "\n"


def cli(sock: str, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run([str(BIN / "taskflow"), "--socket", sock, *args], capture_output=True, text=True)
    return time.perf_counter() - began, done


def largest_replies(sock: str, run_id: str) -> tuple[int, int, int]:
    """Bytes of the largest ``PageRunTree`` page, ``PageTasks`` page and ``SummarizeRun``."""
    with Client.connect(sock, timeout=30) as client:
        tree = 0
        offset: int | None = 0
        while offset is not None:
            page = client.call(PageRunTree(run_id=run_id, offset=offset, limit=2000))
            tree = max(tree, len(encode_body(page)))
            offset = page.next_offset
        tasks = 0
        after: str | None = None
        while True:
            listed = client.call(PageTasks(after=after))
            tasks = max(tasks, len(encode_body(listed)))
            if (after := listed.next_after) is None:
                break
        summary = len(encode_body(client.call(SummarizeRun(run_id=run_id))))
    return tree, tasks, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    args = parser.parse_args()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    work = Path(tempfile.mkdtemp(prefix="taskflow-big-tree-", dir=args.dir))
    (work / "tasks").mkdir()
    (work / "tasks" / "big.toml").write_text(tasks_file(args.n))
    sock = f"/tmp/tf-big-tree-{os.getpid()}.sock"
    daemon, took = start_taskflowd(work / "state", sock, work / "tasks", "--max-workers", "8")
    try:
        print(f"daemon up with {args.n + 10_101} definitions in {took:.2f} s")
        took, done = cli(sock, "run", "big", "--wait")
        run_id = done.stdout.strip()
        print(f"run big --wait ({args.n} leaves of true):  {took:7.2f} s  exit {done.returncode}")
        rows = {
            "wait": ["wait", run_id],
            "show (summary)": ["show", run_id],
            "show --all": ["show", run_id, "--all"],
            "show --json": ["show", run_id, "--json"],
            "ls --json": ["ls", "--json"],
        }
        for label, argv in rows.items():
            times, codes, size = [], set(), 0
            for _ in range(3):
                took, done = cli(sock, *argv)
                times.append(took)
                codes.add(done.returncode)
                size = len(done.stdout)
            extra = ""
            if label == "show --json":
                extra = f", {len(json.loads(done.stdout)['children'])} children"
            print(f"{label:<22} median {statistics.median(times):6.2f} s of 3  exit {sorted(codes)}  "
                  f"{size:,} bytes out{extra}")
        tree, tasks, summary = largest_replies(sock, run_id)
        print(f"largest replies: PageRunTree {tree:,} B, PageTasks {tasks:,} B, SummarizeRun {summary:,} B; "
              f"frame limit {MAX_FRAME:,} B:", "all fit" if max(tree, tasks, summary) <= MAX_FRAME else "OVER")
    finally:
        stop_taskflowd(daemon)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
