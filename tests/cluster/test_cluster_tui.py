"""The TUI on a daemon whose leaves run on a real Dask cluster: the status bar counts the
cluster's workers and busy slots, the run detail names the worker of each attempt, and the
Cluster screen lists the workers with their resources."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from textual.widgets import Static

from taskflow.protocol import Cancel, TriggerTask
from taskflow.tui import TaskflowApp
from taskflow.tui.screens.cluster import ClusterScreen
from taskflow.tui.widgets import DetailPane, RunTreeView, StatusBar

TIMEOUT = 20.0


async def until(condition: Callable[[], Any], what: str, shown: Callable[[], object] = lambda: "",
                timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {shown()}")


def text_of(static: Static) -> str:
    """What a ``Static`` shows, as plain text."""
    console = Console(width=200, record=True, color_system=None)
    content: RenderableType = static.content  # type: ignore[assignment]
    console.print(content)
    return console.export_text()


async def test_the_tui_shows_the_cluster_and_the_worker_of_each_attempt(daemon) -> None:
    daemon.write_tasks('[tasks.nap]\nwhere = { workers = ["w2"] }\ncommand = "sleep 30"\n')
    daemon.start()
    app = TaskflowApp(daemon.socket, live_clock=False)
    async with app.run_test(size=(160, 40)) as pilot:
        header = app.query_one(StatusBar)
        def bar() -> str:
            return str(header.render())

        await until(lambda: "cluster 2 workers, 0/8 busy" in bar(), "the idle cluster in the header", bar)
        ref = await asyncio.to_thread(daemon.call, TriggerTask(task="nap"))
        try:
            await until(lambda: "cluster 2 workers, 1/8 busy" in bar(), "a busy slot in the header", bar)
            runs = app.screen.query_one(RunTreeView)
            await until(lambda: ref.id in runs._index, "the run in the run tree")
            runs.focus()
            runs.move_cursor(runs._index[ref.id])
            detail = app.screen.query_one(DetailPane).query_one(Static)
            await until(lambda: "worker   w2" in text_of(detail), "the attempt's worker in the run detail")

            app.show_cluster()
            await until(lambda: isinstance(app.screen, ClusterScreen) and app.screen.query("#cluster-body"),
                        "the Cluster screen")
            body = app.screen.query_one("#cluster-body", Static)
            await until(lambda: "w2" in text_of(body), "the workers on the Cluster screen")
            shown = text_of(body)
            assert "state     up" in shown and "cpu=4" in shown, shown
            lines = {line.split()[0]: line for line in shown.splitlines() if line.strip().startswith("w")}
            assert "1/4" in lines["w2"] and "0/4" in lines["w1"], shown
            await pilot.press("escape")
        finally:
            await asyncio.to_thread(daemon.call, Cancel(run_id=ref.id))
