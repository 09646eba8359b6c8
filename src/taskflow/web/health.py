"""``/health``: the daemon's health and load as one JSON document, for people and probes.

Read through the blocking client on a fresh connection per request (run in a thread by the
server), so the answer is the daemon's state now, not the last event a dashboard saw.
"""

from __future__ import annotations

import msgspec

from taskflow.client import Client, ClientError
from taskflow.protocol import Health, HealthInfo, Status, StatusInfo

#: Seconds one health read may take before it counts as "does not answer".
HEALTH_TIMEOUT = 5.0


class HealthReport(msgspec.Struct, kw_only=True):
    """``ok`` only when the daemon answered and says its loop is healthy."""

    ok: bool
    socket: str
    health: HealthInfo | None = None
    status: StatusInfo | None = None
    error: str | None = None  # why the daemon could not be asked, one sentence


def read_health(socket_path: str, timeout: float = HEALTH_TIMEOUT) -> HealthReport:
    """Ask the daemon on ``socket_path`` for ``Health`` and ``Status`` (blocking)."""
    try:
        with Client.connect(socket_path, client_name="taskflow-web", timeout=timeout) as client:
            health = client.call(Health())
            status = client.call(Status())
    except ClientError as exc:
        return HealthReport(ok=False, socket=socket_path, error=exc.message)
    return HealthReport(ok=health.ok, socket=socket_path, health=health, status=status)


def encode_report(report: HealthReport) -> bytes:
    """The JSON body of ``/health`` (times RFC 3339, as ``taskflow --json`` prints them)."""
    return msgspec.json.encode(report)
