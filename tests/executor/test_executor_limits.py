"""Timeouts, cancel, memory and CPU limits, and the output cap, on real process trees."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import time
from pathlib import Path

import psutil
import pytest

from taskflow.engine.process.cgroups import cpu_seconds, populated
from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output
from taskflow.model import ErrorType, Limits

from .conftest import command_spec, run_id


async def _wait_for_file(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def _needs_cgroups(executor: ProcessExecutor) -> None:
    if executor.cgroups.base is None:
        pytest.skip("no writable cgroup v2 (with cgroup.kill) here")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_timeout_kills_grandchildren(executor: ProcessExecutor, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The shell starts a child shell, whose background sleep is the attempt's grandchild.
    command = f"sh -c 'sleep 30 & echo $! > {pidfile}; wait'"
    started = time.monotonic()
    handle = executor.start(command_spec(command, timeout=1), run_id(), 1)
    grandchild = int(await _wait_for_file(pidfile))
    assert not _gone(grandchild)
    outcome = await asyncio.wait_for(handle.wait(), 10)
    assert time.monotonic() - started < 4
    assert outcome.error_type is ErrorType.TIMEOUT
    assert outcome.message.startswith("timed out after 1.0s; process group")
    assert _gone(grandchild)
    assert _gone(handle.pid)


async def test_timeout_kills_a_tree_that_ignores_term(executor: ProcessExecutor, tmp_path: Path) -> None:
    pidfile = tmp_path / "stubborn.pid"
    command = f"sh -c 'trap \"\" TERM; echo $$ > {pidfile}; while :; do sleep 0.05; done' & wait"
    handle = executor.start(command_spec(command, timeout=0.5), run_id(), 1)
    stubborn = int(await _wait_for_file(pidfile))
    outcome = await asyncio.wait_for(handle.wait(), 10)
    assert outcome.error_type is ErrorType.TIMEOUT
    assert outcome.message.endswith("process group killed")
    assert _gone(stubborn)


async def test_cancel_terminates_the_group(executor: ProcessExecutor) -> None:
    handle = executor.start(command_spec("sleep 30"), run_id(), 1)
    await asyncio.sleep(0.1)
    handle.cancel()
    outcome = await asyncio.wait_for(handle.wait(), 10)
    assert outcome.cancelled
    assert outcome.error_type is ErrorType.SIGNAL
    assert outcome.message.startswith("cancelled")
    assert _gone(handle.pid)


async def test_stop_all_cancels_everything(executor: ProcessExecutor) -> None:
    handles = [executor.start(command_spec("sleep 30"), run_id(), 1) for _ in range(3)]
    await asyncio.wait_for(executor.stop_all(), 10)
    assert executor.running == 0
    outcomes = [await h.wait() for h in handles]
    assert all(o.cancelled for o in outcomes)


ALLOCATE = (
    "import time\n"
    "chunks = []\n"
    "for _ in range(40):\n"
    "    chunks.append(bytearray(10 * 2**20))\n"
    "    time.sleep(0.05)\n"
)


async def test_memory_limit_fails_only_the_greedy_task(executor: ProcessExecutor) -> None:
    greedy = executor.start(
        command_spec([sys.executable, "-c", ALLOCATE], limits=Limits(memory=100 * 2**20)), run_id(), 1
    )
    modest = executor.start(command_spec("sleep 0.5; echo fine"), run_id(), 1)
    outcome = await asyncio.wait_for(greedy.wait(), 20)
    assert outcome.error_type is ErrorType.RESOURCES
    assert outcome.message.startswith("memory limit 100.0MiB exceeded (peak ")
    assert outcome.peak_rss is not None and outcome.peak_rss > 100 * 2**20
    other = await asyncio.wait_for(modest.wait(), 20)
    assert other.error_type is None
    assert read_output(modest.output_dir, "stdout")[0] == b"fine\n"


async def test_cpu_limit_is_a_resource_error(executor: ProcessExecutor) -> None:
    spec = command_spec("while :; do :; done", limits=Limits(cpu=1))
    outcome = await asyncio.wait_for(executor.start(spec, run_id(), 1).wait(), 30)
    assert outcome.error_type is ErrorType.RESOURCES
    assert outcome.message == "CPU limit 1.0s exceeded"
    # rusage is tick-sampled and lags the kernel's own RLIMIT_CPU accounting a little.
    assert outcome.cpu_seconds is not None and outcome.cpu_seconds >= 0.5


async def test_output_cap_keeps_the_tail(tmp_path: Path) -> None:
    executor = ProcessExecutor(tmp_path / "out", output_cap=64 * 1024, sample_interval=0.02)
    # 2000 numbered lines of 100 bytes each = 200,000 bytes, written over ~0.4 s.
    script = (
        "import sys, time\n"
        "for i in range(2000):\n"
        "    sys.stdout.write(f'{i:06d}' + 'x' * 93 + '\\n'); sys.stdout.flush()\n"
        "    if i % 100 == 0: time.sleep(0.02)\n"
    )
    handle = executor.start(command_spec([sys.executable, "-c", script]), run_id(), 1)
    outcome = await asyncio.wait_for(handle.wait(), 20)
    assert outcome.error_type is None
    assert outcome.output_bytes == 200_000
    assert 200_000 - 64 * 1024 - 4096 < outcome.output_cut <= 200_000 - 64 * 1024
    data, next_offset, cut = read_output(handle.output_dir, "stdout", max_bytes=1 << 20)
    assert cut == outcome.output_cut
    assert next_offset == 200_000
    assert len(data) == 200_000 - cut < 64 * 1024 + 4096  # the hole ends on a block boundary
    assert data.endswith(b"001999" + b"x" * 93 + b"\n")
    assert (Path(handle.output_dir) / "stdout").stat().st_blocks * 512 <= 64 * 1024 + 8192
    # A follower past the cut reads on normally; one behind it learns how much it missed.
    assert read_output(handle.output_dir, "stdout", offset=199_900) == (data[-100:], 200_000, 0)
    assert read_output(handle.output_dir, "stdout", offset=10, max_bytes=5)[2] == cut - 10


async def test_timeout_and_cancel_reach_a_child_that_left_the_process_group(
    executor: ProcessExecutor, tmp_path: Path
) -> None:
    """``setsid`` takes a child out of the group a killpg reaches; the attempt's cgroup
    still holds it (skipped where the daemon cannot make cgroups)."""
    _needs_cgroups(executor)
    for how in ("timeout", "cancel"):
        pidfile = tmp_path / f"escapee-{how}.pid"
        command = f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' & sleep 30"
        handle = executor.start(command_spec(command, timeout=1 if how == "timeout" else None), run_id(), 1)
        escapee = int(await _wait_for_file(pidfile))
        assert os.getpgid(escapee) != handle.pid  # really outside the process group
        if how == "cancel":
            handle.cancel()
        outcome = await asyncio.wait_for(handle.wait(), 15)
        assert outcome.error_type is (ErrorType.TIMEOUT if how == "timeout" else ErrorType.SIGNAL)
        assert _gone(escapee), how
        assert handle.cgroup is not None and not populated(handle.cgroup)
        assert handle.cgroup in executor.cgroups.pooled()  # given back once empty


async def test_leftovers_of_a_finished_task_keep_its_cgroup_until_they_end(
    executor: ProcessExecutor, tmp_path: Path
) -> None:
    """A task may leave a background process behind (as before); its cgroup goes when it does."""
    _needs_cgroups(executor)
    pidfile = tmp_path / "leftover.pid"
    handle = executor.start(command_spec(f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 1' &"), run_id(), 1)
    outcome = await asyncio.wait_for(handle.wait(), 10)
    assert outcome.error_type is None
    leftover = int(await _wait_for_file(pidfile))
    assert handle.cgroup is not None and populated(handle.cgroup) and not _gone(leftover)
    assert handle.cgroup not in executor.cgroups.pooled()
    # Meanwhile the next attempt gets a cgroup of its own, not the occupied one.
    other = executor.start(command_spec("true"), run_id(), 1)
    assert other.cgroup is not None and other.cgroup != handle.cgroup
    await asyncio.wait_for(other.wait(), 10)
    deadline = time.monotonic() + 10
    while handle.cgroup not in executor.cgroups.pooled() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert _gone(leftover) and handle.cgroup in executor.cgroups.pooled() and not populated(handle.cgroup)


async def test_a_pooled_cgroup_is_lent_again_and_counts_only_its_new_attempt(
    executor: ProcessExecutor,
) -> None:
    """Attempt cgroups are reused (mkdir and rmdir of a cgroup are dear); a reused one's CPU
    account starts from what it had counted before."""
    _needs_cgroups(executor)
    burner = executor.start(command_spec("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"), run_id(), 1)
    assert (await asyncio.wait_for(burner.wait(), 30)).error_type is None
    assert burner.cgroup in executor.cgroups.pooled()
    assert (cpu_seconds(burner.cgroup) or 0) > 0.1  # the cgroup counted the burn
    sleeper = executor.start(command_spec("sleep 1"), run_id(), 1)
    assert sleeper.cgroup == burner.cgroup  # lent again
    assert sleeper.cgroup_cpu_base >= 0.1
    await asyncio.sleep(0.5)
    sleeper.sample()
    outcome = await asyncio.wait_for(sleeper.wait(), 10)
    assert outcome.cpu_seconds is not None and outcome.cpu_seconds < 0.1, outcome


async def test_memory_of_a_daemonized_child_counts_toward_the_limit(
    executor: ProcessExecutor, tmp_path: Path
) -> None:
    _needs_cgroups(executor)
    pidfile = tmp_path / "hog.pid"
    hog = shlex.quote(f"import os; open({str(pidfile)!r}, 'w').write(str(os.getpid())); {ALLOCATE}")
    # Double fork: the intermediate shell exits, so the hog leaves the tree as well as the group.
    command = f"sh -c {shlex.quote(f'setsid {shlex.quote(sys.executable)} -c {hog} &')}; sleep 30"
    handle = executor.start(command_spec(command, limits=Limits(memory=100 * 2**20)), run_id(), 1)
    escapee = int(await _wait_for_file(pidfile))
    assert os.getpgid(escapee) != handle.pid
    outcome = await asyncio.wait_for(handle.wait(), 20)
    assert outcome.error_type is ErrorType.RESOURCES
    assert _gone(escapee)


async def test_an_old_attempt_that_turns_hog_is_still_stopped_within_a_second(tmp_path: Path) -> None:
    # Base interval as in production: by 3 s of age an unlimited attempt is sampled only
    # every 0.75 s (later every 5 s); a memory-limited one never rarer than 0.5 s.
    executor = ProcessExecutor(tmp_path / "out", sample_interval=0.25)
    late_hog = "import time; time.sleep(3); b = bytearray(300 * 2**20); time.sleep(30)"
    started = time.monotonic()
    handle = executor.start(command_spec([sys.executable, "-c", late_hog], limits=Limits(memory=100 * 2**20)), run_id(), 1)
    outcome = await asyncio.wait_for(handle.wait(), 20)
    executor.close()
    assert outcome.error_type is ErrorType.RESOURCES
    assert time.monotonic() - started < 3 + 1.5  # interpreter start-up + allocation + ≤ 1 s
