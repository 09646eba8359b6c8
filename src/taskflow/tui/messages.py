"""What the app tells its screens: one ``Message`` per thing that happened.

The app posts these to every live screen; a screen that cares handles them with an
``on_<message>`` method (Textual calls the handler of each class in the screen's MRO, so a
view handles its own part and ``ViewScreen`` the status bar). None of them bubbles: they go
down from the app, never back up. Messages of the same kind that only say "the latest is
what counts" replace a stale one still queued, so a busy screen never works through a
backlog of ticks or frames.
"""

from __future__ import annotations

from textual.message import Message

from taskflow.client.aio import ConnectionState
from taskflow.tui.glyphs import Palette
from taskflow.tui.state import Changes


class WorldChanged(Message, bubble=False):
    """Events, a reply or a full re-read changed the world; ``changes`` says what."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes


class FrameDue(Message, bubble=False):
    """The frame timer fired: write the output buffered since the last frame."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FrameDue)


class FleetChanged(Message, bubble=False):
    """The Hosts view's figures changed (a host answered, went away or came back)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetChanged)


class ClockTick(Message, bubble=False):
    """A second passed (only with a live clock): durations and countdowns move on."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ClockTick)


class ConnectionChanged(Message, bubble=False):
    """The link to the daemon changed state; ``reason`` says why when it is not connected."""

    def __init__(self, state: ConnectionState, reason: str) -> None:
        super().__init__()
        self.state = state
        self.reason = reason

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


class ThemeChanged(Message, bubble=False):
    """Another theme, or the same theme's file edited: repaint with ``palette``."""

    def __init__(self, palette: Palette) -> None:
        super().__init__()
        self.palette = palette

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ThemeChanged)
