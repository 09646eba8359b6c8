"""The one-line header: connection, role, workers, queue, host load, uptime, version, systemd unit, view."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.widgets import Static

from taskflow.client.aio import ConnectionState
from taskflow.model import Role, format_duration
from taskflow.protocol import StatusInfo, Welcome
from taskflow.tui.widgets.detail import cluster_summary

_CONNECTION_GLYPHS = {
    ConnectionState.CONNECTED: ("● connected", "success"),
    ConnectionState.CONNECTING: ("◌ connecting", "warning"),
    ConnectionState.RECONNECTING: ("◌ reconnecting", "warning"),
    ConnectionState.DISCONNECTED: ("○ disconnected", "error"),
    ConnectionState.CLOSED: ("○ closed", "error"),
}


#: Parts left out, in this order, while the line is too wide for the terminal.
DROP_ORDER = ("systemd", "version", "view", "brand", "uptime", "memory")


class Part(NamedTuple):
    name: str
    text: str
    short: str  # the same at narrow widths
    style: str = ""
    sep: str = " · "  # what goes before it


class StatusBar(Static):
    """Dense, k9s-style: everything about the daemon's health in one glance. At narrow widths
    labels shorten and the least urgent parts go (version, uptime, ...) rather than the line
    being cut at the right edge."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    _parts: list[Part] = []
    _shown: Text | None = None

    def show(
        self,
        *,
        welcome: Welcome | None,
        status: StatusInfo | None,
        host: tuple[float, float],
        connection: ConnectionState,
        view: str,
        read_only: bool = False,
        target: str | None = None,
    ) -> None:
        """Re-render from the current figures (cheap: one line of text). ``read_only``: the
        client was opened read-only, so it says "read-only" whatever the role; ``target``: the
        host whose daemon this is (named once hosts.toml offers more than one)."""
        variables = self.app.theme_variables
        label, colour = _CONNECTION_GLYPHS[connection]
        # Connected is the normal case: at narrow widths its glyph says it.
        short_label = label.split(" ")[0] if connection is ConnectionState.CONNECTED else label
        parts = [
            Part("brand", "taskflow", "taskflow", f"bold {variables.get('primary', '')}", ""),
            Part("connection", label, short_label, variables.get(colour, ""), " "),
        ]
        if target is not None:
            parts.append(Part("host", f"host {target}", f"@{target}", f"bold {variables.get('accent', '')}"))
        if welcome is not None:
            user = f"{welcome.user} ({welcome.role.value})"
            parts.append(Part("user", user, user))
            if welcome.role is Role.VIEWER or read_only:
                parts.append(Part("read-only", "read-only", "read-only", variables.get("warning", ""), " "))
        # Most urgent first: what is left out at narrow widths comes last.
        if status is not None:
            busy = f"{status.workers_busy}/{status.workers_max}"
            parts.append(Part("workers", f"workers {busy}", f"workers {busy}"))
            parts.append(Part("queued", f"queued {status.queued}", f"queued {status.queued}"))
            held = paused_text(status)
            if held is not None:
                parts.append(Part("paused", f"⏸ paused {held}", f"⏸ {held}", variables.get("warning", "")))
            if status.cluster is not None:  # the dask executor: its cluster at a glance
                summary = cluster_summary(status.cluster)
                if status.cluster.connected:
                    short = summary.replace(" workers,", "w").replace(" worker,", "w")
                    parts.append(Part("cluster", summary, short))
                else:
                    parts.append(Part("cluster", f"⚠ {summary}", f"⚠ {summary}", variables.get("error", "")))
        cpu, memory = host
        parts.append(Part("cpu", f"host cpu {cpu:.0f}%", f"cpu {cpu:.0f}%"))
        parts.append(Part("memory", f"mem {memory:.0f}%", f"mem {memory:.0f}%", sep=" "))
        if status is not None:
            uptime = uptime_text(status.uptime)
            parts.append(Part("uptime", f"up {uptime}", f"up {uptime}"))
            parts.append(Part("version", status.version, status.version))
            if status.systemd is not None:  # systemd started the daemon: say which unit
                manager = "systemd --user" if status.systemd.manager == "user" else "systemd"
                label = f"{manager} {status.systemd.unit}" if status.systemd.unit else manager
                parts.append(Part("systemd", label, manager, variables.get("muted", "")))
        parts.append(Part("view", f"[{view}]", f"[{view}]", variables.get("muted", "")))
        self._parts = parts
        self._render_parts()

    def on_resize(self) -> None:
        if self._parts:
            self._render_parts()

    def _render_parts(self) -> None:
        width = self.content_size.width or self.app.size.width - 2
        parts = self._parts
        for dropped in range(len(DROP_ORDER) + 1):
            kept = [p for p in parts if p.name not in DROP_ORDER[:dropped]]
            for short in (False, True):
                text = _line(kept, short)
                if text.cell_len <= width:
                    self._show(text)
                    return
        self._show(text)  # still too wide: cut at the right edge with an ellipsis

    def _show(self, text: Text) -> None:
        # Over SSH every repaint is bytes on the wire: an unchanged line is not sent again,
        # and a changed one needs no layout pass (the bar is always one line, full width),
        # which would otherwise repaint other widgets' scrollbar areas as well.
        if self._shown is not None and text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)


def uptime_text(seconds: float) -> str:
    """The daemon's uptime to the minute (``<1m``, ``51m``, ``1h06m``): the daemon reports it
    every second, and a figure that changes each second repaints the line each second — over
    SSH, 300 bytes a second for a number nobody reads to the second."""
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return format_duration(seconds)


def _line(parts: list[Part], short: bool) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, part in enumerate(parts):
        if index:
            # "● alice (operator)", not "● · alice (operator)", once "connected" is a glyph.
            glyph_only = short and parts[index - 1].name == "connection" and " " not in parts[index - 1].short
            text.append(" " if glyph_only else part.sep)
        text.append(part.short if short else part.text, style=part.style)
    return text


def paused_text(status: StatusInfo) -> str | None:
    """What is held, briefly: ``all``, ``pool db``, ``2 pools, 1 task``; None when nothing."""
    paused = status.paused
    if paused is None or not paused.any:
        return None
    if paused.all:
        return "all"
    pools = sorted({*paused.pools, *paused.zero_pools})
    held: list[str] = []
    if len(pools) == 1:
        held.append(f"pool {pools[0]}")
    elif pools:
        held.append(f"{len(pools)} pools")
    if len(paused.tasks) == 1:
        held.append(f"task {paused.tasks[0]}")
    elif paused.tasks:
        held.append(f"{len(paused.tasks)} tasks")
    return ", ".join(held)
