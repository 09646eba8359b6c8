"""Hosts: every host of hosts.toml at once — reachable, version, role, workers, running,
failed in the last 24 h, open breakers — live; enter drives the selected one's daemon.

The figures come from the app's ``FleetWatch`` (one connection per host, each reconnecting
by itself); this screen only turns them into rows, once a second and when they change.
"""

from __future__ import annotations

from rich.text import Text

from taskflow.client.aio import ConnectionState
from taskflow.tui.bindings import HOSTS_BINDINGS
from taskflow.tui.fleet import HostView
from taskflow.tui.glyphs import Palette
from taskflow.tui.messages import ClockTick, FleetChanged, ThemeChanged
from taskflow.tui.screens.base import TableViewScreen

_STATE = {
    ConnectionState.CONNECTED: ("● up", "success"),
    ConnectionState.CONNECTING: ("◌ connecting", "warning"),
    ConnectionState.RECONNECTING: ("○ lost", "error"),
    ConnectionState.DISCONNECTED: ("○ lost", "error"),
    ConnectionState.CLOSED: ("○ closed", "muted"),
}


def host_cells(view: HostView, current: str, palette: Palette) -> tuple[Text, ...]:
    label, colour = _STATE[view.connection]
    name = Text(("▸ " if view.name == current else "  ") + view.name, style="bold" if view.name == current else "")
    seen = view.seen_at is not None
    failed = f"{view.failed_24h}{'+' if view.failed_more else ''}" if seen else "-"
    return (
        name,
        Text(label, style=palette.style(colour)),
        Text(view.version or "-"),
        Text(view.role or "-"),
        Text(f"{view.workers_busy}/{view.workers_max}" if seen else "-"),
        Text(str(view.running) if seen else "-"),
        Text(failed, style=palette.style("error") if view.failed_24h else ""),
        Text(str(view.open_breakers) if seen else "-", style=palette.style("error") if view.open_breakers else ""),
        Text(view.reason if not view.reachable else view.where, style=palette.style("muted")),
    )


class HostsScreen(TableViewScreen):
    """``:hosts`` (or ``5``); enter switches the dashboard to the selected host."""

    VIEW_NAME = "hosts"
    COLUMNS = ["host", "state", "version", "role", "workers", "run", "fail 24h", "brk open", "where / why lost"]
    TABLE_TITLE = "Hosts (hosts.toml)"
    BINDINGS = HOSTS_BINDINGS
    DEFAULT_CSS = "HostsScreen DiffTable { height: 1fr; border: round $primary; }"

    def _rows(self) -> list[tuple[str, tuple[Text, ...]]]:
        fleet = self.session.fleet_watch
        if fleet is None:
            return []
        palette, current = self.session.palette, self.session.target
        return [(name, host_cells(view, current, palette)) for name, view in fleet.hosts.items()]

    def on_mount(self) -> None:
        self.session.watch_fleet()
        super().on_mount()

    def reload(self) -> None:
        if self.is_mounted and self.table.columns:
            self.table.sync(self.keep(self._rows()))

    def on_fleet_changed(self, message: FleetChanged) -> None:
        self.reload()

    def on_clock_tick(self, message: ClockTick) -> None:
        self.reload()

    def on_theme_changed(self, message: ThemeChanged) -> None:
        if self.is_mounted and self.table.columns:
            self.table.rebuild(self.keep(self._rows()))

    def action_open_host(self) -> None:
        name = self.table.selected_key
        if name is not None:
            self.session.switch_host(name)

    def on_data_table_row_selected(self) -> None:  # enter on a row
        self.action_open_host()
