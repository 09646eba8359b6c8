"""Per-attempt cgroups (v2): timeout and cancel reach every process a task started.

A process-group kill misses a task's children that call ``setsid`` or daemonize. Where the
daemon may create cgroups below its own (root, or systemd's ``Delegate=yes``), each attempt
gets one of its own below ``<daemon's cgroup>/taskflow-attempts/``. The wrapper shell moves
itself in as its first act (``echo $$ >cgroup.procs``, a builtin: no extra process), so all
it starts is inside. TERM then goes to every process in the cgroup, not just the group, and
the KILL that follows the grace is ``cgroup.kill``. An attempt settles only once its cgroup
is empty too. Without cgroup v2, write access or ``cgroup.kill`` (Linux 5.14), attempts
simply get none and process groups do the job alone.

No controllers are enabled, so the daemon's own cgroup keeps its processes (v2 forbids
processes only in cgroups that delegate controllers to their children).

Cgroups are **pooled**: an ended attempt's cgroup, once empty, waits for the next attempt
instead of being removed (``slot-<pid>-<n>``, up to ``POOL_SIZE`` of them). ``mkdir`` and
``rmdir`` of a cgroup cost the kernel far more than a folder (``rmdir`` waits on RCU): on a
chain of short tasks they were about 0.15 ms of each step's 1.7 ms (``bench/engine_bench.py``).
A reused cgroup's ``cpu.stat`` counts earlier attempts too, so each lend records the count it
starts from (``baseline``). A cgroup that still holds a task's leftovers is never lent again
before they are gone. Recovery finds an adopted attempt's cgroup from its wrapper's
``/proc/PID/cgroup``, whatever its name (older daemons named it ``<run>.<attempt>``).
"""

from __future__ import annotations

import os
import signal

ATTEMPTS_DIR = "taskflow-attempts"
POOL_SIZE = 64  # empty attempt cgroups kept for reuse; more than this are removed


def _cgroup2_mount() -> str | None:
    """Where the cgroup v2 hierarchy is mounted, or None."""
    try:
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    for fields in mounts:
        # mount point is field 5; the filesystem type follows the " - " separator
        if "-" in fields and fields[fields.index("-") + 1] == "cgroup2":
            return fields[4]
    return None


def _own_cgroup() -> str | None:
    """The daemon's cgroup v2 directory, or None (no cgroup2 mount, or v1 only)."""
    try:
        with open("/proc/self/cgroup") as f:
            relative = next((line[3:].strip() for line in f if line.startswith("0::")), None)
    except OSError:
        return None
    mount = _cgroup2_mount()
    if relative is None or mount is None:
        return None
    return os.path.join(mount, relative.lstrip("/"))


class AttemptCgroups:
    """Creates, signals and removes attempt cgroups under ``base`` (None: not available)."""

    def __init__(self, base: str | None) -> None:
        self.base = base
        self._free: list[str] = []  # empty pooled cgroups, ready to lend
        self._mine: set[str] = set()  # the pooled cgroups this process made
        self._baselines: dict[str, float] = {}  # CPU seconds a pooled cgroup had counted when lent
        self._made = 0
        #: Cgroups a previous daemon left that still hold processes: never lent, removed once empty.
        self.leftovers: list[str] = []

    @classmethod
    def discover(cls, folder: str = ATTEMPTS_DIR) -> AttemptCgroups:
        """Usable only if a test cgroup can be created here and offers ``cgroup.kill``.

        ``folder`` (below the process's own cgroup) is swept of what a previous run left; a
        cluster worker on the daemon's host passes one of its own, so neither sweeps the
        other's attempt cgroups."""
        own = _own_cgroup()
        if own is None:
            return cls(None)
        base = os.path.join(own, folder)
        probe = os.path.join(base, f"probe-{os.getpid()}")
        try:
            os.makedirs(probe, exist_ok=True)
            usable = os.path.exists(os.path.join(probe, "cgroup.kill"))
            os.rmdir(probe)
        except OSError:
            return cls(None)
        if not usable:
            return cls(None)
        cgroups = cls(base)
        cgroups.leftovers = sweep(base)
        return cgroups

    def path(self, name: str) -> str | None:
        return None if self.base is None else os.path.join(self.base, name)

    def acquire(self) -> str | None:
        """An empty cgroup for one attempt: a pooled one, else a new one (None: none here)."""
        while self._free:
            path = self._free.pop()
            if os.path.isdir(path):  # not removed behind our back
                return path
            self._mine.discard(path)
        if self.base is None:
            return None
        while True:
            self._made += 1
            path = os.path.join(self.base, f"slot-{os.getpid()}-{self._made}")
            try:
                os.mkdir(path)
            except FileExistsError:
                continue  # a previous daemon's with the same pid, still in use
            except OSError:
                return None
            self._mine.add(path)
            return path

    def pooled(self) -> list[str]:
        """The empty cgroups waiting to be lent, next first."""
        return self._free[::-1]

    def baseline(self, path: str | None) -> float:
        """CPU seconds ``path``'s ``cpu.stat`` had counted when it was lent (0 for a new one)."""
        return 0.0 if path is None else self._baselines.get(path, 0.0)

    def give_back(self, path: str) -> bool:
        """An ended attempt's cgroup: pooled (or removed) once empty; False while a task's
        leftovers still hold it (ask again later)."""
        if populated(path):
            return False
        if path in self._mine and path not in self._free and len(self._free) < POOL_SIZE:
            self._baselines[path] = cpu_seconds(path) or 0.0
            self._free.append(path)
            return True
        if remove(path):
            self._mine.discard(path)
            self._baselines.pop(path, None)
            return True
        return False

    def cgroup_of(self, pid: int) -> str | None:
        """The attempt cgroup (below ``base``) process ``pid`` is in, if it is in one."""
        if self.base is None:
            return None
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                relative = next((line[3:].strip() for line in f if line.startswith("0::")), None)
        except OSError:
            return None
        if relative is None:
            return None
        mount = _cgroup2_mount()
        if mount is None:
            return None
        path = os.path.join(mount, relative.lstrip("/"))
        return path if os.path.dirname(path) == self.base else None

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


def sweep(base: str) -> list[str]:
    """Remove the empty attempt cgroups a previous daemon left (its tasks ended meanwhile);
    returns those that still hold processes."""
    try:
        entries = [entry for entry in os.scandir(base) if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    return [entry.path for entry in entries if not _pooled_by_another(entry.name) and not remove(entry.path)]


def _pooled_by_another(name: str) -> bool:
    """A ``slot-<pid>-<n>`` of another live process (a second daemon or a test on this host):
    empty because it waits in that process's pool, not because it was left behind."""
    if not name.startswith("slot-"):
        return False
    pid = name.split("-")[1]
    return pid.isdigit() and int(pid) != os.getpid() and os.path.exists(f"/proc/{pid}")


def remove(path: str) -> bool:
    """Remove an empty cgroup; False while processes (left behind by the task) remain."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
