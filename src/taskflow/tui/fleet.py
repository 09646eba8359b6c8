"""The Hosts view's data: every host of hosts.toml watched at once, off the screen's way.

One ``AsyncClient`` per host (over ``ssh … taskflow bridge`` for remote ones), each with its
own reconnect and backoff: a host that goes away shows as lost and comes back by itself,
and the others are not held up. Every ``POLL_INTERVAL`` each connected host is asked for its
status, breakers and failed runs; a reply that does not come within the client's timeout
leaves that host's last figures and marks it lost. No Textual here (``tui/state.py`` style):
the screen reads ``hosts`` and is told through ``on_change``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from taskflow.client import ClientError
from taskflow.client.aio import AsyncClient, ConnectionState
from taskflow.client.hosts import LOCAL, Host, HostsFile
from taskflow.model import BreakerStatus, RunState
from taskflow.protocol import ListBreakers, ListRuns, Status

POLL_INTERVAL = 5.0
FAILED_WINDOW = timedelta(hours=24)
FAILED_READ = 500  # failed runs read per poll: "500+" beyond


@dataclass
class HostView:
    """What the Hosts view shows of one host."""

    name: str
    where: str  # the ssh destination, or the socket path
    connection: ConnectionState = ConnectionState.CONNECTING
    reason: str = ""
    version: str = ""
    user: str = ""
    role: str = ""
    workers_busy: int = 0
    workers_max: int = 0
    running: int = 0
    queued: int = 0
    failed_24h: int = 0
    failed_more: bool = False  # more failed runs than were read
    open_breakers: int = 0
    seen_at: float | None = None  # when its figures were last read (time.time())

    @property
    def reachable(self) -> bool:
        return self.connection is ConnectionState.CONNECTED


class FleetWatch:
    """``start()`` connects to every host and polls them; ``close()`` stops it all."""

    def __init__(
        self,
        fleet: HostsFile,
        local_socket: str | None,
        on_change: Callable[[], None],
        *,
        interval: float = POLL_INTERVAL,
        timeout: float = 10.0,
    ) -> None:
        self.on_change = on_change
        self.interval = interval
        self.hosts: dict[str, HostView] = {}
        self._clients: dict[str, AsyncClient] = {}
        self._task: asyncio.Task[None] | None = None
        for host in [Host(LOCAL, socket=local_socket), *fleet.hosts.values()]:
            client = AsyncClient(
                host.socket if host.ssh is None else None, host=host, client_name="taskflow-tui-hosts",
                timeout=timeout, backoff_max=10.0,
                on_state=lambda state, reason, name=host.name: self._state(name, state, reason),
            )
            self._clients[host.name] = client
            self.hosts[host.name] = HostView(host.name, host.ssh or str(client.path))

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        for client in self._clients.values():
            client.start()
        self._task = asyncio.create_task(self._poll_forever(), name="taskflow-tui-fleet")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await asyncio.gather(*(c.close() for c in self._clients.values()), return_exceptions=True)

    def _state(self, name: str, state: ConnectionState, reason: str) -> None:
        view = self.hosts[name]
        view.connection, view.reason = state, ("" if state is ConnectionState.CONNECTED else reason)
        if state is ConnectionState.CONNECTED:
            asyncio.get_running_loop().create_task(self._poll(name))  # fresh figures at once
        self.on_change()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.gather(*(self._poll(name) for name in self._clients), return_exceptions=True)
            self.on_change()
            await asyncio.sleep(self.interval)

    async def _poll(self, name: str) -> None:
        client, view = self._clients[name], self.hosts[name]
        if client.welcome is None or client.state is not ConnectionState.CONNECTED:
            return
        try:
            status = await client.call(Status())
            breakers = await client.call(ListBreakers())
            failed = await client.call(ListRuns(state=RunState.FAILED, roots_only=True, limit=FAILED_READ))
        except (ClientError, OSError, TimeoutError) as exc:
            view.reason = str(exc)
            return
        since = datetime.now(UTC) - FAILED_WINDOW
        recent = [r for r in failed if (r.finished_at or r.created_at) >= since]
        view.version, view.user, view.role = status.version, client.welcome.user, str(client.welcome.role)
        view.workers_busy, view.workers_max = status.workers_busy, status.workers_max
        view.running, view.queued = status.counts.get("running", 0), status.queued
        view.failed_24h, view.failed_more = len(recent), len(failed) == FAILED_READ and len(recent) == len(failed)
        view.open_breakers = sum(b.status is BreakerStatus.OPEN for b in breakers)
        view.seen_at = time.time()
        self.on_change()
