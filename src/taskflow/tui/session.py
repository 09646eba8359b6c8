"""What screens, dialogs and actions see of the app: one session with one daemon.

``Session`` is the app's typed face towards its screens. They depend on this protocol, not
on ``TaskflowApp``, so the app can import its screens without the screens importing it
back. ``TaskflowApp`` satisfies it; the screens' ``session`` property hands it out.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from taskflow.client.aio import AsyncClient, ConnectionState
from taskflow.model import BreakerState, TaskSpec
from taskflow.protocol import Request, TaskInfo
from taskflow.tui.clock import Clock
from taskflow.tui.fleet import FleetWatch
from taskflow.tui.glyphs import Palette
from taskflow.tui.state import Changes, WorldState

R = TypeVar("R")


class Session(Protocol):
    """The world as last seen, the link to the daemon, and the requests screens send.

    ``client`` is ``None`` for an offline snapshot (tests, screenshots): there is nothing
    to fetch, follow or send to then.
    """

    world: WorldState
    palette: Palette
    clock: Clock
    host: tuple[float, float]  # cpu and memory use of this machine, in percent
    connection: ConnectionState
    connection_reason: str
    client: AsyncClient | None
    socket_path: str | None
    live_clock: bool
    confirm_run: bool
    target: str  # the host whose daemon this is ("local" unless hosts.toml names others)
    target_label: str | None  # the host the header names (None: no fleet, the local daemon)
    fleet_watch: FleetWatch | None  # the Hosts view's figures, once it was opened

    def watch_fleet(self) -> None:
        """Start watching every host of hosts.toml (the Hosts view calls it)."""

    def switch_host(self, name: str) -> None:
        """Drive host ``name``'s daemon from now on (the dashboard re-reads everything)."""

    async def request(self, request: Request[R]) -> R | None:
        """Send ``request``; on failure show the daemon's reason and return ``None``."""

    async def task_spec(self, name: str) -> TaskSpec | None:
        """The resolved definition of task ``name`` (cached until the task changes)."""

    async def load_run_tree(self, run_id: str) -> None:
        """Fetch a run tree with its attempts into the world."""

    def missed_changes(self, mode: str) -> Changes:
        """What changed in the world while view ``mode`` was not shown (and forget it)."""

    async def load_audit(self) -> None:
        """Re-read the audit log into the world."""

    def apply_task(self, info: TaskInfo) -> None:
        """Take the daemon's answer about a task into the world at once."""

    def apply_breaker(self, state: BreakerState) -> None:
        """Take the daemon's answer about a breaker into the world at once."""
