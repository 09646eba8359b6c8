"""Requests about the daemon and the connection itself: status, health, reload, subscriptions.

Their results are daemon views or topic lists, not model types, so this module loads no run
or task Structs: ``taskflow status --json`` (what monitoring polls) imports only this, and the
blocking client can tell a ``Subscribe`` without loading the rest. ``task_requests`` re-exports
them with every other request.
"""

from __future__ import annotations

from taskflow.protocol.daemon_views import HealthInfo, ReloadInfo, StatusInfo
from taskflow.protocol.request_base import Request


class Status(Request[StatusInfo], kw_only=True):
    """Daemon version, pid, uptime, workers and run counts."""


class Health(Request[HealthInfo], kw_only=True):
    """Whether the daemon answers and its loop keeps up."""


# A mutation (operator or admin; the daemon's handler checks the role).
class Reload(Request[ReloadInfo], kw_only=True):
    """Re-read config and task files now (as SIGHUP does)."""


# Subscriptions (handled by the server transport itself)
class Subscribe(Request[list[str]], kw_only=True):
    """Replace this connection's subscription; the result lists the topics now subscribed.

    ``run_id`` limits run, attempt and log events to that run and the tree below it.
    """

    topics: list[str]
    run_id: str | None = None


class Unsubscribe(Request[list[str]], kw_only=True):
    """Stop all pushed events on this connection."""
