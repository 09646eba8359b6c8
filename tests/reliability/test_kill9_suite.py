"""Randomized kill-9 suite: a mixed workload while the daemon is SIGKILLed and restarted.

Short mode (default, in ``make test``): at least 5 kills. Long mode:
``TASKFLOW_KILL9_LONG=1`` — at least 50 kills and 500 acknowledged runs. The seed is fixed
in CI (``CI=true``), random locally, and forced with ``TASKFLOW_KILL9_SEED=N``; every failure
message names it.
"""

from __future__ import annotations

import collections
import os
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from kill9_workload import Workload, leaves, non_terminal

from taskflow.model import RunState

LONG = bool(os.environ.get("TASKFLOW_KILL9_LONG"))
KILLS, RUNS = (50, 500) if LONG else (8, 0)


def _seed() -> int:
    if os.environ.get("TASKFLOW_KILL9_SEED"):
        return int(os.environ["TASKFLOW_KILL9_SEED"])
    if os.environ.get("CI"):
        return 9
    return random.SystemRandom().randrange(1, 2**31)


@pytest.fixture
def workload(tmp_path: Path) -> Iterator[Workload]:
    seed = _seed()
    print(f"kill-9 suite seed {seed} (TASKFLOW_KILL9_SEED={seed} to replay)")
    daemon = DaemonProcess(tmp_path, prefix="k9")
    daemon.extra_args = ["--max-workers", "4"]
    load = Workload(daemon, random.Random(seed), seed, f"kill9-{uuid.uuid4().hex}")
    load.write()
    try:
        yield load
    finally:
        daemon.cleanup()
        for line in load.leftover_processes():  # never leave a task behind, even on failure
            try:
                os.kill(int(line.split(":")[0]), 9)
            except OSError:
                pass


class DuplicateAttempt(AssertionError):
    """An attempt ran twice (the ledger holds its (run, attempt) pair more than once)."""


@pytest.mark.timeout(3600 if LONG else 240)
def test_acknowledged_runs_survive_random_sigkills(workload: Workload) -> None:
    why = workload.why
    while workload.kills < KILLS or len(workload.acknowledged) < RUNS:
        workload.cycle(max_uptime=2.0)
    assert workload.acknowledged, why("no trigger was ever acknowledged")

    trees = workload.settle(timeout=600 if LONG else 90)
    assert not non_terminal(trees), why(f"acknowledged runs not terminal: {non_terminal(trees)}")

    ledger = workload.ledger_entries()
    pairs = collections.Counter((run_id, attempt) for run_id, attempt, _, _ in ledger)
    by_run = collections.Counter(run_id for run_id, _, _, _ in ledger)
    twice = {pair for pair, count in pairs.items() if count > 1}
    duplicates: list[str] = []
    for node in leaves(trees):
        run = node.run
        rows = [row for row in ledger if row[0] == run.id]
        for attempt in node.attempts:
            if attempt.state is RunState.SUCCEEDED and (run.id, attempt.number) in twice:
                duplicates.append(f"succeeded attempt {attempt.number} of {run.task} {run.id} "
                                  f"ran twice: {rows}")
        if run.state is RunState.SUCCEEDED and by_run[run.id] != run.attempts:
            text = (f"{run.task} {run.id} succeeded after {run.attempts} attempts but the "
                    f"ledger has {by_run[run.id]}: {rows}")
            assert any(pair[0] == run.id for pair in twice), why(text)
            duplicates.append(text)
        for attempt in node.attempts:
            if (run.id, attempt.number) not in pairs or not attempt.output_dir:
                continue  # never spawned (interrupted before the exec)
            stdout = (Path(attempt.output_dir) / "stdout").read_text(errors="replace")
            lines = stdout.splitlines()
            begin, end = f"begin {run.id} {attempt.number}", f"end {run.id} {attempt.number}"
            assert begin in lines, why(f"attempt {attempt.number} of {run.id} lost its output: {stdout!r}")
            if attempt.state is RunState.SUCCEEDED:
                assert end in lines, why(f"succeeded attempt {attempt.number} of {run.id} "
                                         f"has a truncated output: {stdout!r}")
    if twice and not duplicates:
        duplicates.append(f"(run, attempt) pairs in the ledger twice: {sorted(twice)}")

    deadline = time.monotonic() + 10
    while workload.leftover_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not workload.leftover_processes(), why(
        f"task processes left running: {workload.leftover_processes()}"
    )
    if duplicates:
        raise DuplicateAttempt(why("; ".join(duplicates)))
    states = collections.Counter(str(tree.run.state) for tree in trees.values())
    print(f"kills={workload.kills} runs={len(workload.acknowledged)} "
          f"attempts={len(ledger)} states={dict(states)} seed={workload.seed}")
