"""The dashboard in a real headless Chromium, served by a real ``taskflow web`` on a real daemon.

The page loads and shows the task tree with states; a run started from outside the page
shows up and changes state live; and in the default read-only mode the mutating keys reach
the dashboard but change nothing in the daemon (no run, no toggle, no audit entry), even
though the user running ``taskflow web`` (root in CI) is an admin there. Stopping
``taskflow web`` ends the dashboards it serves.

With ``TASKFLOW_UPDATE_SCREENSHOT=1`` the live-update test saves the page as
``docs/images/web.png`` (the screenshot in docs/web.md and the README).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from daemon_process import DaemonProcess
from served_dashboard import TIMEOUT, Dashboard, WebProcess

from taskflow.model import RunState
from taskflow.protocol import ListAudit, ListRuns, ListTasks, ShowRun, TriggerTask

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "web.png"


def run_state(daemon: DaemonProcess, run_id: str) -> RunState:
    return daemon.call(ShowRun(run_id=run_id)).run.state


def runs_line(text: str, task: str) -> str:
    """The first line of the Runs pane that names ``task`` (the pane is below the Tasks one,
    left of the log pane, whose title may name the same task: only the left pane is read)."""
    below = text.split("Runs", 1)[-1].splitlines()[1:]  # the rest of the title row is the log pane's
    return next((left for line in below if f" {task} " in (left := line.split("││", 1)[0])), "")


def test_the_page_loads_and_shows_the_task_tree_with_states(
    web: WebProcess, web_daemon: DaemonProcess, open_dashboard: Callable[[str], Dashboard]
) -> None:
    ref = web_daemon.call(TriggerTask(task="hello"))
    dashboard = open_dashboard(web.url)
    assert dashboard.page.title().startswith("taskflow")
    text = dashboard.wait_for_text("Tasks", "hello", "gate", "nightly", "Runs", "● connected", "read-only")
    # The finished run is listed with its state once the daemon has finished it.
    dashboard.wait_for(lambda t: "succeeded" in runs_line(t, "hello"), "hello's run as succeeded")
    assert run_state(web_daemon, ref.id) is RunState.SUCCEEDED
    # The bar under the dashboard links the daemon's health.
    bar = dashboard.page.locator("#taskflow-bar")
    assert "read-only" in bar.inner_text()
    assert bar.get_by_role("link", name="daemon health").get_attribute("href") == "health"
    assert "Tasks" in text


def test_the_page_follows_a_run_through_its_states_live(
    web: WebProcess, web_daemon: DaemonProcess, open_dashboard: Callable[[str], Dashboard]
) -> None:
    dashboard = open_dashboard(web.url)
    dashboard.wait_for_text("gate", "● connected")
    ref = web_daemon.call(TriggerTask(task="gate"))  # from outside the page, as a script would
    dashboard.wait_for(lambda t: "running" in runs_line(t, "gate"), "the gate run as running")
    assert run_state(web_daemon, ref.id) is RunState.RUNNING
    (web_daemon.workdir / "gate-open").touch()
    dashboard.wait_for(lambda t: "succeeded" in runs_line(t, "gate"), "the gate run as succeeded")
    assert run_state(web_daemon, ref.id) is RunState.SUCCEEDED
    if os.environ.get("TASKFLOW_UPDATE_SCREENSHOT") == "1":
        web_daemon.call(TriggerTask(task="nightly"))
        dashboard.wait_for(lambda t: "succeeded" in runs_line(t, "nightly"), "the nightly run as succeeded")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        dashboard.page.screenshot(path=str(SCREENSHOT))


def test_mutating_keys_change_nothing_in_read_only_mode(
    web: WebProcess, web_daemon: DaemonProcess, open_dashboard: Callable[[str], Dashboard]
) -> None:
    web_daemon.call(TriggerTask(task="hello"))  # a finished run for rerun to act on
    dashboard = open_dashboard(web.url)
    dashboard.wait_for(lambda t: "succeeded" in runs_line(t, "hello"), "a finished hello run")
    runs_before = len(web_daemon.call(ListRuns(limit=1000)))
    audit_before = web_daemon.call(ListAudit(limit=1000))

    # With a tree focused, the footer of a read-only dashboard leaves the mutating keys out...
    dashboard.press("Tab")
    dashboard.wait_for(lambda t: "Logs" in t.splitlines()[-1], "the footer")
    footer = dashboard.screen_text().splitlines()[-1]
    assert not {"Rerun", "Cancel", "Enable/disable", "Run"} & set(footer.split()), footer
    # ...and pressing them anyway is refused with one sentence, on both trees: r reruns,
    # R reruns the failed part, c cancels, e disables (its reason prompt never opens), enter runs.
    dashboard.press("r", "R", "c", "e", "Enter", "Tab", "r", "R", "c", "e", "Enter")
    dashboard.wait_for_text("opened read-only")
    assert "Disable" not in dashboard.screen_text()  # no reason prompt, no confirmation

    assert len(web_daemon.call(ListRuns(limit=1000))) == runs_before
    assert all(task.enabled for task in web_daemon.call(ListTasks()))
    assert web_daemon.call(ListAudit(limit=1000)) == audit_before


def test_stopping_taskflow_web_ends_the_dashboards_it_serves(
    web_daemon: DaemonProcess, open_dashboard: Callable[[str], Dashboard]
) -> None:
    server = WebProcess(web_daemon.socket, web_daemon.workdir)
    try:
        open_dashboard(server.url).wait_for_text("hello", "● connected")
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(TIMEOUT) == 0
        with pytest.raises(ProcessLookupError):  # no served TUI is left in its process group
            os.killpg(server.proc.pid, 0)
    finally:
        server.stop()
