"""Python tasks run in a child process through the same wrapper as commands."""

from __future__ import annotations

import asyncio
import time

import pytest

from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output
from taskflow.model import ErrorType

from .conftest import command_spec, python_spec, run_id


async def test_sync_task_with_params_and_context(executor: ProcessExecutor, progress: list) -> None:
    rid = run_id()
    handle = executor.start(python_spec("with_progress", name="etl/load"), rid, 2, params={"count": "3"})
    outcome = await asyncio.wait_for(handle.wait(), 20)
    assert outcome.error_type is None
    assert outcome.result == "etl/load:3"
    assert read_output(handle.output_dir, "stdout")[0] == f"run {rid} attempt 2\n".encode()
    assert progress[-1] == (rid, 1.0, "step 3")


async def test_async_task(executor: ProcessExecutor, progress: list) -> None:
    rid = run_id()
    outcome = await asyncio.wait_for(executor.start(python_spec("async_greet", {"name": "ops"}), rid, 1).wait(), 20)
    assert outcome.error_type is None and outcome.result == "hello ops"
    assert (rid, 0.5, "halfway") in progress


async def test_default_params_and_optional_context(executor: ProcessExecutor) -> None:
    outcome = await asyncio.wait_for(executor.start(python_spec("add", {"a": 41}), run_id(), 1).wait(), 20)
    assert outcome.result == {"sum": 42}


async def test_exception_is_recorded(executor: ProcessExecutor) -> None:
    outcome = await asyncio.wait_for(executor.start(python_spec("explode", {"row": 7}), run_id(), 1).wait(), 20)
    assert outcome.error_type is ErrorType.EXCEPTION
    assert outcome.message == "ValueError: bad row 7"
    assert outcome.exception["type"] == "ValueError"
    assert outcome.exception["message"] == "bad row 7"
    assert 'raise ValueError(f"bad row {row}")' in outcome.exception["traceback"]


async def test_hard_exit_is_exit_error(executor: ProcessExecutor) -> None:
    outcome = await asyncio.wait_for(executor.start(python_spec("hard_exit"), run_id(), 1).wait(), 20)
    assert outcome.error_type is ErrorType.EXIT and outcome.exit_code == 3


async def test_non_serializable_result_is_described(executor: ProcessExecutor) -> None:
    outcome = await asyncio.wait_for(executor.start(python_spec("odd_result"), run_id(), 1).wait(), 20)
    assert outcome.error_type is None
    assert outcome.result == {"lock": "<non-serializable: lock>", "fine": [1, 2]}


@pytest.mark.parametrize("ref", ["hang", "async_hang"])
async def test_hang_times_out_while_others_keep_running(executor: ProcessExecutor, ref: str) -> None:
    started = time.monotonic()
    hung = executor.start(python_spec(ref, timeout=1.5), run_id(), 1)
    quick = [executor.start(command_spec(f"exit {i}"), run_id(), 1) for i in range(5)]
    quick_outcomes = await asyncio.wait_for(asyncio.gather(*(h.wait() for h in quick)), 10)
    assert [o.exit_code for o in quick_outcomes] == list(range(5))
    assert not hung.done  # the executor served the others meanwhile
    outcome = await asyncio.wait_for(hung.wait(), 20)
    assert outcome.error_type is ErrorType.TIMEOUT
    assert time.monotonic() - started < 10


async def test_cooperative_task_sees_cancellation(executor: ProcessExecutor) -> None:
    handle = executor.start(python_spec("cooperative"), run_id(), 1)
    # Give the interpreter time to install its handlers; a TERM before that also ends it.
    await asyncio.sleep(1.0)
    handle.cancel()
    outcome = await asyncio.wait_for(handle.wait(), 20)
    assert outcome.cancelled


async def test_unregistered_function_fails_in_the_child_too(executor: ProcessExecutor) -> None:
    outcome = await asyncio.wait_for(executor.start(python_spec("not_registered"), run_id(), 1).wait(), 20)
    assert outcome.error_type is ErrorType.EXCEPTION
    assert outcome.message == (
        'ResolveError: module "pytasks_for_tests" has no function "not_registered" registered with @taskflow.task'
    )
