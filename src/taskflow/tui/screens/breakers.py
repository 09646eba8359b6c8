"""Circuit breakers: every service's state, failures, when it opened, countdown to half-open."""

from __future__ import annotations

from rich.text import Text

from taskflow.model import BreakerState, BreakerStatus, format_duration
from taskflow.tui.bindings import BREAKER_BINDINGS
from taskflow.tui.glyphs import BREAKER_GLYPHS, Palette, table_time
from taskflow.tui.messages import ClockTick, ThemeChanged, WorldChanged
from taskflow.tui.screens.base import TableViewScreen


def breaker_cells(state: BreakerState, palette: Palette, now_ts: float) -> tuple[Text, ...]:
    """One row; the countdown is computed against the injected clock."""
    status = Text(f"{BREAKER_GLYPHS[state.status]} {state.status.value.replace('_', '-')}", style=palette.breaker(state.status))
    countdown = "-"
    if state.status is BreakerStatus.OPEN and state.half_open_at is not None:
        countdown = format_duration(max(0.0, state.half_open_at.timestamp() - now_ts))
    return (
        Text(state.service, style="bold"),
        status,
        Text(str(state.consecutive_failures)),
        Text(table_time(state.opened_at)),
        Text(countdown),
        Text(state.tripped_by or "-"),
    )


class BreakersScreen(TableViewScreen):
    """Trip (``t``) and reset (``o``) with confirmation; the countdown ticks each second."""

    VIEW_NAME = "breakers"
    COLUMNS = ["service", "state", "failures", "opened at", "half-open in", "tripped by"]
    TABLE_TITLE = "Circuit breakers"
    BINDINGS = BREAKER_BINDINGS
    DEFAULT_CSS = "BreakersScreen DiffTable { height: 1fr; border: round $primary; }"

    def _rows(self) -> list[tuple[str, tuple[Text, ...]]]:
        now = self.session.clock().timestamp()
        palette = self.session.palette
        world = self.session.world
        return [(name, breaker_cells(world.breakers[name], palette, now)) for name in sorted(world.breakers)]

    def reload(self) -> None:
        if self.is_mounted and self.table.columns:
            self.table.sync(self.keep(self._rows()))

    def on_world_changed(self, message: WorldChanged) -> None:
        if message.changes.breakers or message.changes.resync:
            self.reload()

    def on_clock_tick(self, message: ClockTick) -> None:
        self.reload()  # the half-open countdowns

    def on_theme_changed(self, message: ThemeChanged) -> None:
        # Every cell is coloured: redraw them all (``ViewScreen``'s handler then reloads).
        if self.is_mounted and self.table.columns:
            self.table.rebuild(self.keep(self._rows()))

    def action_trip_breaker(self) -> None:
        service = self.table.selected_key
        if service is not None:
            self.actions.trip(service)

    def action_reset_breaker(self) -> None:
        service = self.table.selected_key
        if service is not None:
            self.actions.reset(service)
