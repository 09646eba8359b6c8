"""The daemon's accept loop: survives running out of file descriptors, and refuses politely.

asyncio's own server logs a traceback for every failed ``accept`` and retries at once, so a
daemon at its open-file limit writes megabytes of log a second and answers nobody. Here a
failed ``accept`` is retried after a backoff (0.1 s, doubling to 2 s) and logged at most once
per interval. One spare descriptor (``/dev/null``) is held for that moment: it is closed to
accept a waiting client, send it ``Error{unavailable}`` and close it, then reopened — so
clients hear why at once instead of hanging in the listen backlog. Each refusal consumes a
waiting client, so it cannot spin; without a usable spare the loop only sleeps.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable

from taskflow.daemon.ratelimited_log import RateLimitedLog
from taskflow.protocol import Error, ErrorCode, encode_frame

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0
SHED_PER_ROUND = 8  # waiting clients refused per failed accept, with the spare descriptor
SHED_WAIT = 0.25  # how long each of them may take to send its Hello
OUT_OF_FDS_MESSAGE = "taskflowd is out of file descriptors and cannot take connections now; retry shortly"
_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_TRANSIENT = {errno.ECONNABORTED, errno.EINTR, errno.EAGAIN, errno.EPROTO}


def send_refusal(conn: socket.socket, message: str) -> None:
    """Send ``Error{unavailable, message}`` on ``conn`` without blocking; never raises."""
    try:
        conn.setblocking(False)
        conn.send(encode_frame(Error(code=ErrorCode.UNAVAILABLE, message=message)))
    except OSError:
        pass


def discard_input(conn: socket.socket) -> None:
    """Read what the client already sent (its Hello), so closing does not reset the Error."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


async def refuse(conn: socket.socket, message: str, wait: float) -> None:
    """Send the Error, give the client up to ``wait`` seconds to send its Hello, close.

    A client writes its Hello right after connecting; closing before it arrives would fail
    that write (``Broken pipe``) and the client would never read why it was refused.
    """
    with conn:
        send_refusal(conn, message)
        if wait > 0:
            try:
                async with asyncio.timeout(wait):
                    await asyncio.get_running_loop().sock_recv(conn, 65536)
            except (TimeoutError, OSError):
                pass
        discard_input(conn)


class Acceptor:
    """Accepts on ``sock`` and hands each new connection to ``on_accept`` until cancelled."""

    def __init__(
        self,
        sock: socket.socket,
        on_accept: Callable[[socket.socket], None],
        ratelimited: RateLimitedLog,
        describe_load: Callable[[], str],
    ) -> None:
        self._sock = sock
        self._on_accept = on_accept
        self._log = ratelimited
        self._describe_load = describe_load
        self._spare: int | None = None
        self._refused = 0  # clients refused for lack of descriptors, since the start
        self._reopen_spare()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.0
        woke_for_client = False
        while True:
            try:
                conn, _ = await loop.sock_accept(self._sock)
            except OSError as exc:
                if exc.errno in _TRANSIENT:
                    continue
                delay = min(max(delay * 2, BACKOFF_FIRST), BACKOFF_MAX)
                if exc.errno not in _OUT_OF_FDS:
                    self._log.error(
                        ("accept", exc.errno), "accept on the daemon socket failed: %s; retrying in %.1fs",
                        exc.strerror, delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                if self._spare is None:
                    self._reopen_spare()
                refused = await self._shed_waiting()
                self._log.warning(
                    ("accept", "out of fds"),
                    "cannot accept client connections: %s (%s); refusing newcomers until descriptors "
                    "free up (%d refused so far)",
                    exc.strerror, self._describe_load(), self._refused,
                )
                # Wake early for a newcomer only while the spare works and the last wake-up
                # refused someone: otherwise a readable socket we cannot serve would spin.
                if self._spare is not None and (refused or not woke_for_client):
                    woke_for_client = await self._readable_within(delay)
                else:
                    woke_for_client = False
                    await asyncio.sleep(delay)
                continue
            if delay:
                self._log.warning(("accept", "again"), "accepting client connections again (%s)", self._describe_load())
            delay = 0.0
            woke_for_client = False
            if self._spare is None:
                self._reopen_spare()
            try:
                self._on_accept(conn)
            except Exception:  # a bug must not stop the daemon from accepting
                log.exception("handling a new connection failed")
                conn.close()

    def close(self) -> None:
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None

    async def _readable_within(self, timeout: float) -> bool:
        """Whether a client is waiting on the listening socket within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self._sock.fileno()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, readable)
        try:
            async with asyncio.timeout(timeout):
                await ready
            return True
        except TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)

    def _reopen_spare(self) -> None:
        try:
            self._spare = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._spare = None

    async def _shed_waiting(self) -> int:
        """Out of descriptors: refuse waiting clients one at a time with the spare one."""
        refused = 0
        while self._spare is not None and refused < SHED_PER_ROUND:
            os.close(self._spare)
            self._spare = None
            try:
                conn, _ = self._sock.accept()
            except OSError:  # nobody waiting, or the freed descriptor went elsewhere
                self._reopen_spare()
                break
            try:
                await refuse(conn, OUT_OF_FDS_MESSAGE, SHED_WAIT)
            finally:
                self._reopen_spare()
            refused += 1
            self._refused += 1
        return refused
