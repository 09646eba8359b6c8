"""``ProcessExecutor``: starts attempts as real processes and adopts them after a restart.

Each attempt is ``posix_spawn``-ed (vfork-fast) as the ``/bin/sh`` wrapper of
``taskflow.engine.process.wrapper`` in a new session, with stdin on ``/dev/null`` and stdout/stderr
on pipes to the output keeper, which appends them to capped files under ``output_root`` (see
``taskflow.engine.process.keeper`` and ``taskflow.engine.process.output``). A Python task is the
same wrapper running ``python -m taskflow.pytask.runner call.json``, so timeouts, limits,
cancel and output behave identically. One sampler per executor (a re-armed timer, not a
thread) watches every running attempt's tree for memory, output size and progress, each on
its own schedule: young attempts often, old ones rarely (``taskflow.engine.process.sampling``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import psutil

from taskflow.engine.executor import Found, OutputChunk, ProgressCallback
from taskflow.engine.process.attempt import RunningAttempt
from taskflow.engine.process.cgroups import AttemptCgroups
from taskflow.engine.process.outcome import Ending, classify, read_python_result, read_shell_result, utcnow
from taskflow.engine.process.output import (
    CALL_FILE,
    CONTROL_FILE,
    RESULT_FILE,
    STATUS_FILE,
    STREAMS,
    TASK_RESULT_FILE,
    attempt_dir,
    make_attempt_dir,
    read_output,
    stream_extent,
)
from taskflow.engine.process.output_keeper import OutputKeeper
from taskflow.engine.process.sampling import SampleSchedule
from taskflow.engine.process.users import resolve_user, user_problem
from taskflow.engine.process.wrapper import (
    PID_FILE,
    SHELL,
    check_cwd,
    find_executable,
    is_wrapper_of,
    param_env,
    read_status,
    task_base_env,
    wrapper_argv,
    wrapper_script,
)
from taskflow.model import Attempt, TaskSpec
from taskflow.pytask.probe import module_search_paths

log = logging.getLogger(__name__)

_NULL_STDIO = [
    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDWR, 0),
    (os.POSIX_SPAWN_DUP2, 0, 1),
    (os.POSIX_SPAWN_DUP2, 0, 2),
]
# Python ignores SIGPIPE; ignored dispositions survive exec, so reset them for the task.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
_CREATE_TIME_SLACK = 0.05  # start times are in clock ticks (10 ms); ours is read before the spawn


class ProcessExecutor:
    """The ``Executor`` of this host: attempts as process trees under the wrapper."""

    def __init__(
        self,
        output_root: Path,
        *,
        output_cap: int = 16 * 2**20,
        stop_grace: float = 10.0,
        python_path: Sequence[str] = (),
        sample_interval: float = 0.25,
        on_progress: ProgressCallback | None = None,
        use_cgroups: bool = True,
    ) -> None:
        self.output_root = Path(output_root)
        self.output_cap = output_cap
        self.stop_grace = stop_grace
        self.python_path = list(python_path)
        self.sample_interval = sample_interval
        self.on_progress = on_progress
        self._base_env = task_base_env()
        self._boot_time = psutil.boot_time()
        self._running: dict[int, RunningAttempt] = {}
        self.cgroups = AttemptCgroups.discover() if use_cgroups else AttemptCgroups(None)
        # stdout/stderr through the output keeper, which holds the cap at every moment.
        self.keeper = OutputKeeper()
        # Attempt cgroups a task's leftovers still occupy (a previous daemon's, too).
        self._lingering: set[str] = set(self.cgroups.leftovers)
        self._schedule: SampleSchedule[RunningAttempt] = SampleSchedule()
        self._sampler: asyncio.TimerHandle | None = None
        self._sampler_due = 0.0  # loop time the armed sampler fires at
        self._lingering_due = 0.0  # loop time the lingering cgroups are retried at
        self.output_root.mkdir(parents=True, exist_ok=True)

    @property
    def running(self) -> int:
        return len(self._running)

    # ------------------------------------------------------------------ start

    def refusal(self, spec: TaskSpec) -> str | None:
        """A ``user`` that does not exist here, or one set on a Python task."""
        return user_problem(spec.user, python=spec.kind == "python") if spec.user else None

    def start(
        self, spec: TaskSpec, run_id: str, attempt: int, params: Mapping[str, Any] | None = None
    ) -> RunningAttempt:
        """Spawn one attempt now. Never raises for a task's own problem: a spawn failure is
        a ``RunningAttempt`` whose outcome is ``spawn`` with the OS error."""
        started_at = utcnow()
        out = attempt_dir(self.output_root, run_id, attempt)
        out_s = str(out)
        env = self._base_env | spec.env
        env["TASKFLOW_RUN_ID"] = run_id
        env["TASKFLOW_ATTEMPT"] = str(attempt)
        env["TASKFLOW_TASK"] = spec.name
        env["TASKFLOW_OUTPUT_DIR"] = out_s
        env["TASKFLOW_RESULT"] = out_s + "/" + TASK_RESULT_FILE
        python = spec.kind == "python"
        if not python and params:
            env.update(param_env(params))
        cgroup: str | None = None
        try:
            as_user = resolve_user(spec.user)
            if as_user is not None and python:
                raise ValueError(user_problem(spec.user, python=True))
            make_attempt_dir(out)
            if as_user is not None:
                env.update(as_user.env())
            if spec.cwd is not None:
                check_cwd(spec.cwd)
            if python:
                argv = self._python_argv(spec, run_id, attempt, params, out_s, env)
                command = None
            elif isinstance(spec.command, str):
                argv, command = (), spec.command
            elif spec.command:
                first = find_executable(spec.command[0], env, spec.cwd)
                argv, command = (first, *spec.command[1:]), None
            else:
                raise ValueError(f"task {spec.name!r} has no command to run")
            if as_user is not None:
                # The wrapper stays root (status file, output files); the task drops to the user.
                if command is not None:
                    argv, command = (SHELL, "-c", command), None
                argv = (*as_user.prefix(), *argv)
            cgroup = self.cgroups.acquire()
            pipes = self.keeper.attach(out_s, self.output_cap)
            script = wrapper_script(
                out_s, command=command, cwd=spec.cwd, cpu_limit=spec.limits.cpu, cgroup=cgroup,
                piped=pipes is not None,
            )
            # psutil's create_time is boot time + the kernel's start tick; the clock read just
            # before the spawn gives the same within a tick without reading /proc, which is
            # slow while the child is still in exec.
            created = self._boot_time + time.clock_gettime(time.CLOCK_BOOTTIME)
            try:
                pid = os.posix_spawn(
                    SHELL,
                    wrapper_argv(script, argv),
                    env,
                    # The keeper's pipes, or only /dev/null: then the wrapper opens its output
                    # files itself, after exec, so the daemon does not wait for file creation.
                    file_actions=_NULL_STDIO if pipes is None else _piped_stdio(*pipes),
                    setsid=True,
                    setsigdef=_DEFAULT_SIGNALS,
                )
            finally:
                if pipes is not None:
                    os.close(pipes[0])
                    os.close(pipes[1])
        except (OSError, ValueError, TypeError) as exc:
            if cgroup is not None:
                self.cgroups.give_back(cgroup)
            handle = self._handle(spec, run_id, out_s, started_at, None, None, python)
            handle.fail_to_start(str(exc))
            return handle
        handle = self._handle(spec, run_id, out_s, started_at, pid, created, python)
        handle.cgroup = cgroup
        handle.cgroup_cpu_base = self.cgroups.baseline(cgroup)
        handle.drain = self.keeper.drained(out_s)
        self._track(handle, spec.timeout)
        return handle

    def _python_argv(
        self,
        spec: TaskSpec,
        run_id: str,
        attempt: int,
        params: Mapping[str, Any] | None,
        out: str,
        env: dict[str, str],
    ) -> tuple[str, ...]:
        """Write the call description and return the runner's argv."""
        control = os.path.join(out, CONTROL_FILE)
        call = {
            "function": spec.python,
            "params": spec.params if params is None else params,
            "run_id": run_id,
            "attempt": attempt,
            "task": spec.name,
            "paths": module_search_paths(spec.source, self.python_path),
            "control": control,
            "result": os.path.join(out, RESULT_FILE),
            "cancel_grace": max(0.1, self.stop_grace / 2),
        }
        call_path = os.path.join(out, CALL_FILE)
        with open(call_path, "wb") as f:
            f.write(msgspec.json.encode(call))
        env["TASKFLOW_CONTROL"] = control
        return (sys.executable, "-m", "taskflow.pytask.runner", call_path)

    def _handle(
        self,
        spec: TaskSpec | None,
        run_id: str,
        out: str,
        started_at: datetime,
        pid: int | None,
        created: float | None,
        python: bool,
    ) -> RunningAttempt:
        limits = spec.limits if spec is not None else None
        return RunningAttempt(
            self,
            run_id=run_id,
            output_dir=out,
            started_at=started_at,
            pid=pid,
            pid_started_at=created,
            python=python,
            memory_limit=limits.memory if limits else None,
            cpu_limit=limits.cpu if limits else None,
        )

    def _track(self, handle: RunningAttempt, timeout: float | None, elapsed: float = 0.0) -> None:
        assert handle.pid is not None
        self._running[handle.pid] = handle
        handle.watch(timeout, elapsed)
        self.hurry(handle)

    def forget(self, handle: RunningAttempt) -> None:
        """Stop sampling ``handle`` (it ended, or was detached)."""
        if handle.pid is not None and self._running.get(handle.pid) is handle:
            del self._running[handle.pid]
        self._schedule.drop(handle)

    def hurry(self, handle: RunningAttempt) -> None:
        """Sample ``handle`` one ``sample_interval`` from now (it started, or is being stopped)."""
        self._schedule.put(handle, asyncio.get_running_loop().time() + self.sample_interval)
        self._arm_sampler()

    def _sample(self) -> None:
        self._sampler = None
        now = asyncio.get_running_loop().time()
        for handle in self._schedule.pop_due(now):
            try:
                handle.sample()
            except Exception:  # pragma: no cover - sampling must never stop the executor
                log.exception("sampling attempt %s failed", handle.pid)
            if not handle.done and self._running.get(handle.pid or 0) is handle:
                self._schedule.put(handle, now + handle.next_sample(self.sample_interval))
        if self._lingering and now >= self._lingering_due:
            self._lingering = {path for path in self._lingering if not self.cgroups.give_back(path)}
            self._lingering_due = now + self.sample_interval
        self._arm_sampler()

    def _arm_sampler(self) -> None:
        """Keep the one timer armed for the earliest due attempt (or lingering cgroup)."""
        due = self._schedule.first()
        if self._lingering:
            due = self._lingering_due if due is None else min(due, self._lingering_due)
        if due is None:
            return
        if self._sampler is not None:
            if self._sampler_due <= due:
                return
            self._sampler.cancel()
        self._sampler_due = due
        self._sampler = asyncio.get_running_loop().call_at(due, self._sample)

    def release_cgroup(self, path: str) -> None:
        """Pool (or remove) an attempt's cgroup, or retry while processes the task left running remain."""
        if not self.cgroups.give_back(path):
            if not self._lingering:
                self._lingering_due = asyncio.get_running_loop().time() + self.sample_interval
            self._lingering.add(path)
            self._arm_sampler()

    # ------------------------------------------------------------------ adopt / stop

    async def adopt(self, attempt: Attempt, spec: TaskSpec | None = None) -> Found:
        """Reconnect to an attempt after a daemon restart.

        Alive with the same start time → a ``RunningAttempt`` watched to the end (``spec``,
        when given, re-arms the remaining timeout and the memory limit). Finished while the
        daemon was down → the outcome read back from the status (and result) file. Otherwise
        None: the caller marks the run interrupted.
        """
        out = attempt.output_dir or self.locate_output(attempt.run_id, attempt.number)
        # Recovery adopts before the socket is served: these few stat calls stall no client.
        python = (spec is not None and spec.kind == "python") or os.path.exists(os.path.join(out, CALL_FILE))  # noqa: ASYNC240
        if _same_process(attempt.pid, attempt.pid_started_at):
            assert attempt.pid is not None
            cgroup = self.cgroups.cgroup_of(attempt.pid)  # pooled, or named by an older daemon
            started = attempt.started_at or utcnow()
            handle = self._handle(spec, attempt.run_id, out, started, attempt.pid, attempt.pid_started_at, python)
            handle.cgroup = cgroup
            timeout = spec.timeout if spec is not None else None
            elapsed = (utcnow() - started).total_seconds()
            self._track(handle, timeout, elapsed)
            return handle
        # The wrapper ended while the daemon was down: a cgroup its leftovers still hold is one
        # of ``cgroups.leftovers``, removed once they are gone.
        status = read_status(os.path.join(out, STATUS_FILE))
        if status is None:
            return None
        ending = Ending(recorded_status=status)
        if python:
            ending.python_result = read_python_result(os.path.join(out, RESULT_FILE))
        else:
            ending.shell_result = read_shell_result(os.path.join(out, TASK_RESULT_FILE))
        size = cut = 0
        for stream in STREAMS:
            stream_size, stream_cut = stream_extent(os.path.join(out, stream))
            size, cut = size + stream_size, cut + stream_cut
        return classify(ending, size, cut)

    async def trace(self, run_id: str, number: int, spec: TaskSpec | None = None) -> tuple[Attempt, Found] | None:
        """Find attempt ``number`` of ``run_id`` from what it left on disk and in /proc.

        For a start the store never recorded (the daemon died between the spawn and the
        commit). None: no folder, so it never began and starting it is safe. Otherwise the
        attempt as far as it can be rebuilt, with what ``adopt`` makes of it (None: outcome
        unknown). A folder alone counts: on a full disk the wrapper may have run its task
        without managing to write its pid or status, so a bare folder is never started again.
        """
        out = self.locate_output(run_id, number)
        if not os.path.isdir(out):  # noqa: ASYNC240 - recovery, before the socket is served
            return None
        pid_path = os.path.join(out, PID_FILE)
        pid = read_status(pid_path)  # the same one-integer format
        proc = await asyncio.to_thread(_find_wrapper, out, pid)
        try:
            began = proc.create_time() if proc is not None else os.stat(out).st_mtime
        except (psutil.Error, OSError):
            began = time.time()
        attempt = Attempt(
            run_id=run_id,
            number=number,
            pid=proc.pid if proc is not None else pid,
            pid_started_at=proc.create_time() if proc is not None else None,
            started_at=datetime.fromtimestamp(began, UTC),
            output_dir=out,
        )
        return attempt, await self.adopt(attempt, spec)

    # ------------------------------------------------------------------ output

    def locate_output(self, run_id: str, number: int) -> str:
        return str(attempt_dir(self.output_root, run_id, number))

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        """Reads the capped file of ``stream`` (``read_output`` of ``output``)."""
        return OutputChunk(*read_output(output_dir, stream, offset, limit))

    # ------------------------------------------------------------------ stop

    async def stop_all(self) -> None:
        """Cancel every running attempt and wait for their outcomes (on_stop = "stop")."""
        handles = list(self._running.values())
        for handle in handles:
            handle.cancel()
        await asyncio.gather(*(h.wait() for h in handles))

    def close(self) -> None:
        """Let the output keeper go (it finishes the pipes it serves, then exits)."""
        self.keeper.close()

    def detach_all(self) -> None:
        """Leave every running attempt alone (on_stop = "detach"); they are adopted later."""
        for handle in list(self._running.values()):
            handle.detach()
        self._schedule.clear()
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None


def _piped_stdio(stdout: int, stderr: int) -> list[tuple[Any, ...]]:
    return [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, stdout, 1),
        (os.POSIX_SPAWN_DUP2, stderr, 2),
    ]


def _find_wrapper(output_dir: str, pid: int | None) -> psutil.Process | None:
    """The live wrapper of the attempt in ``output_dir``: ``pid`` if it still is that
    wrapper, else any process that is (the pid file may not be written yet)."""
    if pid is not None:
        try:
            proc = psutil.Process(pid)
            if is_wrapper_of(proc.cmdline(), output_dir) and proc.status() != psutil.STATUS_ZOMBIE:
                return proc
        except psutil.Error:
            pass
        return None  # it wrote its pid and is gone (the pid may be another process's now)
    for proc in psutil.process_iter(["cmdline"]):
        if is_wrapper_of(proc.info["cmdline"] or [], output_dir):
            return proc
    return None


def _same_process(pid: int | None, created: float | None) -> bool:
    """Is ``pid`` alive and the very process started at ``created``?

    A zombie counts as finished; if it is our own child (a test adopting what it detached)
    it is reaped here, since nobody else will.
    """
    if pid is None or created is None:
        return False
    try:
        proc = psutil.Process(pid)
        same = abs(proc.create_time() - created) < _CREATE_TIME_SLACK
        if same and proc.status() == psutil.STATUS_ZOMBIE:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return False
        return same
    except psutil.Error:
        return False
