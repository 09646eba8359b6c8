"""Log lines that can repeat in a burst (refused connections, failing ``accept``) at most once
per interval each, with a count of what was held back.

A client that reconnects in a loop, or a daemon out of file descriptors, must not turn the
log into the resource that runs out next: each kind of line is written once, then counted
silently until its interval has passed, and the next one written says how many it stands for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

DEFAULT_INTERVAL = 10.0
_MAX_KEYS = 4096  # keys include uids; old ones are forgotten past this many


@dataclass(slots=True)
class _Seen:
    last: float
    held_back: int = 0


class RateLimitedLog:
    """Writes to ``logger`` at most one line per ``key`` every ``interval`` seconds."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._seen: dict[Hashable, _Seen] = {}

    def log(self, key: Hashable, level: int, msg: str, *args: object) -> bool:
        """Log ``msg % args`` unless a line with ``key`` went out within the interval.

        Returns whether the line was written. A written line that stands for held-back ones
        ends with ``(repeated K times in the last Ns)``.
        """
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.last < self._interval:
            seen.held_back += 1
            return False
        if seen is not None and seen.held_back:
            msg += " (repeated %d times in the last %.0fs)"
            args = (*args, seen.held_back, now - seen.last)
        if seen is None and len(self._seen) >= _MAX_KEYS:
            self._forget_old(now)
        self._seen[key] = _Seen(now)
        self._logger.log(level, msg, *args)
        return True

    def warning(self, key: Hashable, msg: str, *args: object) -> bool:
        return self.log(key, logging.WARNING, msg, *args)

    def error(self, key: Hashable, msg: str, *args: object) -> bool:
        return self.log(key, logging.ERROR, msg, *args)

    def _forget_old(self, now: float) -> None:
        stale = [key for key, seen in self._seen.items() if now - seen.last >= self._interval]
        for key in stale:
            del self._seen[key]
        if len(self._seen) >= _MAX_KEYS:  # all recent: drop the oldest half
            for key in sorted(self._seen, key=lambda k: self._seen[k].last)[: _MAX_KEYS // 2]:
                del self._seen[key]
