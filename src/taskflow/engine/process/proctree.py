"""Sampling an attempt's process tree: summed RSS and CPU seconds, straight from ``/proc``.

The sampler asks this every ``sample_interval`` for every running attempt, so it walks only
the attempt's own tree (``/proc/PID/task/TID/children``) instead of scanning every process on
the host. Processes that leave the tree (double-forked daemons re-parented to init) are not
counted; the process-group kill still reaches them unless they also left the group. With
an attempt cgroup the sampler sums its members instead, which includes those.
"""

from __future__ import annotations

import os

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = float(os.sysconf("SC_CLK_TCK"))


class TreeSample:
    """One look at a process tree."""

    __slots__ = ("cpu", "pids", "rss")

    def __init__(self) -> None:
        self.rss = 0  # bytes, summed over live processes
        self.cpu = 0.0  # seconds: live processes plus the children they have reaped
        self.pids: list[int] = []

    def add(self, pid: int) -> bool:
        """Count ``pid``; False when it is gone or a zombie."""
        stat = _stat(pid)
        if stat is None:
            return False
        self.pids.append(pid)
        self.rss += stat[0]
        self.cpu += stat[1]
        return True


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                kids.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return kids


def _stat(pid: int) -> tuple[int, float] | None:
    """(rss bytes, cpu seconds incl. reaped children) of one process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # Fields after the command name, which may contain spaces and parentheses.
    fields = raw[raw.rfind(b")") + 2 :].split()
    if fields[0] == b"Z":
        return None
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    rss_pages = int(fields[21])
    return rss_pages * _PAGE, (utime + stime + cutime + cstime) / _TICK


def sample_tree(root: int) -> TreeSample:
    """Sum RSS and CPU over ``root`` and all its descendants alive right now."""
    sample = TreeSample()
    stack = [root]
    while stack:
        pid = stack.pop()
        if sample.add(pid):
            stack.extend(_children(pid))
    return sample


def sample_pids(pids: list[int]) -> TreeSample:
    """Sum RSS and CPU over exactly these processes (an attempt cgroup's members)."""
    sample = TreeSample()
    for pid in pids:
        sample.add(pid)
    return sample


def group_alive(pgid: int) -> bool:
    """Does process group ``pgid`` still have a member that is not a zombie?

    ``killpg(pgid, 0)`` alone is not enough: orphans re-parented to an init that reaps
    lazily stay zombies in the group, and a zombie runs nothing.
    """
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False
