"""How states look: one glyph and one theme variable per run state and breaker status.

Colour comes from the theme (``$state-running``...), the glyph alone still tells states apart
under ``NO_COLOR`` or on a monochrome terminal.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text

from taskflow.model import BreakerStatus, RunState, format_duration

STATE_GLYPHS: dict[RunState, str] = {
    RunState.PENDING: "◌",
    RunState.QUEUED: "○",
    RunState.RUNNING: "▶",
    RunState.RETRYING: "↻",
    RunState.BLOCKED: "⊘",
    RunState.SUCCEEDED: "✔",
    RunState.FAILED: "✘",
    RunState.CANCELLED: "■",
    RunState.SKIPPED: "⤼",
    RunState.INTERRUPTED: "⚡",
}

BREAKER_GLYPHS: dict[BreakerStatus, str] = {
    BreakerStatus.CLOSED: "●",
    BreakerStatus.OPEN: "◉",
    BreakerStatus.HALF_OPEN: "◐",
}

# Fallback colours; themes override them through the same variable names.
DEFAULT_STATE_COLOURS: dict[str, str] = {
    "state-pending": "#8a8f98",
    "state-queued": "#9aa5ce",
    "state-running": "#7aa2f7",
    "state-retrying": "#e0af68",
    "state-blocked": "#ff9e64",
    "state-succeeded": "#9ece6a",
    "state-failed": "#f7768e",
    "state-cancelled": "#a9b1d6",
    "state-skipped": "#737aa2",
    "state-interrupted": "#bb9af7",
    "breaker-closed": "#9ece6a",
    "breaker-open": "#f7768e",
    "breaker-half-open": "#e0af68",
    "marked": "#e0af68",
    "muted": "#737aa2",
}


def state_variable(state: RunState | None) -> str:
    return f"state-{state.value}" if state is not None else "muted"


def breaker_variable(status: BreakerStatus) -> str:
    return "breaker-" + status.value.replace("_", "-")


class Palette:
    """Resolves theme variables to Rich styles; rebuilt when the theme changes."""

    def __init__(self, variables: dict[str, str]) -> None:
        self._styles: dict[str, Style] = {}
        for name, default in DEFAULT_STATE_COLOURS.items():
            self._styles[name] = Style(color=variables.get(name, default))

    def style(self, variable: str) -> Style:
        return self._styles.get(variable, Style())

    def state(self, state: RunState | None) -> Style:
        return self.style(state_variable(state))

    def breaker(self, status: BreakerStatus) -> Style:
        return self.style(breaker_variable(status))


def state_text(state: RunState | None, palette: Palette, *, word: bool = True) -> Text:
    """Glyph (and name) of a run state in its colour; ``-`` for a task that never ran."""
    if state is None:
        return Text("· never" if word else "·", style=palette.style("muted"))
    glyph = STATE_GLYPHS[state]
    return Text(f"{glyph} {state.value}" if word else glyph, style=palette.state(state))


_STATE_ORDER = {state: index for index, state in enumerate(STATE_GLYPHS)}


def append_counts(text: Text, counts: dict[RunState, int], palette: Palette) -> None:
    """A group's children by state after its label, ``  ✔9998 ✘1``, states in one fixed
    order; nothing for a single child or none (its own state says it all)."""
    if not counts or (len(counts) == 1 and sum(counts.values()) == 1):
        return
    text.append(" ")
    for state in sorted(counts, key=_STATE_ORDER.__getitem__):
        text.append(f" {STATE_GLYPHS[state]}{counts[state]}", style=palette.state(state))


def since(start: datetime | None, end: datetime | None, now: datetime) -> str:
    """Duration from ``start`` to ``end`` (or ``now`` while it is still going)."""
    if start is None:
        return ""
    return format_duration(max(0.0, ((end or now) - start).total_seconds()))


def clock_time(at: datetime | None) -> str:
    """A compact UTC timestamp for tables: ``2026-03-01 12:00:05``."""
    if at is None:
        return "-"
    return at.strftime("%Y-%m-%d %H:%M:%S")


def table_time(at: datetime | None) -> str:
    """A UTC timestamp for table columns, year left out so it fits 80 columns: ``03-01 12:00:05``."""
    if at is None:
        return "-"
    return at.strftime("%m-%d %H:%M:%S")
