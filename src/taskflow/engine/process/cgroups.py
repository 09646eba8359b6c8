"""Per-attempt cgroups (v2): timeout and cancel reach every process a task started.

A process-group kill misses a task's children that call ``setsid`` or daemonize. Where the
daemon may create cgroups below its own (root, or systemd's ``Delegate=yes``), each attempt
gets one, ``<daemon's cgroup>/taskflow-attempts/<run>.<attempt>``. The wrapper shell moves
itself in as its first act (``echo $$ >cgroup.procs``, a builtin: no extra process), so all
it starts is inside. TERM then goes to every process in the cgroup, not just the group, and
the KILL that follows the grace is ``cgroup.kill``. An attempt settles only once its cgroup
is empty too. Without cgroup v2, write access or ``cgroup.kill`` (Linux 5.14), attempts
simply get none and process groups do the job alone.

No controllers are enabled, so the daemon's own cgroup keeps its processes (v2 forbids
processes only in cgroups that delegate controllers to their children).
"""

from __future__ import annotations

import os
import signal

ATTEMPTS_DIR = "taskflow-attempts"


def _own_cgroup() -> str | None:
    """The daemon's cgroup v2 directory, or None (no cgroup2 mount, or v1 only)."""
    try:
        with open("/proc/self/cgroup") as f:
            relative = next((line[3:].strip() for line in f if line.startswith("0::")), None)
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    if relative is None:
        return None
    for fields in mounts:
        # mount point is field 5; the filesystem type follows the " - " separator
        if "-" in fields and fields[fields.index("-") + 1] == "cgroup2":
            return os.path.join(fields[4], relative.lstrip("/"))
    return None


class AttemptCgroups:
    """Creates, signals and removes attempt cgroups under ``base`` (None: not available)."""

    def __init__(self, base: str | None) -> None:
        self.base = base

    @classmethod
    def discover(cls) -> AttemptCgroups:
        """Usable only if a test cgroup can be created here and offers ``cgroup.kill``."""
        own = _own_cgroup()
        if own is None:
            return cls(None)
        base = os.path.join(own, ATTEMPTS_DIR)
        probe = os.path.join(base, f"probe-{os.getpid()}")
        try:
            os.makedirs(probe, exist_ok=True)
            usable = os.path.exists(os.path.join(probe, "cgroup.kill"))
            os.rmdir(probe)
        except OSError:
            return cls(None)
        if not usable:
            return cls(None)
        sweep(base)
        return cls(base)

    def path(self, name: str) -> str | None:
        return None if self.base is None else os.path.join(self.base, name)

    def create(self, name: str) -> str | None:
        """Make the attempt's cgroup; None (process groups only) if that fails."""
        path = self.path(name)
        if path is None:
            return None
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        except OSError:
            return None
        return path


def members(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs"), "rb") as f:
            return [int(pid) for pid in f.read().split()]
    except OSError:
        return []


def cpu_seconds(path: str) -> float | None:
    """CPU seconds the cgroup's processes used, exited ones included (``cpu.stat``)."""
    try:
        with open(os.path.join(path, "cpu.stat"), "rb") as f:
            for line in f:
                key, _, value = line.partition(b" ")
                if key == b"usage_usec":
                    return int(value) / 1e6
    except (OSError, ValueError):
        return None
    return None


def signal_members(path: str, sig: int) -> None:
    """``sig`` to every process in the cgroup; SIGKILL is ``cgroup.kill`` (race-free)."""
    if sig == signal.SIGKILL:
        try:
            with open(os.path.join(path, "cgroup.kill"), "w") as f:
                f.write("1")
            return
        except OSError:
            pass
    for pid in members(path):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def populated(path: str) -> bool:
    """Does the cgroup (or a descendant) still hold a process?"""
    try:
        with open(os.path.join(path, "cgroup.events"), "rb") as f:
            for line in f:
                key, _, value = line.partition(b" ")
                if key == b"populated":
                    return value.strip() == b"1"
    except OSError:
        return False
    return False


def sweep(base: str) -> None:
    """Remove the empty attempt cgroups a previous daemon left (its tasks ended meanwhile)."""
    try:
        entries = [entry.path for entry in os.scandir(base) if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for path in entries:
        remove(path)


def remove(path: str) -> bool:
    """Remove an empty cgroup; False while processes (left behind by the task) remain."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
