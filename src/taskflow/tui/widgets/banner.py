"""The disconnected banner: impossible to miss, says what is happening and what to expect."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from taskflow.client.aio import ConnectionState


class ConnectionBanner(Static):
    """Hidden while connected; otherwise a full-width warning with the client's reason."""

    DEFAULT_CSS = """
    ConnectionBanner {
        display: none; height: auto; background: $error; color: $background;
        text-style: bold; padding: 0 1;
    }
    ConnectionBanner.-visible { display: block; }
    """

    def show(self, state: ConnectionState, reason: str) -> None:
        visible = state is not ConnectionState.CONNECTED
        self.set_class(visible, "-visible")
        if not visible:
            return
        if state is ConnectionState.CONNECTING:
            headline = "Connecting to taskflowd…"
        elif state is ConnectionState.CLOSED:
            headline = "Connection closed."
        else:
            headline = "Lost the connection to taskflowd — reconnecting automatically; data shown may be stale."
        text = Text(headline)
        if reason:
            text.append(f"  ({reason})", style="not bold")
        self.update(text)
