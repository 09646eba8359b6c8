"""The systemd notify protocol, with the standard library only.

``READY=1`` once serving, ``STATUS=`` with counts, ``WATCHDOG=1`` from the event loop at half
the interval systemd asks for, ``STOPPING=1`` on shutdown. Outside systemd (no
``NOTIFY_SOCKET``) every call is a no-op. The variables are removed from the environment so
tasks never inherit them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        if env is None:
            env = os.environ
        self.address = env.get("NOTIFY_SOCKET") or None
        self.watchdog_usec = 0
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        if usec and usec.isdigit() and (not pid or pid == str(os.getpid())):
            self.watchdog_usec = int(usec)
        self._sock: socket.socket | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            os.environ.pop(name, None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *lines: str) -> None:
        if self.address is None:
            return
        address = self.address
        if address.startswith("@"):
            address = "\0" + address[1:]
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode(), address)
        except OSError as exc:
            log.warning("could not notify systemd at %s: %s", self.address, exc)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=stopping")

    def start_watchdog(self) -> None:
        """Ping from the event loop itself, so a stuck loop stops the pings."""
        if self.address is None or not self.watchdog_usec:
            return
        interval = self.watchdog_usec / 2_000_000

        async def ping() -> None:
            while True:
                self.notify("WATCHDOG=1")
                await asyncio.sleep(interval)

        self._watchdog_task = asyncio.create_task(ping(), name="systemd-watchdog")

    def close(self) -> None:
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
        if self._sock is not None:
            self._sock.close()
