"""The TUI across the real fleet: the Hosts view live for every host over real ``ssh``, a
SIGKILLed daemon shown as lost and back by itself, and enter driving another host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from taskflow.client.hosts import load_hosts
from taskflow.tui import TaskflowApp

from .conftest import Fleet


async def until(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.1)


def status_line(app: TaskflowApp) -> str:
    return str(app.screen.query_one("StatusBar").render())


async def test_hosts_view_follows_every_host_and_enter_drives_one(fleet: Fleet) -> None:
    hosts = load_hosts(str(fleet.hosts_file))
    app = TaskflowApp(fleet.daemons["web-1"].socket, host=hosts.hosts["web-1"], fleet=hosts, live_clock=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: "hello" in app.world.tasks, what="web-1's tasks over ssh")
        assert app.world.welcome is not None and app.world.welcome.user == fleet.operator
        assert "web-1" in status_line(app)

        await pilot.press("5")
        await until(lambda: app.current_mode == "hosts", what="the Hosts view")
        watch = app.fleet_watch
        assert watch is not None
        await until(lambda: all(v.seen_at for v in watch.hosts.values()), what="every host's figures")
        assert watch.hosts["viewer-1"].role == "viewer" and watch.hosts["web-2"].role == "operator"
        assert {v.version for v in watch.hosts.values()} == {watch.hosts["local"].version}
        assert [k.value for k in app.screen.table.rows] == ["local", "web-1", "web-2", "web-3", "viewer-1"]

        fleet.daemons["web-3"].kill()
        await until(lambda: not watch.hosts["web-3"].reachable, what="web-3 lost")
        await pilot.pause(0.5)
        assert "lost" in app.screen.table.get_row("web-3")[1].plain
        assert watch.hosts["web-2"].reachable and watch.hosts["web-1"].reachable  # the others go on
        fleet.daemons["web-3"].start(timeout=30)
        await until(lambda: watch.hosts["web-3"].reachable and watch.hosts["web-3"].seen_at, timeout=40,
                    what="web-3 back by itself")

        while app.screen.table.selected_key != "web-2":
            await pilot.press("down")
        await pilot.press("enter")
        await until(lambda: app.current_mode == "dashboard" and app.target == "web-2", what="switched to web-2")
        await until(lambda: "hello" in app.world.tasks and app.world.welcome is not None, what="web-2's world")
        await pilot.pause(0.3)
        assert "web-2" in status_line(app)
