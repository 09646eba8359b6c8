"""An asyncio client for the TUI: many calls in flight, pushed events, automatic reconnect.

When the daemon goes away (restart, upgrade), pending calls fail with ``DaemonUnreachable``
at once so the UI never hangs, the client retries with capped exponential backoff and
reports each step through ``on_state``; once back, it re-subscribes and emits a
``Push(seq=0, event=Resync(reason="reconnected"))`` so the UI re-reads everything it shows.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from taskflow.client.errors import ClientError, DaemonUnreachable, unreachable
from taskflow.client.paths import resolve_socket_path
from taskflow.protocol import (
    PROTOCOL_VERSION,
    SERVER_DECODER,
    Error,
    ErrorCode,
    FrameReader,
    Hello,
    Ok,
    ProtocolError,
    Push,
    Request,
    Resync,
    Subscribe,
    Unsubscribe,
    Welcome,
    decode_body,
    encode_frame,
    mismatch_message,
    result_decoder,
)

if TYPE_CHECKING:
    from taskflow.client.hosts import Host
    from taskflow.client.ssh import SshTransport

log = logging.getLogger(__name__)

R = TypeVar("R")

EVENT_QUEUE_SIZE = 10_000  # events kept for a slow ``events()`` reader before a Resync


class ConnectionState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


StateCallback = Callable[[ConnectionState, str], None]
EventCallback = Callable[[Push], None]


class _Link:
    """One open connection: its streams and frame reader."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 transport: SshTransport | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.transport = transport
        self.frames = FrameReader()
        self.bodies: list[bytes] = []

    async def receive(self) -> Any:
        while not self.bodies:
            data = await self.reader.read(256 * 1024)
            if not data:
                raise ConnectionResetError("taskflowd closed the connection")
            self.bodies.extend(self.frames.feed(data))
        return decode_body(SERVER_DECODER, self.bodies.pop(0))

    def send(self, message: Any) -> None:
        self.writer.write(encode_frame(message))

    def close(self) -> None:
        self.writer.close()
        if self.transport is not None:
            self.transport.abandon()


class AsyncClient:
    """A reconnecting connection to the daemon for long-lived asyncio programs."""

    def __init__(
        self,
        path: str | None = None,
        *,
        client_name: str = "taskflow-tui",
        timeout: float = 5.0,
        reconnect: bool = True,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        on_state: StateCallback | None = None,
        on_event: EventCallback | None = None,
        host: Host | None = None,
    ) -> None:
        # A remote ``host`` (hosts.toml) is reached over ``ssh ... taskflow bridge``; ``path``
        # is then the remote socket (None: the host's own, or the remote default).
        self.host = host if host is not None and host.ssh is not None else None
        self.path = path if self.host is not None else resolve_socket_path(path or (host.socket if host else None))
        self.client_name = client_name
        self.timeout = timeout
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.on_state = on_state
        self.on_event = on_event
        self.state = ConnectionState.DISCONNECTED
        self.welcome: Welcome | None = None
        self._link: _Link | None = None
        self._pending: dict[int, tuple[type[Request[Any]], asyncio.Future[Any]]] = {}
        self._next_id = 0
        self._subscription: Subscribe | None = None
        self._queue: asyncio.Queue[Push] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._links_opened = 0
        self._closed = False

    # -- connection lifecycle -----------------------------------------------------------

    async def connect(self) -> Welcome:
        """Connect now (raising ``DaemonUnreachable``/``ClientError`` on failure), then keep
        the connection up in the background."""
        self._set_state(ConnectionState.CONNECTING, self.where)
        await self._open()
        assert self.welcome is not None
        self._runner = asyncio.create_task(self._supervise(), name="taskflow-client")
        return self.welcome

    def start(self) -> None:
        """Connect in the background, retrying until the daemon answers (states via ``on_state``)."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._supervise(), name="taskflow-client")

    async def close(self) -> None:
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
        for task in self._background:
            task.cancel()
        self._drop_link("client closed")
        self._set_state(ConnectionState.CLOSED, "client closed")

    @property
    def where(self) -> str:
        """The daemon this client talks to, for messages: a socket path or ``host NAME (DEST)``."""
        return f"host {self.host.name} ({self.host.ssh})" if self.host is not None else str(self.path)

    async def _open(self) -> None:
        if self.host is not None:
            link = await self._open_ssh(self.host)
        else:
            assert self.path is not None
            try:
                async with asyncio.timeout(self.timeout):
                    reader, writer = await asyncio.open_unix_connection(self.path, limit=1 << 21)
            except (OSError, TimeoutError) as exc:
                raise unreachable(self.path, exc) from None
            link = _Link(reader, writer)
        try:
            async with asyncio.timeout(self.timeout):
                link.send(Hello(protocol=PROTOCOL_VERSION, client=self.client_name))
                reply = await link.receive()
        except (OSError, TimeoutError) as exc:
            if link.transport is not None:
                link.writer.close()
                why = await asyncio.to_thread(link.transport.why_lost)
                link.close()
                raise DaemonUnreachable(why) from None
            link.close()
            assert self.path is not None
            raise unreachable(self.path, exc) from None
        except ProtocolError as exc:
            link.close()
            raise ClientError(ErrorCode.PROTOCOL, str(exc)) from None
        if isinstance(reply, Error):
            link.close()
            raise ClientError(reply.code, reply.message)
        if not isinstance(reply, Welcome) or reply.protocol != PROTOCOL_VERSION:
            link.close()
            protocol = reply.protocol if isinstance(reply, Welcome) else -1
            raise ClientError(ErrorCode.PROTOCOL, mismatch_message(protocol, PROTOCOL_VERSION))
        self._link = link
        self._links_opened += 1
        self.welcome = reply
        self._set_state(ConnectionState.CONNECTED, f"{reply.user} as {reply.role}")

    async def _open_ssh(self, host: Host) -> _Link:
        from taskflow.client.ssh import SshTransport

        try:
            transport = SshTransport.spawn(host, self.path)
        except OSError as exc:
            raise DaemonUnreachable(f"cannot run ssh to reach host {host.name}: {exc.strerror or exc}") from None
        transport.sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=transport.sock, limit=1 << 21)
        return _Link(reader, writer, transport)

    async def _supervise(self) -> None:
        """Read while connected; on loss, back off and reconnect, then re-subscribe + Resync."""
        delay = self.backoff_initial
        while not self._closed:
            if self._link is None:
                try:
                    await self._open()
                except ClientError as exc:
                    if not self.reconnect:
                        self._set_state(ConnectionState.DISCONNECTED, str(exc))
                        return
                    self._set_state(ConnectionState.RECONNECTING, f"{exc}; retrying in {delay:.1f}s")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.backoff_max)
                    continue
                delay = self.backoff_initial
                task = asyncio.create_task(self._after_reconnect())
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            reason = await self._read_until_lost()
            self._drop_link(reason)
            self._set_state(ConnectionState.DISCONNECTED, reason)
            if not self.reconnect:
                return

    async def _after_reconnect(self) -> None:
        """Restore the subscription and tell listeners they missed events (``Resync``: reason
        "connected" after a background first connect, "reconnected" afterwards)."""
        if self._subscription is not None:
            try:
                await self.subscribe(self._subscription.topics, self._subscription.run_id)
            except ClientError as exc:
                log.warning("re-subscribing failed: %s", exc)
                return
        reason = "reconnected" if self._links_opened > 1 else "connected"
        self._deliver(Push(seq=0, event=Resync(reason=reason)))

    async def _read_until_lost(self) -> str:
        link = self._link
        assert link is not None
        try:
            while True:
                self._dispatch(await link.receive())
        except ProtocolError as exc:
            return f"protocol error from taskflowd: {exc}"
        except OSError as exc:
            return str(exc) or "connection lost"

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, Push):
            self._deliver(message)
            return
        if isinstance(message, (Ok, Error)):
            entry = self._pending.pop(message.id, None)
            if entry is None:
                if isinstance(message, Error):
                    log.warning("daemon error: %s", message.message)
                return
            request_type, future = entry
            if future.done():
                return
            if isinstance(message, Error):
                future.set_exception(ClientError(message.code, message.message))
                return
            try:
                future.set_result(result_decoder(request_type).decode(message.data))
            except Exception as exc:  # noqa: BLE001 - a result that does not decode, whatever msgspec raises, is a protocol error
                future.set_exception(
                    ClientError(ErrorCode.PROTOCOL, f"invalid {request_type.__name__} result: {exc}")
                )

    def _drop_link(self, reason: str) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        pending, self._pending = self._pending, {}
        for _, future in pending.values():
            if not future.done():
                future.set_exception(DaemonUnreachable(f"lost the connection to taskflowd: {reason}"))

    def _set_state(self, state: ConnectionState, reason: str) -> None:
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state, reason)
            except Exception:
                log.exception("connection state callback failed")

    # -- requests and events ------------------------------------------------------------

    async def call(self, request: Request[R], timeout: float | None = None) -> R:
        """Send ``request`` and await its typed result; raises ``ClientError`` on ``Error``
        and ``DaemonUnreachable`` at once when not connected."""
        link = self._link
        if link is None:
            raise DaemonUnreachable(f"not connected to taskflowd at {self.where} ({self.state})")
        self._next_id += 1
        request.id = self._next_id
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending[request.id] = (type(request), future)
        link.send(request)
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                return await future
        except TimeoutError:
            self._pending.pop(request.id, None)
            raise DaemonUnreachable(f"taskflowd did not answer {type(request).__name__} in time") from None

    async def subscribe(self, topics: list[str], run_id: str | None = None) -> list[str]:
        """Subscribe (replacing any earlier subscription); kept across reconnects."""
        self._subscription = Subscribe(topics=list(topics), run_id=run_id)
        return await self.call(Subscribe(topics=list(topics), run_id=run_id))

    async def unsubscribe(self) -> None:
        self._subscription = None
        await self.call(Unsubscribe())

    def events(self) -> AsyncIterator[Push]:
        """Pushed events (including the client's own reconnect ``Resync``) as they arrive."""
        if self._queue is None:
            self._queue = asyncio.Queue(EVENT_QUEUE_SIZE)
        return self._iterate(self._queue)

    @staticmethod
    async def _iterate(queue: asyncio.Queue[Push]) -> AsyncIterator[Push]:
        while True:
            yield await queue.get()

    def _deliver(self, push: Push) -> None:
        if self.on_event is not None:
            try:
                self.on_event(push)
            except Exception:
                log.exception("event callback failed")
        if self._queue is not None:
            if self._queue.full():
                while not self._queue.empty():
                    self._queue.get_nowait()
                push = Push(seq=0, event=Resync(reason="slow consumer"))
            self._queue.put_nowait(push)
