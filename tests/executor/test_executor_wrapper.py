"""The /bin/sh wrapper's status file, checked against the real shell in every corner case."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from taskflow.engine.process.wrapper import SHELL, read_status, task_base_env, wrapper_argv, wrapper_script


def run_wrapper(tmp_path: Path, command: str | None, argv: tuple[str, ...] = (), **kw) -> tuple[int, int | None]:
    status = tmp_path / "status"
    script = wrapper_script(str(tmp_path), command=command, cwd=kw.get("cwd"), cpu_limit=kw.get("cpu"))
    proc = subprocess.run(wrapper_argv(script, argv), executable=SHELL, capture_output=True, timeout=30)
    return proc.returncode, read_status(str(status))


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("true", 0),
        ("false", 1),
        ("exit 7", 7),
        ("echo hi; (exit 3)", 3),
        ("if then", 2),  # syntax error surfaces at eval time, after the trap
        ("nosuch-command-xyz", 127),
        ("sh -c 'kill -SEGV $$'", 128 + signal.SIGSEGV),  # a child killed by a signal
        ("kill -TERM $$", 143),  # the wrapper's own traps turn signals into exits
        ("kill -HUP $$", 129),
    ],
)
def test_status_recorded_for_string_commands(tmp_path: Path, command: str, code: int) -> None:
    returncode, recorded = run_wrapper(tmp_path, command)
    assert returncode == code
    assert recorded == code


def test_status_recorded_for_list_commands(tmp_path: Path) -> None:
    assert run_wrapper(tmp_path, None, ("sh", "-c", "exit 5")) == (5, 5)
    assert run_wrapper(tmp_path, None, ("printf", "%s", "$x; exit 9")) == (0, 0)


def test_positional_parameters_are_empty_for_string_commands(tmp_path: Path) -> None:
    assert run_wrapper(tmp_path, 'exit "$#"') == (0, 0)


def test_term_to_the_group_records_143(tmp_path: Path) -> None:
    status = tmp_path / "status"
    script = wrapper_script(str(tmp_path), command="sleep 30", cwd=None, cpu_limit=None)
    proc = subprocess.Popen(wrapper_argv(script), executable=SHELL, start_new_session=True)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(10) == 143
    assert read_status(str(status)) == 143


def test_exec_and_sigkill_leave_no_status(tmp_path: Path) -> None:
    # Documented limits: the daemon's own wait4 covers them while it is alive.
    assert run_wrapper(tmp_path, "exec true") == (0, None)
    status = tmp_path / "status"
    status.unlink(missing_ok=True)
    script = wrapper_script(str(tmp_path), command="sleep 30", cwd=None, cpu_limit=None)
    proc = subprocess.Popen(wrapper_argv(script), executable=SHELL, start_new_session=True)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    assert read_status(str(status)) is None


def test_cpu_limit_and_cwd_are_applied(tmp_path: Path) -> None:
    subprocess.run(
        wrapper_argv(wrapper_script(str(tmp_path), command="ulimit -St; ulimit -Ht; pwd", cwd=str(tmp_path), cpu_limit=2.5)),
        executable=SHELL,
        timeout=30,
    )
    assert (tmp_path / "stdout").read_text().split() == ["3", "5", str(tmp_path)]


def test_wrapper_opens_its_own_output_files(tmp_path: Path) -> None:
    assert run_wrapper(tmp_path, "echo out; echo err >&2") == (0, 0)
    assert (tmp_path / "stdout").read_text() == "out\n"
    assert (tmp_path / "stderr").read_text() == "err\n"


def test_base_env_drops_the_denylist() -> None:
    env = task_base_env(
        {"PATH": "/bin", "LD_PRELOAD": "x", "LD_AUDIT": "x", "WATCHDOG_FOO": "1", "NOTIFY_SOCKET": "/s", "INVOCATION_ID": "i"}
    )
    assert env == {"PATH": "/bin", "INVOCATION_ID": "i"}
