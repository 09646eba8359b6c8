"""Pushes new output lines of running attempts to ``logs`` subscribers.

Output is kept by the executor (files, for the local one); while anyone subscribes to
``logs``, the tail reads what each running attempt appended since the last look, five times
a second, and publishes complete lines. An attempt that is no longer listed (its tree ended)
gets one last read, so its final lines and a last line without a newline are not lost.
Nobody subscribed: nothing is read. The reads of one poll run in one worker thread, so a
slow disk never stalls the event loop; publishing stays on the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taskflow.engine.executor import OutputChunk
from taskflow.protocol import LogLines
from taskflow.protocol.events import TOPIC_LOGS

if TYPE_CHECKING:
    from taskflow.daemon.event_sink import EventSink

log = logging.getLogger(__name__)

STREAMS = ("stdout", "stderr")
INTERVAL = 0.2
MAX_READ = 256 * 1024

StreamKey = tuple[str, int, str]  # (run_id, attempt number, stream)
Position = tuple[int, bytes]  # (offset read up to, partial last line)
OutputReader = Callable[[str, str, int, int], OutputChunk]  # (output dir, stream, offset, limit)


@dataclass(frozen=True, slots=True)
class TailedAttempt:
    """An attempt whose output files the tail follows."""

    run_id: str
    number: int
    root_id: str
    output_dir: str
    finished: bool  # its process has ended: publish the last line even without a newline


@dataclass(frozen=True, slots=True)
class StreamRead:
    """One stream to read in a poll, from where the last poll stopped."""

    key: StreamKey
    output_dir: str
    root_id: str
    position: Position
    flush: bool
    last: bool = False  # the attempt is gone from the list: forget the stream after this read


@dataclass(frozen=True, slots=True)
class Followed:
    """A stream being followed: where it is kept and how far it was read."""

    output_dir: str
    root_id: str
    position: Position


class OutputTail:
    def __init__(
        self, attempts: Callable[[], Iterable[TailedAttempt]], reader: OutputReader, sink: EventSink
    ) -> None:
        self.attempts = attempts
        self.reader = reader
        self.sink = sink
        self._followed: dict[StreamKey, Followed] = {}

    async def run(self) -> None:
        """Poll until cancelled; polls are sequential, so positions are only touched here."""
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                if self.sink.has_subscribers(TOPIC_LOGS):
                    await self.poll()
                else:
                    self._followed.clear()
            except Exception:
                log.exception("log tailing failed; continuing")

    async def poll(self) -> None:
        """Read every followed stream in one thread hop, then publish the complete lines."""
        reads = self._plan()
        if not reads:
            return
        results = await asyncio.to_thread(read_streams, self.reader, reads)
        for read, (position, lines) in zip(reads, results, strict=True):
            if read.last:
                del self._followed[read.key]
            else:
                self._followed[read.key] = Followed(read.output_dir, read.root_id, position)
            if lines:
                run_id, attempt, stream = read.key
                self.sink.publish(
                    TOPIC_LOGS,
                    LogLines(run_id=run_id, attempt=attempt, stream=stream, lines=lines, root_id=read.root_id),
                )

    def _plan(self) -> list[StreamRead]:
        """Start following new attempts, forget gone ones; the reads this poll makes."""
        reads: list[StreamRead] = []
        seen: set[StreamKey] = set()
        for attempt in self.attempts():
            for stream in STREAMS:
                key = (attempt.run_id, attempt.number, stream)
                followed = self._followed.get(key)
                if followed is None:
                    if attempt.finished:
                        continue
                    followed = self._followed[key] = Followed(attempt.output_dir, attempt.root_id, (0, b""))
                seen.add(key)
                reads.append(StreamRead(key, attempt.output_dir, attempt.root_id, followed.position, attempt.finished))
        for key in set(self._followed) - seen:
            gone = self._followed[key]
            reads.append(StreamRead(key, gone.output_dir, gone.root_id, gone.position, flush=True, last=True))
        return reads


def read_streams(reader: OutputReader, reads: list[StreamRead]) -> list[tuple[Position, list[str]]]:
    """One poll's reads, in order (runs in a worker thread)."""
    return [advance(reader, read) for read in reads]


def advance(reader: OutputReader, read: StreamRead) -> tuple[Position, list[str]]:
    """Read what a stream appended: its new position and the complete lines (blocking I/O)."""
    offset, partial = read.position
    data, next_offset, _cut = reader(read.output_dir, read.key[2], offset, MAX_READ)
    if not data and not (read.flush and partial):
        return read.position, []
    lines = (partial + data).split(b"\n")
    rest = lines.pop()
    if read.flush and rest:
        lines.append(rest)
        rest = b""
    return (next_offset, rest), [line.decode("utf-8", errors="replace") for line in lines]
