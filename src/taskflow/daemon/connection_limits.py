"""How many client connections the daemon admits: per user, in total, and a reserve for admins.

The ledger only decides and counts (``admit`` / ``release``); the server acts on its answer.
``fit_to_fd_limit`` lowers the configured total when the process's open-file limit could
not hold that many connections plus what tasks and the store need, so connections are
refused with a sentence long before ``accept`` would fail with EMFILE.
"""

from __future__ import annotations

import logging
import os
import resource
from collections import Counter

from taskflow.daemon.peercred import Peer
from taskflow.model import Role
from taskflow.model.config import ConnectionLimits

log = logging.getLogger(__name__)

# File descriptors kept out of the connection budget: task pipes, the store, log files,
# refusals being written. At least this many, or an eighth of the limit when that is more.
FD_HEADROOM = 32


class ConnectionLedger:
    """Live connections by uid and in total, against ``ConnectionLimits``."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.total = 0
        self._by_uid: Counter[int] = Counter()

    def admit(self, peer: Peer) -> str | None:
        """Count ``peer``'s new connection, or return the one-sentence reason it is refused.

        Admins (root) are bound only by ``max_total``; everyone else by ``max_per_user`` and
        by ``max_total - admin_reserve``, so the last slots stay free for an admin.
        """
        limits = self.limits
        admin = peer.role is Role.ADMIN
        if not admin and self._by_uid[peer.uid] >= limits.max_per_user:
            return (
                f"too many connections from user {peer.user} (uid {peer.uid}, limit "
                f"{limits.max_per_user} per user); close some and retry"
            )
        if admin and self.total >= limits.max_total:
            return f"taskflowd has too many client connections (limit {limits.max_total}); close some and retry"
        if not admin and self.total >= limits.max_total - limits.admin_reserve:
            return (
                f"taskflowd has too many client connections (limit {limits.max_total}, the last "
                f"{limits.admin_reserve} kept for admins); close some and retry"
            )
        self.total += 1
        self._by_uid[peer.uid] += 1
        return None

    def release(self, peer: Peer) -> None:
        """A connection ``admit`` counted has closed."""
        self.total -= 1
        self._by_uid[peer.uid] -= 1
        if self._by_uid[peer.uid] <= 0:
            del self._by_uid[peer.uid]


def open_file_limit() -> int | None:
    """The soft ``RLIMIT_NOFILE`` of this process, ``None`` when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def open_fd_count() -> int:
    """File descriptors this process has open now (0 when ``/proc`` cannot tell)."""
    try:
        return max(0, len(os.listdir("/proc/self/fd")) - 1)  # minus listdir's own
    except OSError:
        return 0


def fit_to_fd_limit(limits: ConnectionLimits, fd_limit: int | None, in_use: int) -> ConnectionLimits:
    """``limits`` with ``max_total`` lowered (and logged) to what ``fd_limit`` leaves room for."""
    if fd_limit is None:
        return limits
    budget = fd_limit - in_use - max(FD_HEADROOM, fd_limit // 8)
    if limits.max_total <= budget:
        return limits
    total = max(1, budget)
    fitted = ConnectionLimits(
        max_per_user=min(limits.max_per_user, total),
        max_total=total,
        admin_reserve=min(limits.admin_reserve, total - 1),
    )
    log.warning(
        "the open-file limit (%d, %d in use) leaves room for %d client connections: "
        "connections.max_total lowered from %d to %d, %d kept for admins; raise LimitNOFILE for more",
        fd_limit, in_use, total, limits.max_total, fitted.max_total, fitted.admin_reserve,
    )
    return fitted
