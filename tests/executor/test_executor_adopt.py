"""After a daemon restart: adopt attempts still running, read back those that finished."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from taskflow.engine.executor import AttemptOutcome
from taskflow.engine.process.attempt import RunningAttempt
from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output
from taskflow.engine.process.wrapper import read_status
from taskflow.model import Attempt, ErrorType

from .conftest import command_spec, python_spec, run_id


def _record(handle: RunningAttempt, rid: str, number: int = 1) -> Attempt:
    """What the engine would have stored for the attempt before the daemon went down."""
    return Attempt(
        run_id=rid,
        number=number,
        pid=handle.pid,
        pid_started_at=handle.pid_started_at,
        started_at=handle.started_at,
        output_dir=handle.output_dir,
    )


async def test_adopt_running_attempt_and_watch_it_to_the_end(tmp_path: Path) -> None:
    root = tmp_path / "out"
    first = ProcessExecutor(root, stop_grace=0.5)
    rid = run_id()
    handle = first.start(command_spec("sleep 1; echo done"), rid, 1)
    record = _record(handle, rid)
    first.detach_all()
    assert await handle.wait() is None  # detached: no outcome from the old executor
    assert first.running == 0

    second = ProcessExecutor(root, stop_grace=0.5)
    adopted = await second.adopt(record)
    assert isinstance(adopted, RunningAttempt)
    assert second.running == 1
    outcome = await asyncio.wait_for(adopted.wait(), 10)
    assert outcome.error_type is None and outcome.exit_code == 0
    assert read_output(adopted.output_dir, "stdout")[0] == b"done\n"


async def test_adopted_failure_keeps_its_exit_code(tmp_path: Path) -> None:
    root = tmp_path / "out"
    first = ProcessExecutor(root)
    rid = run_id()
    handle = first.start(command_spec("sleep 0.5; exit 9"), rid, 1)
    record = _record(handle, rid)
    handle.detach()
    adopted = await ProcessExecutor(root).adopt(record)
    assert isinstance(adopted, RunningAttempt)
    outcome = await asyncio.wait_for(adopted.wait(), 10)
    assert outcome.error_type is ErrorType.EXIT and outcome.exit_code == 9


async def test_adopt_reads_back_an_attempt_that_finished_while_down(tmp_path: Path) -> None:
    root = tmp_path / "out"
    first = ProcessExecutor(root)
    rid = run_id()
    handle = first.start(command_spec("echo bye; exit 4"), rid, 1)
    record = _record(handle, rid)
    handle.detach()
    status = Path(handle.output_dir) / "status"
    deadline = time.monotonic() + 10
    while read_status(str(status)) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    # The output keeper writes the last bytes a moment after the wrapper's status; an
    # adopting daemon comes long after that (its own start-up), this test must wait for it.
    await asyncio.wait_for(handle.drain, 5)
    outcome = await ProcessExecutor(root).adopt(record)
    assert isinstance(outcome, AttemptOutcome)
    assert outcome.error_type is ErrorType.EXIT and outcome.exit_code == 4
    assert outcome.output_bytes == 4


async def test_adopt_reads_back_a_python_result(tmp_path: Path) -> None:
    root = tmp_path / "out"
    first = ProcessExecutor(root)
    rid = run_id()
    handle = first.start(python_spec("add", {"a": 2, "b": 3}), rid, 1)
    record = _record(handle, rid)
    handle.detach()
    status = Path(handle.output_dir) / "status"
    deadline = time.monotonic() + 20
    while read_status(str(status)) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    outcome = await ProcessExecutor(root).adopt(record)
    assert isinstance(outcome, AttemptOutcome)
    assert outcome.error_type is None and outcome.result == {"sum": 5}


async def test_adopt_unknown_or_reused_pid_is_none(tmp_path: Path) -> None:
    executor = ProcessExecutor(tmp_path / "out")
    gone = Attempt(run_id="ghost", number=1, pid=2**22 - 7, pid_started_at=1.0, output_dir=str(tmp_path / "ghost"))
    assert await executor.adopt(gone) is None
    # A live pid whose start time does not match is some other process: not ours.
    import os

    impostor = Attempt(run_id="ghost", number=1, pid=os.getpid(), pid_started_at=1.0, output_dir=str(tmp_path / "x"))
    assert await executor.adopt(impostor) is None
