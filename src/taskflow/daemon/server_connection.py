"""One client connection on the daemon's socket: handshake, requests, pushed events.

Reading and writing are decoupled: the read loop decodes frames and starts a task per
request (at most ``MAX_IN_FLIGHT`` at once, so a client that pipelines requests and never
reads answers cannot grow memory), while every outgoing frame goes through one FIFO so a
response never overtakes an event published before it. Pushed events are written straight
to the transport while the client keeps up; once its kernel buffer and our transport buffer
are full they queue, and when ``queue_size`` events are waiting the queue is dropped and
replaced by one ``Resync`` — the daemon never waits for a slow client.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from taskflow.daemon.peercred import Peer
from taskflow.protocol import (
    CLIENT_DECODER,
    PROTOCOL_VERSION,
    TOPICS,
    Error,
    ErrorCode,
    FrameError,
    FrameReader,
    Hello,
    Ok,
    ProtocolError,
    Request,
    Resync,
    Subscribe,
    Unsubscribe,
    Welcome,
    decode_body,
    encode_body,
    encode_frame,
    event_run_ids,
    frame_body,
    mismatch_message,
    result_payload,
)

log = logging.getLogger(__name__)

Handler = Callable[[Request[Any], Peer], Awaitable[Any]]

MAX_IN_FLIGHT = 16  # concurrent requests per connection
HIGH_WATER = 256 * 1024  # transport buffer above which events queue instead of being written
MAX_QUEUE_BYTES = 16 * 1024 * 1024  # queued event bytes that also count as "too slow"
READ_CHUNK = 256 * 1024
_CONTROL, _RESPONSE, _EVENT, _RESYNC = 0, 1, 2, 3  # kinds of outgoing frames


class RequestError(Exception):
    """Raised by a request handler to answer ``Error{code, message}`` (one sentence)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message


def _raise_if_other_version(body: bytes) -> None:
    """A Hello from another protocol version may not decode strictly; name the mismatch."""
    try:
        loose = msgspec.msgpack.decode(body)
    except msgspec.DecodeError:
        return
    if isinstance(loose, dict) and loose.get("type") == "Hello":
        protocol = loose.get("protocol")
        if isinstance(protocol, int) and protocol != PROTOCOL_VERSION:
            raise ProtocolError(mismatch_message(PROTOCOL_VERSION, protocol))


class _PushOut(msgspec.Struct, tag="Push", tag_field="type"):
    """Server-side twin of ``protocol.Push``: the event is already encoded, once per publish."""

    seq: int
    event: msgspec.Raw


_push_encoder = msgspec.msgpack.Encoder()


class Connection:
    """Serves one accepted client until it disconnects or breaks the protocol."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: Peer,
        handler: Handler,
        *,
        version: str,
        queue_size: int,
        frame_timeout: float,
        on_subscription: Callable[[Connection], None],
    ) -> None:
        self.peer = peer
        self.topics: frozenset[str] = frozenset()
        self.run_id: str | None = None
        self._reader = reader
        self._writer = writer
        self._transport = writer.transport
        self._transport.set_write_buffer_limits(high=HIGH_WATER)
        self._handler = handler
        self._version = version
        self._queue_size = queue_size
        self._frame_timeout = frame_timeout
        self._on_subscription = on_subscription
        self._frames = FrameReader()
        self._bodies: deque[bytes] = deque()
        # Outgoing FIFO of (frame, kind). Only events count toward the slow-consumer limit.
        self._out: deque[tuple[bytes, int]] = deque()
        self._queued_events = 0
        self._queued_bytes = 0
        self._wake = asyncio.Event()
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = 0
        self._resync_queued = False
        self._closed = False
        self.dropped_queues = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def serve(self) -> None:
        """Handshake, then answer requests until EOF, a protocol error or cancellation."""
        writer_task = asyncio.create_task(self._write_loop())
        try:
            if await self._handshake():
                await self._read_loop()
                await self._finish_in_flight()
        except ProtocolError as exc:
            log.info("closing connection of %s (pid %d): %s", self.peer.user, self.peer.pid, exc)
            self._send(encode_frame(Error(code=ErrorCode.PROTOCOL, message=str(exc))), _CONTROL)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._closed = True
            self.topics = frozenset()
            self._on_subscription(self)
            for task in self._tasks:
                task.cancel()
            await self._flush_and_close(writer_task)

    async def _flush_and_close(self, writer_task: asyncio.Task[None]) -> None:
        """Let queued frames (e.g. the final Error) go out briefly, then close for good."""
        self._wake.set()
        try:
            async with asyncio.timeout(1.0):
                while self._out and not self._transport.is_closing():
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        writer_task.cancel()
        self._transport.close()
        try:
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()
        except (TimeoutError, ConnectionError):
            self._transport.abort()

    # -- reading ------------------------------------------------------------------------

    async def _next_body(self, *, always_timeout: bool = False) -> bytes | None:
        """The next complete frame body, or ``None`` at a clean EOF.

        An idle connection may wait forever (a subscriber listens quietly), but once part of
        a frame has arrived the rest must follow within ``frame_timeout``.
        """
        while not self._bodies:
            timeout = self._frame_timeout if always_timeout or self._frames.buffered else None
            try:
                async with asyncio.timeout(timeout):
                    data = await self._reader.read(READ_CHUNK)
            except TimeoutError:
                raise ProtocolError(
                    f"no complete message within {self._frame_timeout:g} seconds"
                ) from None
            if not data:
                if self._frames.buffered:
                    raise ProtocolError("connection closed in the middle of a message")
                return None
            self._bodies.extend(self._frames.feed(data))
        return self._bodies.popleft()

    async def _handshake(self) -> bool:
        body = await self._next_body(always_timeout=True)
        if body is None:
            return False
        try:
            hello = decode_body(CLIENT_DECODER, body)
        except ProtocolError:
            _raise_if_other_version(body)
            raise
        if not isinstance(hello, Hello):
            raise ProtocolError(f"expected Hello as the first message, got {type(hello).__name__}")
        if hello.protocol != PROTOCOL_VERSION:
            raise ProtocolError(mismatch_message(PROTOCOL_VERSION, hello.protocol))
        welcome = Welcome(
            protocol=PROTOCOL_VERSION, version=self._version, user=self.peer.user, role=self.peer.role
        )
        self._send(encode_frame(welcome), _CONTROL)
        return True

    async def _read_loop(self) -> None:
        while (body := await self._next_body()) is not None:
            message = decode_body(CLIENT_DECODER, body)
            if isinstance(message, Hello):
                raise ProtocolError("Hello sent twice on one connection")
            if isinstance(message, (Subscribe, Unsubscribe)):
                self._subscribe(message)
                continue
            await self._in_flight.acquire()
            task = asyncio.create_task(self._answer(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- requests -----------------------------------------------------------------------

    async def _answer(self, request: Request[Any]) -> None:
        """Run the handler for one request and queue exactly one response for it."""
        try:
            result = await self._handler(request, self.peer)
            frame = encode_frame(Ok(id=request.id, data=result_payload(result)))
        except FrameError as exc:  # the answer is too big for one frame: say so, stay connected
            message = f"{exc}; ask for less (SummarizeRun and PageRunTree answer for a run tree of any size)"
            frame = encode_frame(Error(id=request.id, code=ErrorCode.BAD_REQUEST, message=message))
        except RequestError as exc:
            frame = encode_frame(Error(id=request.id, code=exc.code, message=exc.message))
        except asyncio.CancelledError:
            self._in_flight.release()
            raise
        except Exception as exc:
            log.exception("request %s from %s failed", type(request).__name__, self.peer.user)
            message = f"internal error in {type(request).__name__}: {exc}".split("\n", 1)[0]
            frame = encode_frame(Error(id=request.id, code=ErrorCode.INTERNAL, message=message))
        self._send(frame, _RESPONSE)

    async def _finish_in_flight(self) -> None:
        """At a clean EOF (the client shut down its sending side), still answer what it asked."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self._frame_timeout)

    def _subscribe(self, request: Subscribe | Unsubscribe) -> None:
        """Replace this connection's topics; answered inline so Ok precedes the first push."""
        if isinstance(request, Unsubscribe):
            topics: frozenset[str] = frozenset()
            run_id = None
        else:
            unknown = sorted(set(request.topics) - TOPICS)
            if unknown:
                message = f"unknown topic {unknown[0]!r} (topics: {', '.join(sorted(TOPICS))})"
                error = Error(id=request.id, code=ErrorCode.BAD_REQUEST, message=message)
                self._send(encode_frame(error), _CONTROL)
                return
            topics, run_id = frozenset(request.topics), request.run_id
        self._send(encode_frame(Ok(id=request.id, data=result_payload(sorted(topics)))), _CONTROL)
        self.topics, self.run_id = topics, run_id
        self._on_subscription(self)

    # -- events -------------------------------------------------------------------------

    def wants(self, event: object) -> bool:
        """Whether a subscribed event passes this connection's ``run_id`` filter."""
        if self.run_id is None:
            return True
        ids = event_run_ids(event)
        return ids is None or self.run_id in ids

    def push(self, encoded_event: msgspec.Raw) -> None:
        """Queue one already-encoded event with the next ``seq``; never blocks."""
        if self._closed:
            return
        self._seq += 1
        body = _push_encoder.encode(_PushOut(seq=self._seq, event=encoded_event))
        self._send(frame_body(body), _EVENT)

    def _overflowed(self) -> bool:
        return self._queued_events >= self._queue_size or self._queued_bytes > MAX_QUEUE_BYTES

    def _drop_events(self) -> None:
        """Slow consumer: forget its queued events (responses stay) and queue one Resync.

        While that Resync is still waiting to be written, further overflows just drop events
        again: the client re-reads state after the Resync anyway.
        """
        self._out = deque(item for item in self._out if item[1] != _EVENT)
        self._queued_events = 0
        self._queued_bytes = 0
        if self._resync_queued:
            return
        self.dropped_queues += 1
        log.warning("subscriber %s (pid %d) is too slow; dropped its events", self.peer.user, self.peer.pid)
        self._seq += 1
        resync = encode_body(Resync(reason="slow consumer"))
        frame = frame_body(_push_encoder.encode(_PushOut(self._seq, msgspec.Raw(resync))))
        self._resync_queued = True
        self._append(frame, _RESYNC)

    # -- writing ------------------------------------------------------------------------

    def _send(self, frame: bytes, kind: int) -> None:
        """Write now if nothing is queued and the client keeps up; else queue for the writer."""
        if self._transport.is_closing():
            if kind == _RESPONSE:
                self._in_flight.release()
            return
        if not self._out and self._transport.get_write_buffer_size() < HIGH_WATER:
            self._transport.write(frame)
            if kind == _RESPONSE:
                self._in_flight.release()
            return
        if kind == _EVENT and self._overflowed():
            self._drop_events()
            return
        self._append(frame, kind)

    def _append(self, frame: bytes, kind: int) -> None:
        self._out.append((frame, kind))
        if kind == _EVENT:
            self._queued_events += 1
            self._queued_bytes += len(frame)
        self._wake.set()

    async def _write_loop(self) -> None:
        """Drain the outgoing FIFO at the pace the client reads."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._out:
                    if self._transport.is_closing():
                        return
                    if self._transport.get_write_buffer_size() >= HIGH_WATER:
                        await self._writer.drain()
                        continue
                    frame, kind = self._out.popleft()
                    if kind == _RESPONSE:
                        self._in_flight.release()
                    elif kind == _EVENT:
                        self._queued_events -= 1
                        self._queued_bytes -= len(frame)
                    elif kind == _RESYNC:
                        self._resync_queued = False
                    self._transport.write(frame)
        except ConnectionError:
            return
