"""What one attempt came to: the rules that turn an ending into an ``AttemptOutcome``.

Kept apart from the process plumbing so the classification (which error type, which one
sentence) reads in one place: cancel beats timeout beats resource kill beats exit status.
"""

from __future__ import annotations

import json
import os
import signal as signals
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from taskflow.engine.executor import AttemptOutcome
from taskflow.model import ErrorType, format_duration, format_size


def utcnow() -> datetime:
    return datetime.now(UTC)


def signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass(slots=True)
class Ending:
    """Everything known when an attempt's process has gone, before classification."""

    wait_status: int | None = None  # from wait4, when the daemon reaped the wrapper itself
    recorded_status: int | None = None  # from the wrapper's status file
    spawn_error: str | None = None
    cancelled: bool = False
    timed_out: float | None = None  # the timeout, when it fired
    memory_killed: bool = False
    killed_hard: bool = False  # SIGKILL was needed
    memory_limit: int | None = None
    cpu_limit: float | None = None
    peak_rss: int | None = None
    cpu_seconds: float | None = None
    maxrss_exceeded: bool = False
    python_result: dict[str, Any] | None = None  # the runner's result file
    shell_result: Any = None  # what a command task wrote to $TASKFLOW_RESULT


def _status(ending: Ending) -> tuple[int | None, int | None]:
    """(exit_code, signal) of the command, from wait4 when known, else the status file."""
    if ending.wait_status is not None:
        code = os.waitstatus_to_exitcode(ending.wait_status)
        if code < 0:  # the wrapper shell itself was killed (our SIGKILL after the grace)
            return None, -code
    elif ending.recorded_status is not None:
        code = ending.recorded_status
    else:
        return None, None
    if 128 < code < 128 + 65:  # the shell's way of saying "killed by signal N"
        return None, code - 128
    return code, None


def classify(ending: Ending, output_bytes: int, output_cut: int) -> AttemptOutcome:
    """Turn an ``Ending`` into the outcome the engine records."""
    exit_code, sig = _status(ending)
    error: ErrorType | None
    result: Any = None
    exception: dict[str, Any] | None = None
    grace_note = "process group killed" if ending.killed_hard else "process group terminated"
    if ending.spawn_error is not None:
        error, message = ErrorType.SPAWN, f"could not start: {ending.spawn_error}"
    elif ending.cancelled:
        error, message = ErrorType.SIGNAL, f"cancelled; {grace_note}"
    elif ending.timed_out is not None:
        error = ErrorType.TIMEOUT
        message = f"timed out after {format_duration(ending.timed_out)}; {grace_note}"
    elif ending.memory_killed or (ending.maxrss_exceeded and (exit_code or sig)):
        error, message = ErrorType.RESOURCES, _memory_message(ending)
    elif sig is not None:
        cpu_hit = sig == signals.SIGXCPU or (
            sig == signals.SIGKILL
            and ending.cpu_limit is not None
            and (ending.cpu_seconds or 0.0) >= ending.cpu_limit
        )
        if cpu_hit and ending.cpu_limit is not None:
            error = ErrorType.RESOURCES
            message = f"CPU limit {format_duration(ending.cpu_limit)} exceeded"
        else:
            error, message = ErrorType.SIGNAL, f"killed by {signal_name(sig)}"
    elif exit_code is None:
        error = ErrorType.SIGNAL
        message = "exit status lost: the attempt's shell was killed while the daemon was away"
    elif ending.python_result is not None and not ending.python_result.get("ok", False):
        exception = ending.python_result.get("exception") or {}
        error = ErrorType.EXCEPTION
        message = f"{exception.get('type', 'Exception')}: {exception.get('message', '')}".rstrip(": ")
    elif exit_code != 0:
        error, message = ErrorType.EXIT, f"exited with status {exit_code}{_exit_hint(exit_code)}"
    else:
        error, message = None, "exited with status 0"
        if ending.python_result is not None:
            result = ending.python_result.get("result")
        elif ending.shell_result is not None:
            result = ending.shell_result
    return AttemptOutcome(
        exit_code=exit_code,
        signal=sig,
        error_type=error,
        message=message,
        peak_rss=ending.peak_rss,
        cpu_seconds=ending.cpu_seconds,
        result=result,
        exception=exception,
        output_bytes=output_bytes,
        output_cut=output_cut,
        cancelled=ending.cancelled,
        finished_at=utcnow(),
    )


def _memory_message(ending: Ending) -> str:
    limit = format_size(ending.memory_limit)
    return f"memory limit {limit} exceeded (peak {format_size(ending.peak_rss)})"


def _exit_hint(code: int) -> str:
    if code == 127:
        return " (command not found)"
    if code == 126:
        return " (not executable, or cwd/limits could not be applied)"
    return ""


#: The most of a command task's $TASKFLOW_RESULT file kept as its run's ``result`` (the
#: file itself stays whole for the tasks downstream).
SHELL_RESULT_LIMIT = 64 * 1024


def read_shell_result(path: str) -> Any:
    """What a command task left in ``$TASKFLOW_RESULT``: its JSON value, else its text
    (trailing newline dropped); None when there is no file or it is over the limit."""
    try:
        with open(path, "rb") as f:
            data = f.read(SHELL_RESULT_LIMIT + 1)
    except OSError:
        return None
    if len(data) > SHELL_RESULT_LIMIT:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace").removesuffix("\n")


def read_python_result(path: str) -> dict[str, Any] | None:
    """The runner's result file: ``{"ok": true, "result": ...}`` or ``{"ok": false, "exception": {...}}``."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
