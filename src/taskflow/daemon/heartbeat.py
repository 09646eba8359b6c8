"""The daemon's pulse: loop lag, a ``stats`` event each second, ``STATUS=`` to systemd.

The lag is how late a one-second sleep wakes up; ``health`` reports a loop that lags 2 s
or more.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from taskflow.protocol import DaemonStats
from taskflow.protocol.events import TOPIC_STATS

if TYPE_CHECKING:
    from taskflow.daemon.event_sink import EventSink
    from taskflow.daemon.notify import SystemdNotifier
    from taskflow.daemon.views import DaemonViews

INTERVAL = 1.0
STATUS_EVERY = 10  # beats between two STATUS= lines


class Heartbeat:
    def __init__(self, views: DaemonViews, notifier: SystemdNotifier) -> None:
        self.views = views
        self.notifier = notifier
        self.loop_lag_ms = 0.0

    async def run(self, sink: EventSink) -> None:
        """Beat until cancelled, publishing ``stats`` to ``sink``."""
        tick = 0
        while True:
            before = time.monotonic()
            await asyncio.sleep(INTERVAL)
            self.loop_lag_ms = max(0.0, (time.monotonic() - before - INTERVAL) * 1000)
            tick += 1
            sink.publish(TOPIC_STATS, DaemonStats(stats=self.views.status_info()))
            if tick % STATUS_EVERY == 0:
                self.notifier.status(self.views.status_line())
