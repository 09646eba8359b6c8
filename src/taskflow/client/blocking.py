"""A blocking client on a plain socket, for one-shot CLI commands.

It deliberately avoids asyncio (and so does everything it imports): ``taskflow status``
should start and answer in a few tens of milliseconds over SSH. For the same reason it loads
event types only when asked to subscribe: until then the daemon sends nothing but
``Welcome``, ``Ok`` and ``Error``, and replies are decoded as just those.

    with Client.connect() as client:
        info = client.call(Status())          # typed: StatusInfo
        for push in client.subscribe(["runs"]):
            ...
"""

from __future__ import annotations

import _socket  # the C half of `socket`: all a Unix stream needs, without its enum set-up
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from taskflow.client.errors import ClientError, DaemonUnreachable, unreachable
from taskflow.client.paths import resolve_socket_path
from taskflow.protocol.daemon_requests import Subscribe, Unsubscribe
from taskflow.protocol.framing import FrameReader, ProtocolError, decode_body, encode_frame
from taskflow.protocol.replies import (
    PROTOCOL_VERSION,
    Error,
    ErrorCode,
    Hello,
    Ok,
    Welcome,
    mismatch_message,
    reply_decoder,
)
from taskflow.protocol.request_base import Request, result_decoder

if TYPE_CHECKING:
    import socket

    import msgspec

    from taskflow.client.hosts import Host
    from taskflow.client.ssh import SshTransport
    from taskflow.protocol.messages import Push

R = TypeVar("R")

_DEFAULT = object()  # "use the client's timeout"
PIPELINE_WINDOW = 16  # requests in flight in ``call_many``: the daemon answers 16 at once


class Client:
    """One connection to the daemon; not thread-safe."""

    def __init__(self, sock: socket.socket | _socket.socket, path: str, timeout: float | None,
                 transport: SshTransport | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self._sock = sock
        self._transport = transport  # the ssh process behind ``sock``, for a remote host
        self._frames = FrameReader()
        self._bodies: deque[bytes] = deque()
        self._pushes: deque[Push] = deque()
        self._next_id = 0
        self.welcome: Welcome | None = None
        # Replies only, until ``subscribe`` switches to the decoder that knows ``Push``.
        self._decoder: msgspec.msgpack.Decoder[Any] = reply_decoder()
        self._subscribed = False

    @classmethod
    def connect(
        cls, path: str | None = None, client_name: str = "taskflow-cli", timeout: float | None = 5.0
    ) -> Client:
        """Connect and shake hands; raises ``DaemonUnreachable`` or ``ClientError``."""
        path = resolve_socket_path(path)
        # `socket.socket` would do as well; `_socket` saves importing `socket` (its IntEnum
        # conversions and `selectors`), a few ms of every `taskflow status`.
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise unreachable(path, exc) from None
        client = cls(sock, path, timeout)
        try:
            client.handshake(client_name)
        except BaseException:
            client.close()
            raise
        return client

    @classmethod
    def connect_host(
        cls, host: Host, socket_path: str | None = None, client_name: str = "taskflow-cli",
        timeout: float | None = 5.0,
    ) -> Client:
        """Connect to ``host`` of ``hosts.toml``: its local socket, or over ``ssh HOST taskflow
        bridge`` (``socket_path`` overrides the remote socket). Same errors as ``connect``."""
        if host.ssh is None:
            return cls.connect(socket_path or host.socket, client_name, timeout)
        from taskflow.client.ssh import SshTransport

        try:
            transport = SshTransport.spawn(host, socket_path)
        except OSError as exc:
            raise DaemonUnreachable(f"cannot run ssh to reach host {host.name}: {exc.strerror or exc}") from None
        transport.sock.settimeout(timeout)
        client = cls(transport.sock, f"host {transport.label}", timeout, transport)
        try:
            client.handshake(client_name)
        except BaseException:
            client.close()
            raise
        return client

    def handshake(self, client_name: str) -> Welcome:
        """Say ``Hello`` as ``client_name`` and check the daemon's ``Welcome``, kept as
        ``welcome``. ``connect`` calls it; a ``Client`` built on a socket connected elsewhere
        calls it once, before any request."""
        self._send(Hello(protocol=PROTOCOL_VERSION, client=client_name))
        reply = self._receive(self._deadline(_DEFAULT))
        if isinstance(reply, Error):
            raise ClientError(reply.code, reply.message)
        if not isinstance(reply, Welcome):
            raise ClientError(ErrorCode.PROTOCOL, f"daemon answered Hello with {type(reply).__name__}")
        if reply.protocol != PROTOCOL_VERSION:
            raise ClientError(ErrorCode.PROTOCOL, mismatch_message(reply.protocol, PROTOCOL_VERSION))
        self.welcome = reply
        return reply

    # -- requests -----------------------------------------------------------------------

    def call(self, request: Request[R], timeout: float | object | None = _DEFAULT) -> R:
        """Send ``request`` and return its typed result; ``Error`` raises ``ClientError``.

        Events that arrive meanwhile (on a subscribed connection) are kept for ``subscribe``.
        """
        if isinstance(request, Subscribe) and not self._subscribed:
            self._expect_pushes()
        [result] = self.call_many([request], timeout=timeout)
        if isinstance(result, ClientError):
            raise result
        return result

    def call_many(
        self, requests: Sequence[Request[R]], window: int = PIPELINE_WINDOW,
        timeout: float | object | None = _DEFAULT,
    ) -> list[R | ClientError]:
        """Send ``requests`` with up to ``window`` of them in flight at once, and return each
        one's result or ``ClientError``, in order. The daemon answers a connection's requests
        concurrently (and commits their intents in one group), so a thousand submissions cost
        a few round trips' worth of commits, not a thousand. Losing the daemon, an error
        about the connection itself (id 0) or a reply to nothing asked raises. ``timeout``
        runs from the last answer."""
        results: dict[int, R | ClientError] = {}
        waiting: dict[int, Request[R]] = {}
        pending = iter(requests)
        ids: list[int] = []
        deadline = self._deadline(timeout)
        while True:
            while len(waiting) < max(1, window) and (request := next(pending, None)) is not None:
                self._next_id += 1
                request.id = self._next_id
                ids.append(request.id)
                waiting[request.id] = request
                self._send(request)
            if not waiting:
                return [results[i] for i in ids]
            reply = self._receive(deadline)
            if self._is_push(reply):
                self._pushes.append(reply)
                continue
            if isinstance(reply, Error) and reply.id == 0:
                raise ClientError(reply.code, reply.message)
            request = waiting.pop(reply.id, None) if isinstance(reply, (Ok, Error)) else None
            if request is None:
                raise ClientError(ErrorCode.PROTOCOL, f"unexpected {type(reply).__name__} from the daemon")
            if isinstance(reply, Error):
                results[request.id] = ClientError(reply.code, reply.message)
                continue
            try:
                results[request.id] = result_decoder(type(request)).decode(reply.data)
            except Exception as exc:  # noqa: BLE001 - a result that does not decode, whatever msgspec raises, is a protocol error
                results[request.id] = ClientError(ErrorCode.PROTOCOL, f"invalid {type(request).__name__} result: {exc}")
            deadline = self._deadline(timeout)

    def subscribe(self, topics: list[str], run_id: str | None = None) -> Iterator[Push]:
        """Subscribe now, and return an iterator over pushed events that ends only when the
        daemon closes the connection (``DaemonUnreachable``). Use ``next_push`` to wait with a
        timeout; ``call`` still works on a subscribed connection."""
        self.call(Subscribe(topics=list(topics), run_id=run_id))
        return self._pushes_forever()

    def _pushes_forever(self) -> Iterator[Push]:
        while True:
            push = self.next_push(None)
            if push is not None:
                yield push

    def unsubscribe(self) -> None:
        self.call(Unsubscribe())

    def next_push(self, timeout: float | None) -> Push | None:
        """The next pushed event, or ``None`` if none came within ``timeout`` seconds."""
        if self._pushes:
            return self._pushes.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            reply = self._receive(deadline, idle_ok=True)
        except TimeoutError:
            return None
        if self._is_push(reply):
            return reply
        if isinstance(reply, Error):
            raise ClientError(reply.code, reply.message)
        raise ClientError(ErrorCode.PROTOCOL, f"unexpected {type(reply).__name__} from the daemon")

    # -- plumbing -----------------------------------------------------------------------

    def _expect_pushes(self) -> None:
        """Decode with the full server decoder from now on (loads the event types).

        Called before a ``Subscribe`` is sent: the first events may arrive in the same read
        as its ``Ok``.
        """
        from taskflow.protocol.messages import SERVER_DECODER

        self._decoder = SERVER_DECODER
        self._subscribed = True

    def _is_push(self, reply: Any) -> TypeGuard[Push]:
        if not self._subscribed:  # nothing but a Push-aware decoder can produce one
            return False
        from taskflow.protocol.messages import Push

        return isinstance(reply, Push)

    def _deadline(self, timeout: float | object | None) -> float | None:
        value = self.timeout if timeout is _DEFAULT else timeout
        assert value is None or isinstance(value, (int, float))
        return None if value is None else time.monotonic() + value

    def _send(self, message: Any) -> None:
        try:
            self._sock.sendall(encode_frame(message))
        except OSError as exc:
            raise self._lost(f"lost the connection to taskflowd at {self.path}: {exc.strerror or exc}") from None

    def _lost(self, message: str) -> DaemonUnreachable:
        """``message``, or over ssh what ssh (or the remote bridge) said about the loss."""
        return DaemonUnreachable(message if self._transport is None else self._transport.why_lost())

    def _receive(self, deadline: float | None, idle_ok: bool = False) -> Any:
        """Read until one whole message is decoded. ``idle_ok`` lets a timeout escape as such."""
        while not self._bodies:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._sock.settimeout(remaining)
            try:
                data = self._sock.recv(256 * 1024)
            except TimeoutError:
                if idle_ok:
                    raise
                if self._transport is not None:
                    raise DaemonUnreachable(f"taskflowd on {self.path} did not answer in time") from None
                raise DaemonUnreachable(f"taskflowd at {self.path} did not answer in time") from None
            except OSError as exc:
                raise self._lost(f"lost the connection to taskflowd at {self.path}: {exc.strerror or exc}") from None
            if not data:
                raise self._lost(f"taskflowd at {self.path} closed the connection")
            try:
                self._bodies.extend(self._frames.feed(data))
            except ProtocolError as exc:
                raise ClientError(ErrorCode.PROTOCOL, str(exc)) from None
        try:
            return decode_body(self._decoder, self._bodies.popleft())
        except ProtocolError as exc:
            raise ClientError(ErrorCode.PROTOCOL, str(exc)) from None

    def close(self) -> None:
        self._sock.close()
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
