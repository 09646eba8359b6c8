"""Pilot tests against a real ``taskflowd`` on a real socket: keys in, daemon effects out.

Each test presses keys in the headless app and then asks the daemon itself (through the
blocking CLI client, on its own connection) whether the run started, the run was
cancelled, the task was disabled (with the reason typed) or the breaker was reset.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_process import DaemonProcess

from taskflow.cli.tui import ui_preferences
from taskflow.client.aio import ConnectionState
from taskflow.model import BreakerStatus, RunState
from taskflow.protocol import (
    Cancel,
    GetRun,
    ListAudit,
    ListBreakers,
    ListRuns,
    ListTasks,
    Pause,
    Resume,
    ShowRun,
    TaskInfo,
    TriggerTask,
    TripBreaker,
)
from taskflow.tui import TaskflowApp
from taskflow.tui.bindings import MUTATING_ACTIONS, viewer_reason
from taskflow.tui.screens.confirm import ConfirmScreen
from taskflow.tui.screens.disable import DEFAULT_REASON, DisableScreen
from taskflow.tui.widgets import DetailPane, LogPane, RunTreeView, StatusBar, TaskTree

TASKS = """
[tasks.hello]
command = "echo hello; echo '[bold]not markup[/bold]'; echo oops >&2"

[tasks.sleepy]
command = "sleep 60"
service = "payments-api"

[tasks.indexer]
command = "echo indexing"
pool = "db"

[tasks.fixup]
[tasks.fixup.children.broken]
command = "exit 1"
[tasks.fixup.children.after]
command = "echo after"
depends_on = ["broken"]

[tasks.stream]
command = 'for i in $(seq 1 900); do echo "out $i"; if [ $((i % 2)) = 0 ]; then echo "err $i" >&2; fi; sleep 0.1; done'
"""
TIMEOUT = 15.0


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path, prefix="tf-tui")
    proc.write_tasks(TASKS, "tui.toml")
    proc.extra_args = ["--max-workers", "4"]
    try:
        proc.start(timeout=TIMEOUT)
        yield proc
    finally:
        proc.cleanup()


async def until(condition: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    """Poll ``condition`` (which may block briefly) until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def live_app(daemon: DaemonProcess) -> TaskflowApp:
    return TaskflowApp(daemon.socket, live_clock=False)


async def select_task(app: TaskflowApp, pilot: Any, name: str) -> None:
    tree = app.screen.query_one(TaskTree)
    await until(lambda: name in tree._index, f"task {name} in the tree")
    tree.focus()
    tree.move_cursor(tree._index[name])
    await pilot.pause()


async def test_enter_triggers_a_run(daemon: DaemonProcess) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Run hello? question")
        await pilot.press("y")
        runs = await until(lambda: daemon.call(ListRuns(task="hello")), "a hello run in the daemon")
        assert runs[0].requested_by  # a real, audited trigger
        # The run arrives by event and its output by ReadLogs: markup shows literally.
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: runs[0].id in tree._index, "the new run in the run tree")
        tree.focus()
        tree.move_cursor(tree._index[runs[0].id])
        logs = app.screen.query_one(LogPane)
        await until(lambda: any("[bold]not markup[/bold]" in line for line in logs.output.lines), "hello's stdout")
        await until(lambda: any(line.startswith("▌ oops") for line in logs.output.lines), "its stderr, marked")


async def test_enter_on_the_detail_pane_starts_nothing(daemon: DaemonProcess) -> None:
    """Keys act on what the focused pane shows: enter on the detail pane is not "run the
    task under the Tasks cursor"."""
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        app.screen.query_one(DetailPane).focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert not isinstance(app.screen, ConfirmScreen)
        assert daemon.call(ListRuns(task="hello")) == []


async def test_enter_on_the_tasks_tree_asks_first_and_the_default_is_no(daemon: DaemonProcess) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Run hello? question")
        assert "Run hello?" in str(app.screen.query_one("#question").render())
        assert app.screen.focused is app.screen.query_one("#no")
        await pilot.press("enter")  # the default answer: No
        await until(lambda: not isinstance(app.screen, ConfirmScreen), "the question to close")
        await pilot.pause(0.5)
        assert daemon.call(ListRuns(task="hello")) == []
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.click("#yes")
        await until(lambda: daemon.call(ListRuns(task="hello")), "a hello run in the daemon")


async def test_confirm_run_false_in_the_config_runs_at_once(
    daemon: DaemonProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    (home / ".config" / "taskflow").mkdir(parents=True)
    (home / ".config" / "taskflow" / "taskflow.toml").write_text("confirm_run = false\n")
    monkeypatch.setenv("HOME", str(home))
    prefs = ui_preferences()
    assert prefs.confirm_run is False
    app = TaskflowApp(daemon.socket, live_clock=False, confirm_run=prefs.confirm_run)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("enter")
        await until(lambda: daemon.call(ListRuns(task="hello")), "a hello run in the daemon")
        assert not isinstance(app.screen, ConfirmScreen)


def last_visible_number(logs: LogPane) -> int:
    """The number on the bottom line the log pane shows (``out 17`` or ``▌ err 16``)."""
    out = logs.output
    lines = out.lines
    if not lines:
        return 0
    line = lines[min(len(lines) - 1, int(out.scroll_y) + out.scrollable_content_region.height - 1)]
    return int(line.rsplit(" ", 1)[-1])


async def test_log_pane_keeps_following_after_cycling_the_stream(daemon: DaemonProcess) -> None:
    """s three times (both → stdout → stderr → both) on a streaming run: still following."""
    ref = daemon.call(TriggerTask(task="stream"))
    try:
        await _follow_through_stream_cycle(daemon, ref.id)
    finally:
        daemon.call(Cancel(run_id=ref.id))  # tasks outlive the test's daemon otherwise


async def _follow_through_stream_cycle(daemon: DaemonProcess, run: str) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: run in tree._index, "the stream run in the run tree")
        tree.focus()
        tree.move_cursor(tree._index[run])
        logs = app.screen.query_one(LogPane)
        out = logs.output
        # Every stream filter then has more lines than the pane shows (every 2nd is stderr).
        await until(lambda: len(out.lines) > 3 * out.size.height, "more output than the pane shows")
        out.focus()
        await pilot.pause()
        await pilot.press("s", "s", "s")
        assert logs.stream == "both" and logs.follow
        assert "follow" in str(logs.border_subtitle)
        await pilot.pause(0.5)
        first = last_visible_number(logs)
        await until(lambda: last_visible_number(logs) >= first + 5, "the bottom line to keep advancing", timeout=5)
        await pilot.pause()
        assert out.max_scroll_y > 0 and out.scroll_y == out.max_scroll_y  # scrolled to the end
        newest = int(out.lines[-1].rsplit(" ", 1)[-1])
        assert last_visible_number(logs) >= newest - 2


def task_info(daemon: DaemonProcess, name: str) -> TaskInfo:
    return next(t for t in daemon.call(ListTasks()) if t.name == name)


async def test_e_asks_why_and_disables_with_that_reason(daemon: DaemonProcess) -> None:
    reason = "db migration in progress, ask @ana"
    app = live_app(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, DisableScreen), "the reason prompt")
        await pilot.press(*reason)
        await pilot.press("enter")
        await until(lambda: not task_info(daemon, "hello").enabled, "hello to be disabled in the daemon")
        assert task_info(daemon, "hello").disabled_reason == reason
        audit = daemon.call(ListAudit())
        assert any(e.action == "disable_task" and e.args.get("reason") == reason for e in audit)
        await until(lambda: app.world.tasks["hello"].disabled_reason == reason, "the TUI to show the reason")
        # Enabling again is one key press: no prompt.
        await pilot.press("e")
        await until(lambda: task_info(daemon, "hello").enabled, "hello to be enabled again")
        assert not isinstance(app.screen, DisableScreen)


async def test_e_on_the_detail_pane_acts_on_what_it_shows(daemon: DaemonProcess) -> None:
    """The detail pane shows the sleepy run; the Tasks cursor is still on hello. `e` there
    disables sleepy (the task of what is shown), never hello."""
    ref = daemon.call(TriggerTask(task="sleepy"))
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        runs = app.screen.query_one(RunTreeView)
        await until(lambda: ref.id in runs._index, "the sleepy run in the run tree")
        runs.focus()
        runs.move_cursor(runs._index[ref.id])
        await pilot.pause(0.3)
        app.screen.query_one(DetailPane).focus()
        await pilot.pause()
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, DisableScreen), "the reason prompt")
        await pilot.press("enter")
        await until(lambda: not task_info(daemon, "sleepy").enabled, "sleepy to be disabled")
        assert task_info(daemon, "hello").enabled
        daemon.call(Cancel(run_id=ref.id))


async def test_escape_in_the_reason_prompt_disables_nothing(daemon: DaemonProcess) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, DisableScreen), "the reason prompt")
        await pilot.press(*"never mind", "escape")
        await until(lambda: not isinstance(app.screen, DisableScreen), "the prompt to close")
        await pilot.pause(0.3)
        assert task_info(daemon, "hello").enabled
        assert not any(e.action == "disable_task" for e in daemon.call(ListAudit()))


async def test_an_empty_reason_disables_with_the_default(daemon: DaemonProcess) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "hello")
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, DisableScreen), "the reason prompt")
        await pilot.press("enter")
        await until(lambda: not task_info(daemon, "hello").enabled, "hello to be disabled in the daemon")
        assert task_info(daemon, "hello").disabled_reason == DEFAULT_REASON


async def test_marked_tasks_are_disabled_together_with_one_reason(daemon: DaemonProcess) -> None:
    reason = "maintenance window"
    app = live_app(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        for name in ("hello", "sleepy"):
            await select_task(app, pilot, name)
            await pilot.press("x")
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, DisableScreen), "the reason prompt")
        assert "Disable 2 tasks?" in str(app.screen.query_one("#question").render())
        await pilot.press(*reason, "enter")

        def both_disabled() -> bool:
            return all(not task_info(daemon, n).enabled for n in ("hello", "sleepy"))

        await until(both_disabled, "both tasks to be disabled in the daemon")
        assert {task_info(daemon, n).disabled_reason for n in ("hello", "sleepy")} == {reason}


async def test_c_cancels_a_running_run_after_confirmation(daemon: DaemonProcess) -> None:
    ref = daemon.call(TriggerTask(task="sleepy"))
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: ref.id in tree._index, "the sleepy run in the run tree")
        tree.focus()
        tree.move_cursor(tree._index[ref.id])
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation dialog")
        await pilot.press("enter")  # the default button is No
        await pilot.pause(0.3)
        assert not daemon.call(ShowRun(run_id=ref.id)).run.state.terminal
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation dialog")
        await pilot.press("y")
        await until(lambda: daemon.call(ShowRun(run_id=ref.id)).run.state is RunState.CANCELLED,
                    "the run to be cancelled in the daemon")


async def test_breaker_reset_from_the_breakers_view(daemon: DaemonProcess) -> None:
    daemon.call(TripBreaker(service="payments-api"))
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: app.world.welcome is not None, "the handshake")
        await pilot.press("3")
        await until(lambda: "payments-api" in app.world.breakers, "the tripped breaker in the TUI")
        await pilot.pause()
        await pilot.press("o")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation dialog")
        await pilot.press("y")

        def closed() -> bool:
            states = daemon.call(ListBreakers())
            return any(b.service == "payments-api" and b.status is BreakerStatus.CLOSED for b in states)

        await until(closed, "the breaker to be reset")


async def test_reconnects_and_resyncs_after_a_daemon_restart(daemon: DaemonProcess) -> None:
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: "hello" in app.world.tasks, "the first full read")
        daemon.stop(timeout=10)
        await until(lambda: app.connection is not ConnectionState.CONNECTED, "the disconnect to show")
        await pilot.pause()  # the screen shows it on the app's ConnectionChanged message
        banner = app.screen.query_one("#banner")
        assert banner.has_class("-visible")
        (daemon.tasks_dir / "more.toml").write_text('[tasks.added_while_down]\ncommand = "true"\n')
        await asyncio.to_thread(daemon.start)
        await until(lambda: app.connection is ConnectionState.CONNECTED, "the reconnect", timeout=20)
        await until(lambda: "added_while_down" in app.world.tasks, "a full resync after reconnecting")
        await pilot.pause()
        assert not banner.has_class("-visible")


async def test_r_reruns_and_shift_r_reruns_failed_only(daemon: DaemonProcess) -> None:
    first = daemon.call(TriggerTask(task="hello"))
    await until(lambda: daemon.call(ShowRun(run_id=first.id)).run.state.terminal, "hello to finish")
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: first.id in tree._index, "the hello run in the run tree")
        tree.focus()
        tree.move_cursor(tree._index[first.id])
        await pilot.press("r")
        await until(lambda: len(daemon.call(ListRuns(task="hello"))) == 2, "a second hello run")
        assert daemon.call(ListRuns(task="hello"))[0].trigger == "rerun"
        await pilot.press("R")
        await until(lambda: len(daemon.call(ListRuns(task="hello"))) == 3, "a failed-only rerun")


async def test_marked_runs_are_cancelled_together(daemon: DaemonProcess) -> None:
    refs = [daemon.call(TriggerTask(task="sleepy")) for _ in range(2)]
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: all(r.id in tree._index for r in refs), "both runs in the run tree")
        tree.focus()
        for ref in refs:
            tree.move_cursor(tree._index[ref.id])
            await pilot.press("x")
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation dialog")
        await pilot.press("y")

        def all_cancelled() -> bool:
            return all(daemon.call(ShowRun(run_id=r.id)).run.state is RunState.CANCELLED for r in refs)

        await until(all_cancelled, "both runs to be cancelled in the daemon")


VIEWER_SESSION = """
import asyncio, sys
from taskflow.tui import TaskflowApp
from taskflow.tui.widgets import TaskTree

async def main(sock):
    app = TaskflowApp(sock, live_clock=False)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(300):
            if "hello" in app.world.tasks:
                break
            await asyncio.sleep(0.05)
        await pilot.pause()  # the screens load the full read on the app's WorldChanged message
        print("role", app.world.welcome.role)
        print("can_mutate", app.world.can_mutate)
        tree = app.screen.query_one(TaskTree)
        tree.focus()
        tree.move_cursor(tree._index["hello"])
        await pilot.pause()
        from textual.widgets import Footer
        from textual.widgets._footer import FooterKey
        print("footer", " ".join(k.action for k in app.screen.query_one(Footer).query(FooterKey)))
        for key in ("e", "enter", "r", "c"):
            before = len(app._notifications)
            await pilot.press(key)
            await pilot.pause(0.2)
            said = [n.message for n in list(app._notifications)[before:]]
            print("key", key, "screen", type(app.screen).__name__, "said", repr(said))

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
async def test_viewer_session_cannot_change_anything(daemon: DaemonProcess, tmp_path: Path) -> None:
    os.chmod(daemon.socket, 0o666)  # let the viewer reach the socket for this test
    viewer = await asyncio.to_thread(
        subprocess.run,
        ["setpriv", "--reuid=daemon", "--regid=daemon", "--clear-groups", "--",
         sys.executable, "-c", VIEWER_SESSION, daemon.socket],
        capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert viewer.returncode == 0, viewer.stderr[-2000:]
    assert "role viewer" in viewer.stdout
    assert "can_mutate False" in viewer.stdout
    footer = next(line for line in viewer.stdout.splitlines() if line.startswith("footer "))
    assert not set(footer.split()[1:]) & MUTATING_ACTIONS, footer  # not offered to a viewer
    assert "help" in footer.split()
    for key in ("e", "enter", "r", "c"):  # ...and never silent when pressed anyway
        assert f"key {key} screen DashboardScreen said {[viewer_reason()]!r}" in viewer.stdout, viewer.stdout
    assert all(t.enabled for t in daemon.call(ListTasks()))
    assert daemon.call(ListRuns(task="hello")) == []


def many_definitions(groups: int = 100, leaves: int = 100) -> str:
    """``groups`` groups of ``leaves`` command leaves: 10,000 definitions by default."""
    lines: list[str] = []
    for g in range(groups):
        lines.append(f"[tasks.db{g:03d}]")
        for leaf in range(leaves):
            lines += [f"[tasks.db{g:03d}.children.leaf{leaf:03d}]", 'command = "true"']
    return "\n".join(lines) + "\n"


async def test_ten_thousand_definitions_show_rows(tmp_path: Path) -> None:
    proc = DaemonProcess(tmp_path, prefix="tf-tui-big")
    proc.write_tasks(many_definitions(), "big.toml")
    try:
        proc.start(timeout=60.0)
        app = live_app(proc)
        async with app.run_test(size=(120, 36)) as pilot:
            tree = app.screen.query_one(TaskTree)
            await until(lambda: len(tree.root.children) == 100, "100 group rows in the Tasks pane", timeout=20.0)
            await pilot.pause()
            assert tree.root.children[0].data == "db000"
    finally:
        proc.cleanup()


async def test_a_ten_thousand_node_run_tree_loads_in_pages_and_shows_counts(tmp_path: Path) -> None:
    """A run tree too big for one frame: selecting it reads it a page at a time, and the
    collapsed group shows its children by state."""
    children = "".join(f'[tasks.wide.children.n{i:05d}]\ncommand = "true"\nenabled = false\n' for i in range(10_000))
    proc = DaemonProcess(tmp_path, prefix="tf-tui-wide")
    proc.write_tasks('[tasks.wide]\n[tasks.wide.children.bad]\ncommand = "exit 3"\n' + children, "wide.toml")
    try:
        proc.start(timeout=60.0)
        ref = proc.call(TriggerTask(task="wide"))
        await until(lambda: proc.call(GetRun(run_id=ref.id)).state.terminal, "the wide run to end", timeout=60.0)
        app = live_app(proc)
        async with app.run_test(size=(120, 36)) as pilot:
            runs = app.screen.query_one(RunTreeView)
            await until(lambda: ref.id in runs._index, "the wide run in the Runs pane")
            runs.focus()
            runs.move_cursor(runs._index[ref.id])
            await until(lambda: len(app.world.children.get(ref.id, ())) == 10_001, "all 10,001 children read")
            await pilot.pause()
            label = runs._index[ref.id].label.plain
            assert "⤼10000" in label and "✘1" in label, label
            runs._index[ref.id].expand()
            await pilot.pause()
            assert len(runs._index[ref.id].children) == 10_001
    finally:
        proc.cleanup()


async def test_a_paused_pool_and_a_delayed_start_show_as_they_happen(daemon: DaemonProcess) -> None:
    """An operator pauses pool db from the CLI: the header, the task and its held run say so;
    a resume lets the run go. A delayed start shows its start time."""
    from datetime import UTC, datetime, timedelta

    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tasks = app.screen.query_one(TaskTree)
        runs = app.screen.query_one(RunTreeView)
        header = app.query_one(StatusBar)
        await until(lambda: "indexer" in tasks._index, "indexer in the tree")
        await asyncio.to_thread(daemon.call, Pause(pool="db"))
        await until(lambda: "paused" in tasks._index["indexer"].label.plain, "indexer marked paused")
        await until(lambda: "⏸ pool db" in str(header.render()), "the header naming the paused pool")
        assert "paused" not in tasks._index["hello"].label.plain  # not in the pool
        held = await asyncio.to_thread(daemon.call, TriggerTask(task="indexer"))
        await until(lambda: held.id in runs._index and runs._index[held.id].label.plain.startswith(" ○ indexer queued ⏸ paused"),
                    "the held run, queued and paused")
        await asyncio.to_thread(daemon.call, Resume(pool="db"))
        await until(lambda: "succeeded" in runs._index[held.id].label.plain, "the run going once resumed")
        await until(lambda: "paused" not in tasks._index["indexer"].label.plain, "indexer no longer paused")
        await until(lambda: "paused" not in str(header.render()), "the header without a pause")

        later = datetime.now(UTC) + timedelta(hours=3)
        delayed = await asyncio.to_thread(daemon.call, TriggerTask(task="hello", at=later))
        await until(lambda: delayed.id in runs._index, "the delayed run in the tree")
        label = runs._index[delayed.id].label.plain
        assert "pending starts" in label and later.strftime("%H:%M") in label, label
        await asyncio.to_thread(daemon.call, Cancel(run_id=delayed.id))
        await pilot.pause()


async def test_p_pauses_a_task_and_colon_resume_releases_it(daemon: DaemonProcess) -> None:
    """``p`` on a task asks, then pauses it in the daemon (audited); ``:pause pool db`` and
    ``:resume pool db`` from the command palette do the same for a pool."""
    from taskflow.protocol import PauseInfo, Status

    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        await select_task(app, pilot, "indexer")
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Pause indexer? question")
        await pilot.press("y")
        await until(lambda: (daemon.call(Status()).paused or PauseInfo()).tasks == ["indexer"], "indexer paused in the daemon")
        audit = daemon.call(ListAudit())
        assert audit[0].action == "pause" and audit[0].args.get("task") == "indexer"
        tree = app.screen.query_one(TaskTree)
        await until(lambda: "paused" in tree._index["indexer"].label.plain, "indexer shown paused")
        await select_task(app, pilot, "indexer")
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Resume indexer? question")
        await pilot.press("y")
        await until(lambda: daemon.call(Status()).paused is None, "nothing paused any more")

        for verb, expected in (("pause", ["db"]), ("resume", [])):
            await pilot.press("colon")
            await pilot.pause()
            for key in f"{verb} pool db":
                await pilot.press("space" if key == " " else key)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConfirmScreen), f"the {verb} question")
            await pilot.press("y")
            await until(lambda e=expected: _paused_pools(daemon) == e, f"pool db after :{verb}")


async def test_colon_mark_succeeded_releases_what_waited_on_the_failed_run(daemon: DaemonProcess) -> None:
    """``:mark succeeded REASON`` on a failed leaf asks, then marks it in the daemon (audited
    with the reason); the dependent it had skipped runs."""
    ref = daemon.call(TriggerTask(task="fixup"))
    await until(lambda: daemon.call(ShowRun(run_id=ref.id)).run.state.terminal, "fixup to fail")
    tree_of = daemon.call(ShowRun(run_id=ref.id))
    broken = next(c.run for c in tree_of.children if c.run.task == "fixup/broken")
    app = live_app(daemon)
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        await until(lambda: ref.id in tree._index, "the fixup run in the run tree")
        tree.focus()
        for _ in range(100):  # the tree may be rebuilt meanwhile (a resync): open it again
            if broken.id not in tree._index:
                if ref.id in tree._index:
                    tree._index[ref.id].expand()
            else:  # a node added just now has its line once the tree is laid out
                tree.move_cursor(tree._index[broken.id])
            await pilot.pause(0.05)
            if tree.selected_run == broken.id:
                break
        assert tree.selected_run == broken.id
        await pilot.press("colon")
        await pilot.pause()
        for key in "mark succeeded done by hand":
            await pilot.press("space" if key == " " else key)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Mark fixup/broken succeeded? question")
        await pilot.press("y")
        await until(lambda: daemon.call(GetRun(run_id=broken.id)).state is RunState.SUCCEEDED, "broken marked")
        marked = daemon.call(GetRun(run_id=broken.id))
        assert (marked.marked_from, marked.marked_reason) == (RunState.FAILED, "done by hand")
        assert daemon.call(ListAudit())[0].action == "mark"
        await until(lambda: daemon.call(ShowRun(run_id=ref.id)).run.state is RunState.SUCCEEDED,
                    "the tree decided again: after ran")
        await until(lambda: "marked" in app.export_screenshot(), "the run shown marked")


def _paused_pools(daemon: DaemonProcess) -> list[str]:
    from taskflow.protocol import Status

    paused = daemon.call(Status()).paused
    return paused.pools if paused is not None else []
