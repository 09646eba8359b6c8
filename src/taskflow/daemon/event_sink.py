"""The one thing event producers in the daemon need of the server: publish to a topic.

The relay, the output tail and the heartbeat depend on this, not on ``Server``, so each can
be read (and driven) without the socket.
"""

from __future__ import annotations

from typing import Any, Protocol


class EventSink(Protocol):
    """Where protocol events go: the server's subscribers."""

    def has_subscribers(self, topic: str) -> bool:
        """Whether anyone listens on ``topic`` (lets producers skip work nobody reads)."""
        ...

    def publish(self, topic: str, event: Any) -> None:
        """Send ``event`` to every subscriber of ``topic``; never blocks."""
        ...
