"""``RunningAttempt``: one attempt's process, watched from the event loop until it ends.

The wrapper shell is watched through a pidfd (readable when it exits, works for processes
that are not our children, which adoption needs) and reaped with ``wait4`` for its status and
rusage. Timeout and cancel share one path: TERM the process group, wait ``stop_grace``, KILL.
The outcome is settled only once the wrapper has exited *and* the group is gone (or KILLed),
so a timed-out tree never outlives its attempt.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import time
from datetime import datetime
from typing import Protocol

from taskflow.engine.executor import AttemptOutcome, ProgressCallback, ResourceUsage
from taskflow.engine.process.cgroups import cpu_seconds, members, populated, signal_members
from taskflow.engine.process.outcome import Ending, classify, read_python_result, read_shell_result
from taskflow.engine.process.output import (
    CONTROL_FILE,
    RESULT_FILE,
    STATUS_FILE,
    STREAMS,
    TASK_RESULT_FILE,
    StreamCap,
)
from taskflow.engine.process.proctree import group_alive, sample_pids, sample_tree
from taskflow.engine.process.sampling import next_interval
from taskflow.engine.process.wrapper import read_status

KILL_WAIT = 5.0  # seconds after SIGKILL before an unkillable tree is given up on
DRAIN_WAIT = 0.5  # seconds an ended attempt waits for the keeper to write its last output


def _own_maxrss(child_maxrss_kib: int) -> int | None:
    """The child's ``ru_maxrss`` in bytes, or None when it may just be ours.

    posix_spawn clones the daemon's memory (vfork), and Linux folds the high-water mark of
    that shared memory into the child's ``maxrss`` at exec; so a value not above the daemon's
    own peak says nothing about the task.
    """
    if child_maxrss_kib <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss:
        return None
    return child_maxrss_kib * 1024


class AttemptHost(Protocol):
    """What an attempt needs from the executor that started it."""

    @property
    def stop_grace(self) -> float: ...
    @property
    def output_cap(self) -> int: ...
    @property
    def on_progress(self) -> ProgressCallback | None: ...

    def forget(self, handle: RunningAttempt) -> None:
        """Stop sampling ``handle``: it ended or was detached."""
        ...

    def hurry(self, handle: RunningAttempt) -> None:
        """Sample ``handle`` soon, whatever its schedule said (it is being stopped)."""
        ...

    def release_cgroup(self, path: str) -> None:
        """Give back an ended attempt's cgroup (now or once its leftovers are gone)."""
        ...


class RunningAttempt:
    """A started (or adopted) attempt. ``wait()`` gives its outcome, None if detached."""

    def __init__(
        self,
        host: AttemptHost,
        *,
        run_id: str,
        output_dir: str,
        started_at: datetime,
        pid: int | None,
        pid_started_at: float | None,
        python: bool,
        memory_limit: int | None,
        cpu_limit: float | None,
    ) -> None:
        self.pid = pid
        self.pid_started_at = pid_started_at
        self.output_dir = output_dir
        self.started_at = started_at
        # started_at on the monotonic clock, for the sampling schedule (adopted: in the past)
        self._born = time.monotonic() - max(time.time() - started_at.timestamp(), 0.0)
        self.run_id = run_id
        self._host = host
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[AttemptOutcome | None] = self._loop.create_future()
        self._python = python
        self._ending = Ending(memory_limit=memory_limit, cpu_limit=cpu_limit)
        self._caps = [StreamCap(os.path.join(output_dir, s), host.output_cap) for s in STREAMS]
        self._pidfd: int | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._kill_timer: asyncio.TimerHandle | None = None
        self._reaped = False  # the wrapper has exited
        self._terminating = False
        self._control_offset = 0
        self._killed_at: float | None = None
        self.cgroup: str | None = None  # the attempt's own cgroup, when the executor made one
        self.cgroup_cpu_base = 0.0  # what a pooled cgroup's cpu.stat had counted before this attempt
        # Resolves when the output keeper has written the last byte (None: no keeper).
        self.drain: asyncio.Future[None] | None = None
        self._drain_timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ public

    async def wait(self) -> AttemptOutcome | None:
        """The outcome once the attempt ended; None if it was detached. Safe to await twice."""
        return await asyncio.shield(self._future)

    @property
    def done(self) -> bool:
        return self._future.done()

    def cancel(self) -> None:
        """TERM the whole process group, KILL it ``stop_grace`` seconds later.

        The outcome says ``cancelled`` (``error_type`` SIGNAL); the engine marks the run.
        """
        if self._future.done() or self.pid is None:
            return
        self._ending.cancelled = True
        self._terminate()

    def usage(self) -> ResourceUsage:
        """Peak resident memory and CPU seconds of the attempt's tree so far."""
        return ResourceUsage(self._ending.peak_rss, self._ending.cpu_seconds)

    def detach(self) -> None:
        """Stop watching and leave the process running (daemon stopping with on_stop=detach)."""
        if self._future.done():
            return
        self._stop_watching()
        self._host.forget(self)
        self._future.set_result(None)

    # ------------------------------------------------------------------ executor side

    def watch(self, timeout: float | None, elapsed: float = 0.0) -> None:
        """Start watching the wrapper's exit; expire the attempt ``timeout`` seconds after it began."""
        assert self.pid is not None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:  # adopted and gone already
            self._loop.call_soon(self._on_exit)
            return
        self._loop.add_reader(self._pidfd, self._on_exit)
        if timeout is not None:
            self._timers.append(self._loop.call_later(max(timeout - elapsed, 0.0), self._expire, timeout))

    def fail_to_start(self, error: str) -> None:
        """Settle an attempt whose process could not be started."""
        self._ending.spawn_error = error
        self._settle()

    def _expire(self, timeout: float) -> None:
        if not self._future.done() and not self._ending.cancelled:
            self._ending.timed_out = timeout
            self._terminate()

    def _terminate(self) -> None:
        if self._terminating:
            return
        self._terminating = True
        self._signal_group(signal.SIGTERM)
        self._kill_timer = self._loop.call_later(self._host.stop_grace, self._kill_hard)
        self._host.hurry(self)

    def _kill_hard(self) -> None:
        if self._future.done():
            return
        if self._group_alive():
            self._ending.killed_hard = True
            self._signal_group(signal.SIGKILL)
            self._killed_at = time.monotonic()
        elif self._reaped:
            self._settle()

    def _signal_group(self, sig: int) -> None:
        """``sig`` to the process group and, with a cgroup, to whatever left the group."""
        assert self.pid is not None
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass
        if self.cgroup is not None:
            signal_members(self.cgroup, sig)

    def _group_alive(self) -> bool:
        assert self.pid is not None
        # One file read before the /proc scan of group_alive.
        return (self.cgroup is not None and populated(self.cgroup)) or group_alive(self.pid)

    def _on_exit(self) -> None:
        """The pidfd became readable: the wrapper exited."""
        if self._reaped or self.pid is None:
            return
        try:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:  # adopted from a previous daemon: not our child
            self._ending.recorded_status = read_status(os.path.join(self.output_dir, STATUS_FILE))
        else:
            if pid == 0:
                return  # spurious wake-up
            self._ending.wait_status = status
            self._merge(_own_maxrss(usage.ru_maxrss), usage.ru_utime + usage.ru_stime)
        self._reaped = True
        self._stop_reader()
        if self._terminating and self._group_alive():
            self._host.hurry(self)
            return  # stragglers got TERM (or KILL); the sampler settles once they are gone
        self._settle()

    def _stop_waiting_for_output(self) -> None:
        self.drain = None  # what the keeper writes later still lands in the files
        self._settle()

    def _merge(self, rss: int | None, cpu: float | None) -> None:
        e = self._ending
        if rss is not None:
            e.peak_rss = rss if e.peak_rss is None else max(e.peak_rss, rss)
        if cpu is not None:
            e.cpu_seconds = cpu if e.cpu_seconds is None else max(e.cpu_seconds, cpu)

    def next_sample(self, base: float) -> float:
        """Seconds until the sampler should look again (``sampling.next_interval``)."""
        watched = self._ending.memory_limit is not None or self._python or self.drain is None
        return next_interval(
            base, time.monotonic() - self._born, watched=watched, stopping=self._terminating or self._reaped
        )

    def sample(self) -> None:
        """Called by the executor's sampler: usage, memory limit, output cap, progress."""
        if self._future.done():
            return
        if self._reaped:
            # Settle once the TERMed/KILLed tree is really gone, so a retry never overlaps
            # it; a process stuck in the kernel past KILL_WAIT does not hold the run forever.
            overdue = self._killed_at is not None and time.monotonic() - self._killed_at > KILL_WAIT
            if overdue or not self._group_alive():
                self._settle()
            return
        assert self.pid is not None
        inside = members(self.cgroup) if self.cgroup is not None else []
        tree = sample_pids(inside) if inside else sample_tree(self.pid)  # empty: the move failed
        if tree.pids:
            # The cgroup's own CPU account also holds what its exited processes used.
            counted = cpu_seconds(self.cgroup) if inside and self.cgroup is not None else None
            cpu = None if counted is None else counted - self.cgroup_cpu_base
            self._merge(tree.rss, tree.cpu if cpu is None else max(cpu, tree.cpu))
        limit = self._ending.memory_limit
        if limit is not None and tree.rss > limit and not self._ending.memory_killed:
            self._ending.memory_killed = True
            self._ending.killed_hard = True
            self._terminating = True
            self._killed_at = time.monotonic()
            self._signal_group(signal.SIGKILL)  # no grace: memory is what is running out
        for cap in self._caps:
            cap.check()
        if self._python:
            self._read_progress()

    def _read_progress(self) -> None:
        callback = self._host.on_progress
        if callback is None:
            return
        path = os.path.join(self.output_dir, CONTROL_FILE)
        try:
            with open(path, "rb") as f:
                f.seek(self._control_offset)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._control_offset += end + 1
        latest = None
        for line in chunk[:end].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "progress" in record:
                latest = record
        if latest is not None:
            callback(self.run_id, float(latest["progress"]), latest.get("message"))

    def _stop_reader(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def _stop_watching(self) -> None:
        self._stop_reader()
        for timer in self._timers:
            timer.cancel()
        if self._kill_timer is not None:
            self._kill_timer.cancel()

    def _settle(self) -> None:
        """Classify and publish the outcome, exactly once — after the output is all written."""
        if self._future.done():
            return
        drain = self.drain
        if drain is not None and not drain.done():
            if self._drain_timer is None:  # a leftover child may hold the pipes for ever
                drain.add_done_callback(lambda _fut: self._settle())
                self._drain_timer = self._loop.call_later(DRAIN_WAIT, self._stop_waiting_for_output)
            return
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        self._stop_watching()
        self._host.forget(self)
        if self.cgroup is not None:
            self._host.release_cgroup(self.cgroup)
        size = cut = 0
        for cap in self._caps:
            try:
                cap.finish()
            except OSError:
                pass
            size += cap.size
            cut += cap.cut
        if self._python and self._ending.spawn_error is None:
            self._read_progress()
            self._ending.python_result = read_python_result(os.path.join(self.output_dir, RESULT_FILE))
        elif self._ending.spawn_error is None:
            self._ending.shell_result = read_shell_result(os.path.join(self.output_dir, TASK_RESULT_FILE))
        e = self._ending
        if e.memory_limit is not None and e.peak_rss is not None and e.peak_rss > e.memory_limit:
            e.maxrss_exceeded = True
        self._future.set_result(classify(e, size, cut))
