"""Pushes new output lines of running attempts to ``logs`` subscribers.

Output lives in files (see the executor); while anyone subscribes to ``logs``, the tailer
reads what each running attempt appended since the last look, five times a second, and
publishes complete lines. Nobody subscribed: nothing is read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from taskflow.engine.output import read_output
from taskflow.protocol import LogLines
from taskflow.protocol.events import TOPIC_LOGS

if TYPE_CHECKING:
    from taskflow.daemon.app import Daemon

log = logging.getLogger(__name__)

STREAMS = ("stdout", "stderr")
INTERVAL = 0.2
MAX_READ = 256 * 1024


class LogTailer:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        # (run_id, attempt, stream) -> (offset, partial line)
        self._positions: dict[tuple[str, int, str], tuple[int, bytes]] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                if self.daemon.server.has_subscribers(TOPIC_LOGS):
                    self.poll()
                else:
                    self._positions.clear()
            except Exception:
                log.exception("log tailing failed; continuing")

    def poll(self) -> None:
        seen: set[tuple[str, int, str]] = set()
        for active in list(self.daemon.engine.active.values()):
            attempt = active.attempt
            if attempt is None or not attempt.output_dir:
                continue
            finished = active.handle is None
            for stream in STREAMS:
                key = (attempt.run_id, attempt.number, stream)
                seen.add(key)
                if key not in self._positions:
                    if finished:
                        continue
                    self._positions[key] = (0, b"")
                self._advance(key, attempt.output_dir, active.run.root_id, flush=finished)
        for key in set(self._positions) - seen:
            del self._positions[key]

    def _advance(self, key: tuple[str, int, str], output_dir: str, root_id: str, *, flush: bool) -> None:
        offset, partial = self._positions[key]
        data, next_offset, _cut = read_output(output_dir, key[2], offset, MAX_READ)
        if not data and not (flush and partial):
            return
        buffer = partial + data
        lines = buffer.split(b"\n")
        rest = lines.pop()
        if flush and rest:
            lines.append(rest)
            rest = b""
        self._positions[key] = (next_offset, rest)
        if lines:
            self.daemon.server.publish(
                TOPIC_LOGS,
                LogLines(
                    run_id=key[0], attempt=key[1], stream=key[2],
                    lines=[line.decode("utf-8", errors="replace") for line in lines],
                    root_id=root_id,
                ),
            )
