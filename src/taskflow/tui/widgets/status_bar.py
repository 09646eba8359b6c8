"""The one-line header: connection, role, workers, queue, host load, uptime, version."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from taskflow.client.aio import ConnectionState
from taskflow.model import Role, format_duration
from taskflow.protocol import StatusInfo, Welcome

_CONNECTION_GLYPHS = {
    ConnectionState.CONNECTED: ("● connected", "success"),
    ConnectionState.CONNECTING: ("◌ connecting", "warning"),
    ConnectionState.RECONNECTING: ("◌ reconnecting", "warning"),
    ConnectionState.DISCONNECTED: ("○ disconnected", "error"),
    ConnectionState.CLOSED: ("○ closed", "error"),
}


class StatusBar(Static):
    """Dense, k9s-style: everything about the daemon's health in one glance."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def show(
        self,
        *,
        welcome: Welcome | None,
        status: StatusInfo | None,
        host: tuple[float, float],
        connection: ConnectionState,
        view: str,
    ) -> None:
        """Re-render from the current figures (cheap: one line of text)."""
        variables = self.app.theme_variables
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("taskflow", style=f"bold {variables.get('primary', '')}")
        label, colour = _CONNECTION_GLYPHS[connection]
        text.append(" ")
        text.append(label, style=variables.get(colour, ""))
        if welcome is not None:
            text.append(f" · {welcome.user} ({welcome.role.value})")
            if welcome.role is Role.VIEWER:
                text.append(" read-only", style=variables.get("warning", ""))
        # Most urgent first: an 80-column SSH session cuts the line from the right.
        if status is not None:
            text.append(f" · workers {status.workers_busy}/{status.workers_max}")
            text.append(f" · queued {status.queued}")
        cpu, memory = host
        text.append(f" · host cpu {cpu:.0f}% mem {memory:.0f}%")
        if status is not None:
            text.append(f" · up {format_duration(status.uptime)}")
            text.append(f" · {status.version}")
        text.append(f" · [{view}]", style=variables.get("muted", ""))
        self.update(text)
