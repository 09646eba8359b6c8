"""The output keeper: one process per daemon that writes every attempt's output, outlives the
daemon, and leaves when it is no longer needed."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import psutil

from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output

from .conftest import command_spec, run_id


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _keepers() -> set[int]:
    found = set()
    for child in psutil.Process().children():
        try:
            if "taskflow.engine.process.keeper" in child.cmdline():
                found.add(child.pid)
        except psutil.Error:  # an attempt's wrapper that has just ended
            pass
    return found


async def test_one_keeper_serves_every_attempt(executor: ProcessExecutor) -> None:
    handles, pids = [], set()
    for i in range(5):
        handles.append(executor.start(command_spec(f"echo out{i}; echo err{i} >&2"), run_id(), 1))
        pids.add(executor.keeper.pid)
    assert len(pids) == 1 and pids <= _keepers()  # one keeper, no process per attempt
    for i, handle in enumerate(handles):
        await handle.wait()
        assert read_output(handle.output_dir, "stdout", 0)[0] == f"out{i}\n".encode()
        assert read_output(handle.output_dir, "stderr", 0)[0] == f"err{i}\n".encode()


async def test_keeper_outlives_its_daemon_and_leaves_after_the_last_pipe(tmp_path: Path) -> None:
    executor = ProcessExecutor(tmp_path / "out")
    handle = executor.start(command_spec("sleep 0.5; echo late"), run_id(), 1)
    keeper = executor.keeper.pid
    handle.detach()
    executor.close()  # as a daemon that stops (or dies) while the task runs
    assert not _gone(keeper, 0.2), "the keeper must go on serving the running task"
    assert _gone(keeper, 5), "the keeper must exit once its last pipe has ended"
    assert (Path(handle.output_dir) / "stdout").read_bytes() == b"late\n"


async def test_a_killed_keeper_is_replaced_by_the_next_attempt(executor: ProcessExecutor) -> None:
    first = executor.start(command_spec("echo one"), run_id(), 1)
    await first.wait()
    old = executor.keeper.pid
    os.kill(old, signal.SIGKILL)
    assert _gone(old, 5)
    await asyncio.sleep(0.2)  # the daemon notices the closed socket
    second = executor.start(command_spec("echo two"), run_id(), 1)
    outcome = await asyncio.wait_for(second.wait(), 10)
    assert outcome.exit_code == 0
    assert executor.keeper.pid not in (None, old)
    assert read_output(second.output_dir, "stdout", 0)[0] == b"two\n"
