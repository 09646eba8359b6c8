"""The engine's in-process event bus.

The engine publishes model objects (``Run``, ``Attempt``, ``BreakerState``, task changes) on
named topics; the daemon forwards them to socket subscribers. Publishing never blocks and a
failing subscriber never affects the engine or other subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[str, Any], None]

RUNS = "runs"
ATTEMPTS = "attempts"
TASKS = "tasks"
BREAKERS = "breakers"
STATS = "stats"


class EventBus:
    """Synchronous fan-out to registered callables, in registration order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register ``subscriber(topic, payload)``; returns a function that unregisters it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, topic: str, payload: Any) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(topic, payload)
            except Exception:  # a broken subscriber must not break the engine
                log.exception("event subscriber failed on topic %s", topic)
