"""Commands run as real processes: statuses, argv forms, env, cwd, output files, spawn errors."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from taskflow.engine.process.local import ProcessExecutor
from taskflow.engine.process.output import read_output
from taskflow.model import ErrorType

from .conftest import command_spec, run_id


async def test_success_records_zero_and_usage(executor: ProcessExecutor) -> None:
    handle = executor.start(command_spec("true"), run_id(), 1)
    assert handle.pid is not None and handle.pid_started_at is not None
    outcome = await handle.wait()
    assert outcome.error_type is None
    assert outcome.exit_code == 0
    assert outcome.cpu_seconds is not None
    assert await handle.wait() is outcome  # idempotent


@pytest.mark.parametrize(
    ("command", "code"),
    [("exit 3", 3), (["sh", "-c", "exit 4"], 4), ("false", 1), ("nosuch-command-xyz", 127)],
)
async def test_non_zero_exit_is_exit_error(executor: ProcessExecutor, command, code: int) -> None:
    outcome = await executor.start(command_spec(command), run_id(), 1).wait()
    assert outcome.error_type is ErrorType.EXIT
    assert outcome.exit_code == code
    assert outcome.message.startswith(f"exited with status {code}")


@pytest.mark.parametrize("command", ["kill -SEGV $$", ["sh", "-c", "kill -SEGV $$"]])
async def test_killed_by_signal(executor: ProcessExecutor, command) -> None:
    outcome = await executor.start(command_spec(command), run_id(), 1).wait()
    assert outcome.error_type is ErrorType.SIGNAL
    assert outcome.signal == signal.SIGSEGV
    assert outcome.message == "killed by SIGSEGV"


async def test_string_runs_under_shell_and_list_is_not_reinterpreted(executor: ProcessExecutor) -> None:
    rid = run_id()
    handle = executor.start(command_spec("echo $((2+3)) | sed s/5/five/"), rid, 1)
    await handle.wait()
    assert read_output(handle.output_dir, "stdout")[0] == b"five\n"
    handle = executor.start(command_spec(["echo", "$HOME; rm -rf /", "*"]), rid, 2)
    await handle.wait()
    assert read_output(handle.output_dir, "stdout")[0] == b"$HOME; rm -rf / *\n"


async def test_env_denylist_task_env_and_run_identity(executor_env: ProcessExecutor) -> None:
    rid = run_id()
    spec = command_spec(["env"], env={"APP_ENV": "staging"}, name="deploy/app")
    handle = executor_env.start(spec, rid, 2)
    await handle.wait()
    env = dict(
        line.split("=", 1) for line in read_output(handle.output_dir, "stdout")[0].decode().splitlines() if "=" in line
    )
    assert env["APP_ENV"] == "staging"
    assert env["TASKFLOW_RUN_ID"] == rid
    assert env["TASKFLOW_ATTEMPT"] == "2"
    assert env["TASKFLOW_TASK"] == "deploy/app"
    assert env["KEEP_ME"] == "1"
    for name in ("LD_PRELOAD", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS"):
        assert name not in env


@pytest.fixture
def executor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProcessExecutor:
    # Set before the executor exists: it snapshots the daemon's environment once.
    monkeypatch.setenv("LD_PRELOAD", "/nonexistent/evil.so")
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    monkeypatch.setenv("LISTEN_FDS", "1")
    monkeypatch.setenv("KEEP_ME", "1")
    return ProcessExecutor(tmp_path / "out", stop_grace=0.5)


async def test_cwd_and_stdin_is_dev_null(executor: ProcessExecutor, tmp_path: Path) -> None:
    work = tmp_path / "work dir"
    work.mkdir()
    handle = executor.start(command_spec("pwd; cat; echo read-done", cwd=str(work)), run_id(), 1)
    outcome = await asyncio.wait_for(handle.wait(), 10)
    assert outcome.error_type is None
    assert read_output(handle.output_dir, "stdout")[0] == f"{work}\nread-done\n".encode()


async def test_output_goes_to_per_stream_files_readable_while_running(executor: ProcessExecutor) -> None:
    handle = executor.start(command_spec("echo out; echo err >&2; sleep 30"), run_id(), 1)
    stdout = Path(handle.output_dir) / "stdout"
    for _ in range(200):
        if stdout.exists() and stdout.read_bytes() == b"out\n":
            break
        await asyncio.sleep(0.02)
    assert read_output(handle.output_dir, "stdout") == (b"out\n", 4, 0)
    assert read_output(handle.output_dir, "stderr")[0] == b"err\n"
    assert not handle.done
    handle.cancel()
    outcome = await handle.wait()
    assert outcome.output_bytes >= 8  # the shell may add "Terminated"


async def test_missing_program_is_spawn_error(executor: ProcessExecutor) -> None:
    handle = executor.start(command_spec(["/nonexistent"]), run_id(), 1)
    assert handle.pid is None
    outcome = await handle.wait()
    assert outcome.error_type is ErrorType.SPAWN
    assert outcome.message == "could not start: [Errno 2] No such file or directory: '/nonexistent'"
    outcome = await executor.start(command_spec(["nosuch-program-xyz"]), run_id(), 1).wait()
    assert outcome.error_type is ErrorType.SPAWN
    assert "nosuch-program-xyz" in outcome.message


async def test_missing_cwd_is_spawn_error(executor: ProcessExecutor, tmp_path: Path) -> None:
    outcome = await executor.start(command_spec("true", cwd=str(tmp_path / "gone")), run_id(), 1).wait()
    assert outcome.error_type is ErrorType.SPAWN
    assert "No such file or directory" in outcome.message and "gone" in outcome.message


@pytest.mark.parametrize(("command", "code"), [("true", 0), ("exit 5", 5), ("kill -TERM $$", 143)])
async def test_status_file_matches_exit_code(executor: ProcessExecutor, command: str, code: int) -> None:
    handle = executor.start(command_spec(command), run_id(), 1)
    await handle.wait()
    assert (Path(handle.output_dir) / "status").read_text().strip() == str(code)


async def test_many_concurrent_attempts(executor: ProcessExecutor) -> None:
    handles = [executor.start(command_spec(f"exit {i % 3}"), run_id(), 1) for i in range(30)]
    outcomes = await asyncio.gather(*(h.wait() for h in handles))
    assert [o.exit_code for o in outcomes] == [i % 3 for i in range(30)]
    assert executor.running == 0
