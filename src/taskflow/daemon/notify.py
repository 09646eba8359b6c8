"""The systemd notify protocol, with the standard library only.

``READY=1`` once serving, ``STATUS=`` with counts, ``WATCHDOG=1`` from the event loop at half
the interval systemd asks for, ``STOPPING=1`` on shutdown. Outside systemd (no
``NOTIFY_SOCKET``) every call is a no-op. The variables are removed from the environment so
tasks never inherit them. What was seen of systemd at start (``INVOCATION_ID``, the unit
from the cgroup) is kept in ``SystemdNotifier.info`` for ``status``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

from taskflow.protocol import SystemdInfo

log = logging.getLogger(__name__)

#: Where the kernel says which cgroup this process is in; systemd names it after the unit.
CGROUP_FILE = "/proc/self/cgroup"


def systemd_info(env: Mapping[str, str], cgroup_file: str = CGROUP_FILE) -> SystemdInfo | None:
    """How systemd runs this process, or None when systemd did not start it.

    systemd sets ``INVOCATION_ID`` for every service it starts (and ``NOTIFY_SOCKET`` for
    ``Type=notify``); the unit is the last ``*.service`` of the cgroup path, and a path
    through ``user@UID.service`` means a user's manager runs it.
    """
    invocation = env.get("INVOCATION_ID") or None
    notify = bool(env.get("NOTIFY_SOCKET"))
    if invocation is None and not notify:
        return None
    unit = None
    manager = "system"
    try:
        with open(cgroup_file, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        # cgroup v2: "0::/system.slice/taskflowd.service"; v1: "1:name=systemd:/system.slice/…"
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers not in ("", "name=systemd"):
            continue
        parts = path.strip("/").split("/")
        services = [p for p in parts if p.endswith(".service")]
        if services:
            unit = services[-1]
            manager = "user" if any(p.startswith("user@") for p in services[:-1]) else "system"
    return SystemdInfo(unit=unit, manager=manager, invocation_id=invocation, notify=notify)


class SystemdNotifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        if env is None:
            env = os.environ
        self.info = systemd_info(env)
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
