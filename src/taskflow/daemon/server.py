"""The daemon's socket server: accepts clients, authenticates them, routes requests, fans out events.

Transport only — what a request *does* is the handler's business. The handler gets each
request with the ``Peer`` that sent it (role from ``SO_PEERCRED``) and returns the result
Struct, or raises ``RequestError(code, message)``; any other exception becomes an
``internal`` error for that one request, and the connection stays up.

``publish`` is synchronous and never blocks: the engine can call it from its event bus.

Connections are bounded (``ConnectionLimits``: per user, in total, a reserve for admins); one
beyond a limit gets ``Error{unavailable}`` with the reason and is closed. Accepting itself
lives in ``server_accept`` (backoff and a spare descriptor when the process runs out).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec

from taskflow.daemon.connection_limits import ConnectionLedger, fit_to_fd_limit, open_fd_count, open_file_limit
from taskflow.daemon.peercred import Peer, identify_peer
from taskflow.daemon.ratelimited_log import RateLimitedLog
from taskflow.daemon.server_accept import Acceptor, refuse
from taskflow.daemon.server_connection import Connection, RequestError
from taskflow.daemon.server_socket import SocketInUse, bind_unix_socket
from taskflow.model.config import ConnectionLimits
from taskflow.protocol import TOPICS, Request, encode_body

log = logging.getLogger(__name__)

__all__ = ["Peer", "RequestError", "Server", "SocketInUse"]

DEFAULT_FRAME_TIMEOUT = 30.0
REFUSAL_WAIT = 0.5  # how long a refused client may take to send its Hello before we close
MAX_WAITING_REFUSALS = 8  # refusals that wait for the Hello at once; more are closed at once


class Server:
    """Listens on a Unix socket and serves every connection until ``close``."""

    def __init__(
        self,
        socket_path: str,
        handler: Callable[[Request[Any], Peer], Awaitable[Any]],
        *,
        version: str,
        socket_group: str | None = "taskflow",
        operator_group: str = "taskflow-ops",
        queue_size: int = 1000,
        frame_timeout: float = DEFAULT_FRAME_TIMEOUT,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.socket_path = socket_path
        self._handler = handler
        self._version = version
        self._socket_group = socket_group
        self._operator_group = operator_group
        self._queue_size = queue_size
        self._frame_timeout = frame_timeout
        self._limits = limits or ConnectionLimits()
        self._ledger = ConnectionLedger(self._limits)
        self._ratelimited = RateLimitedLog(log)
        self._sock: socket.socket | None = None
        self._acceptor: Acceptor | None = None
        self._accept_task: asyncio.Task[None] | None = None
        self._waiting_refusals = 0
        self._socket_inode: tuple[int, int] | None = None
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscribers: dict[str, set[Connection]] = {topic: set() for topic in TOPICS}

    @property
    def connections(self) -> int:
        """Clients connected right now."""
        return len(self._connections)

    @property
    def subscribers(self) -> int:
        """Connections subscribed to at least one topic."""
        return sum(1 for conn in self._connections if conn.topics)

    async def start(self) -> None:
        """Bind the socket (mode 0660, socket group) and start accepting clients.

        Raises ``SocketInUse`` when another daemon answers on the path.
        """
        sock = bind_unix_socket(self.socket_path, self._socket_group)
        info = os.stat(self.socket_path)
        self._socket_inode = (info.st_dev, info.st_ino)
        self._ledger.limits = fit_to_fd_limit(self._limits, open_file_limit(), open_fd_count())
        self._sock = sock
        self._acceptor = Acceptor(sock, self._on_accept, self._ratelimited, self._describe_load)
        self._accept_task = asyncio.create_task(self._acceptor.run(), name="taskflowd-accept")
        log.info("listening on %s", self.socket_path)

    def _describe_load(self) -> str:
        return f"{self._ledger.total} client connections open, open-file limit {open_file_limit() or 'none'}"

    async def close(self) -> None:
        """Stop accepting, drop every connection and remove our socket file."""
        if self._accept_task is not None:
            self._accept_task.cancel()
            await asyncio.wait({self._accept_task}, timeout=5.0)
            self._accept_task = None
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5.0)
        self._remove_socket_file()

    def _remove_socket_file(self) -> None:
        """Unlink the socket only if it is still the one we created (not a successor's)."""
        try:
            info = os.stat(self.socket_path)
        except FileNotFoundError:
            return
        if (info.st_dev, info.st_ino) == self._socket_inode:
            os.unlink(self.socket_path)

    def has_subscribers(self, topic: str) -> bool:
        """Whether anyone listens on ``topic`` (lets producers skip work nobody reads)."""
        return bool(self._subscribers.get(topic))

    def publish(self, topic: str, event: Any) -> None:
        """Send ``event`` to every subscriber of ``topic``; never blocks, never raises for a client."""
        subscribers = self._subscribers.get(topic)
        if not subscribers:
            return
        encoded: msgspec.Raw | None = None
        for conn in tuple(subscribers):
            if not conn.wants(event):
                continue
            if encoded is None:
                # Encoded once, at publish time: later mutation of the object cannot leak out.
                encoded = msgspec.Raw(encode_body(event))
            conn.push(encoded)

    def _update_subscription(self, conn: Connection) -> None:
        for topic, members in self._subscribers.items():
            if topic in conn.topics:
                members.add(conn)
            else:
                members.discard(conn)

    def _on_accept(self, sock: socket.socket) -> None:
        """Admit a just-accepted client within the limits, or refuse it with the reason."""
        try:
            peer = identify_peer(sock, self._operator_group)
        except OSError:  # gone already
            sock.close()
            return
        refusal = self._ledger.admit(peer)
        if refusal is None:
            self._spawn(self._serve(sock, peer))
            return
        self._ratelimited.warning(
            ("refused", peer.uid), "refused a connection from %s (uid %d, pid %d): %s",
            peer.user, peer.uid, peer.pid, refusal,
        )
        self._spawn(self._refuse(sock, refusal))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refuse(self, sock: socket.socket, message: str) -> None:
        """Refuse over the limits; only a few refusals at once may hold their descriptor."""
        wait = REFUSAL_WAIT if self._waiting_refusals < MAX_WAITING_REFUSALS else 0.0
        self._waiting_refusals += 1
        try:
            await refuse(sock, message, wait)
        finally:
            self._waiting_refusals -= 1

    async def _serve(self, sock: socket.socket, peer: Peer) -> None:
        writer: asyncio.StreamWriter | None = None
        conn: Connection | None = None
        try:
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
            transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=sock)
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            conn = Connection(
                reader,
                writer,
                peer,
                self._handler,
                version=self._version,
                queue_size=self._queue_size,
                frame_timeout=self._frame_timeout,
                on_subscription=self._update_subscription,
            )
            self._connections.add(conn)
            await conn.serve()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("connection handling failed")
            if writer is not None:
                writer.transport.abort()
        finally:
            if writer is None:
                sock.close()
            self._ledger.release(peer)
            if conn is not None:
                self._connections.discard(conn)
                self._update_subscription_removed(conn)

    def _update_subscription_removed(self, conn: Connection) -> None:
        for members in self._subscribers.values():
            members.discard(conn)
