"""The daemon's socket server: accepts clients, authenticates them, routes requests, fans out events.

Transport only — what a request *does* is the handler's business. The handler gets each
request with the ``Peer`` that sent it (role from ``SO_PEERCRED``) and returns the result
Struct, or raises ``RequestError(code, message)``; any other exception becomes an
``internal`` error for that one request, and the connection stays up.

``publish`` is synchronous and never blocks: the engine can call it from its event bus.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from taskflow.daemon.peercred import Peer, identify_peer
from taskflow.daemon.server_connection import Connection, RequestError
from taskflow.daemon.server_socket import SocketInUse, bind_unix_socket
from taskflow.protocol import TOPICS, Request, encode_body

log = logging.getLogger(__name__)

__all__ = ["Peer", "RequestError", "Server", "SocketInUse"]

DEFAULT_FRAME_TIMEOUT = 30.0


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
    ) -> None:
        self.socket_path = socket_path
        self._handler = handler
        self._version = version
        self._socket_group = socket_group
        self._operator_group = operator_group
        self._queue_size = queue_size
        self._frame_timeout = frame_timeout
        self._server: asyncio.Server | None = None
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
        self._server = await asyncio.start_unix_server(self._accept, sock=sock)
        log.info("listening on %s", self.socket_path)

    async def close(self) -> None:
        """Stop accepting, drop every connection and remove our socket file."""
        if self._server is not None:
            self._server.close()
            self._server = None
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

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn: Connection | None = None
        try:
            peer = identify_peer(writer.get_extra_info("socket"), self._operator_group)
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
            writer.transport.abort()
        finally:
            if conn is not None:
                self._connections.discard(conn)
                self._update_subscription_removed(conn)
            self._tasks.discard(task)

    def _update_subscription_removed(self, conn: Connection) -> None:
        for members in self._subscribers.values():
            members.discard(conn)
