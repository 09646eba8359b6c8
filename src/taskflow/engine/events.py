"""The engine's events, one type each, and the in-process bus that carries them.

The ledger publishes ``RunUpdated``, ``AttemptUpdated`` and ``BreakerChanged``; the engine
publishes ``TaskChanged`` and ``TasksUpdated``. The daemon translates them to protocol events
in one place (``taskflow.daemon.event_relay``) with a ``match`` on these types. Publishing
never blocks, and a failing subscriber never affects the engine or other subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from taskflow.model import Attempt, BreakerState, Run

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunUpdated:
    """A run changed state, progress or message (terminal states: after their commit)."""

    run: Run


@dataclass(frozen=True, slots=True)
class AttemptUpdated:
    """An attempt started or ended; ``root_id`` is its run tree's, when the engine knows it."""

    attempt: Attempt
    root_id: str | None


@dataclass(frozen=True, slots=True)
class BreakerChanged:
    """A service's circuit breaker changed (tripped, opened, half-open, reset)."""

    state: BreakerState


@dataclass(frozen=True, slots=True)
class TaskChanged:
    """One task's enablement changed."""

    name: str


@dataclass(frozen=True, slots=True)
class TasksUpdated:
    """The task set was (re)loaded."""


@dataclass(frozen=True, slots=True)
class PausesChanged:
    """A pause or resume changed which tasks' queued runs are held: ``names`` (None when
    so many changed that clients had better list the tasks again)."""

    names: tuple[str, ...] | None


EngineEvent = RunUpdated | AttemptUpdated | BreakerChanged | TaskChanged | TasksUpdated | PausesChanged
Subscriber = Callable[[EngineEvent], None]


class EventBus:
    """Synchronous fan-out to registered callables, in registration order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register ``subscriber(event)``; returns a function that unregisters it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: EngineEvent) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not break the engine
                log.exception("event subscriber failed on %s", type(event).__name__)
