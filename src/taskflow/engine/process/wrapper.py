"""The per-attempt ``/bin/sh`` wrapper: limits, exit-status file, and the spawn argv.

Every attempt runs as ``sh -c WRAPPER taskflow-attempt [argv...]`` in its own session. The
wrapper is a few lines of shell rather than a Python launcher because a shell starts in about a
millisecond, and a string command needs a shell anyway: ``eval`` runs it in the same process,
so ``true`` still costs one shell, like ``sh -c true``. Its only extra job is an ``EXIT`` trap
that writes ``$?`` to the attempt's ``status`` file, so the exit status survives a daemon crash
(the daemon reads ``wait4`` itself when it is alive; the file is the fallback for adoption).

Corner cases, checked against dash (tests/executor/test_executor_wrapper.py):
- normal end, ``exit N`` inside the command, syntax errors, ``command not found``: recorded.
- the command killed by signal N: ``128+N`` recorded (shell convention; ``exit 139`` looks the same).
- TERM/INT/HUP to the group: the traps turn them into ``exit 128+N``, so the file is written.
- SIGKILL of the shell, or a command starting with ``exec``: nothing recorded; a live daemon
  still has ``wait4``, an adopting daemon reports the status as lost.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
from collections.abc import Mapping

SHELL = "/bin/sh"
PID_FILE = "pid"  # the wrapper's pid, its first act
STATUS_WIDTH = 8  # bytes reserved for the exit status (blanks until it is written)
WRAPPER_NAME = "taskflow-attempt"  # $0 of the wrapper: what ps shows

# Never handed to tasks: loader injection, the daemon's own systemd plumbing, and per-run values.
ENV_DENYLIST = frozenset(
    {
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "NOTIFY_SOCKET",
        "LISTEN_FDS",
        "LISTEN_PID",
        "LISTEN_FDNAMES",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
        # Per run, set only for a schedule slot's runs: never inherited from the daemon's own
        # environment, so a manual run never seems to have a slot.
        "TASKFLOW_SCHEDULED_AT",
    }
)
ENV_DENY_PREFIXES = ("WATCHDOG_",)


def task_base_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The daemon's environment minus what must never reach a task."""
    source = os.environ if environ is None else environ
    return {
        key: value
        for key, value in source.items()
        if key not in ENV_DENYLIST and not key.startswith(ENV_DENY_PREFIXES)
    }


def param_env(params: Mapping[str, object]) -> dict[str, str]:
    """Params of a command task as ``TASKFLOW_PARAM_<NAME>`` variables (``-p version=1.4.2``
    → ``$TASKFLOW_PARAM_VERSION``); non-string values as JSON."""
    import json

    env = {}
    for key, value in params.items():
        name = "".join(c if c.isalnum() else "_" for c in str(key)).upper()
        env[f"TASKFLOW_PARAM_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def wrapper_script(
    output_dir: str,
    *,
    command: str | None,
    cwd: str | None,
    cpu_limit: float | None,
    cgroup: str | None = None,
    piped: bool = False,
) -> str:
    """The shell text run by ``sh -c``; a list command comes after it as ``"$@"``.

    ``piped``: stdout and stderr are already the attempt's pipes to the output keeper (see
    ``taskflow.engine.process.keeper``). Otherwise the wrapper opens the attempt's ``stdout``/``stderr``
    files itself (the daemon only hands it /dev/null), after exec, off the daemon's spawn path.
    With a ``cgroup`` it first moves itself into it (see ``taskflow.engine.process.cgroups``). The
    status path lives in a variable a task is unlikely to touch; the command string is
    single-quoted so a syntax error in it surfaces at ``eval`` time, after the trap is set.
    """
    status_path = os.path.join(output_dir, "status")
    # The first trace of a start: recovery tells "began" from "never ran" by it (a crash can
    # come before the daemon records the attempt). A refused write leaves the /proc scan.
    parts = [f"echo $$ >{shlex.quote(os.path.join(output_dir, PID_FILE))} 2>/dev/null || :"]
    if cgroup is not None:
        # A refused move only loses the cgroup kill; it is not the task's output.
        parts.append(f"echo $$ >{shlex.quote(os.path.join(cgroup, 'cgroup.procs'))} 2>/dev/null || :")
    parts += [
        f"__taskflow_status={shlex.quote(status_path)}",
        # The status file's bytes are taken now, while there is room: the EXIT trap
        # overwrites them in place (1<>, no truncation), so a disk the task fills cannot
        # refuse the exit status.
        f"printf '%{STATUS_WIDTH}s' '' >\"$__taskflow_status\" 2>/dev/null || :",
        "trap 'printf %s \"$?\" 1<>\"$__taskflow_status\"' EXIT",
        "trap 'exit 129' HUP",
        "trap 'exit 130' INT",
        "trap 'exit 143' TERM",
    ]
    stdout = shlex.quote(os.path.join(output_dir, "stdout"))
    stderr = shlex.quote(os.path.join(output_dir, "stderr"))
    if piped:
        # The files exist from the start (readers expect them); the keeper only appends.
        parts.append(f": 2>/dev/null >>{stdout}; : 2>/dev/null >>{stderr}")
    else:
        parts.append(f"exec >>{stdout} 2>>{stderr} || exit 126")
    if cpu_limit is not None:
        # Soft limit sends SIGXCPU (recognisable); the hard limit 2 s later is the backstop.
        seconds = max(1, math.ceil(cpu_limit))
        parts.append(f"ulimit -St {seconds} && ulimit -Ht {seconds + 2} || exit 126")
    if cwd is not None:
        parts.append(f"cd -- {shlex.quote(cwd)} || exit 126")
    if command is not None:
        parts.append(f"eval {shlex.quote(command)}")
    else:
        parts.append('"$@"')
    return "\n".join(parts)


def wrapper_argv(script: str, argv: tuple[str, ...] = ()) -> list[str]:
    return ["sh", "-c", script, WRAPPER_NAME, *argv]


def is_wrapper_of(cmdline: list[str], output_dir: str) -> bool:
    """Is ``cmdline`` (a process's argv) the wrapper of the attempt in ``output_dir``?"""
    mark = f"__taskflow_status={shlex.quote(os.path.join(output_dir, 'status'))}\n"
    return len(cmdline) > 3 and cmdline[3] == WRAPPER_NAME and mark in cmdline[2]


def find_executable(name: str, env: Mapping[str, str], cwd: str | None) -> str:
    """Resolve ``argv[0]`` of a list command as ``execvp`` would, or raise the OS error.

    Done in the daemon so a missing program is a ``spawn`` failure with the OS error instead
    of a shell's "not found" with status 127.
    """
    if "/" in name:
        path = name if os.path.isabs(name) or cwd is None else os.path.join(cwd, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(2, os.strerror(2), name)
        if not os.access(path, os.X_OK):
            raise PermissionError(13, os.strerror(13), name)
        return name
    search = env.get("PATH", os.defpath)
    cached = _FOUND.get((search, name))
    if cached is not None and os.access(cached, os.X_OK):  # one syscall instead of a PATH walk
        return cached
    found = shutil.which(name, path=search)
    if found is None:
        raise FileNotFoundError(2, os.strerror(2), name)
    if len(_FOUND) >= 256:
        _FOUND.clear()
    _FOUND[(search, name)] = found
    return found


_FOUND: dict[tuple[str, str], str] = {}


def check_cwd(cwd: str) -> None:
    """Raise the OS error if ``cwd`` is not an enterable directory."""
    if not os.path.isdir(cwd):
        raise FileNotFoundError(2, os.strerror(2), cwd) if not os.path.exists(cwd) else NotADirectoryError(
            20, os.strerror(20), cwd
        )
    if not os.access(cwd, os.X_OK):
        raise PermissionError(13, os.strerror(13), cwd)


def read_status(path: str) -> int | None:
    """The exit status the wrapper recorded, or None when it recorded nothing."""
    try:
        with open(path, "rb") as f:
            text = f.read().strip()
    except OSError:
        return None
    try:
        return int(text)
    except ValueError:
        return None
