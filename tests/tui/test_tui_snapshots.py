"""Snapshot tests: what each screen looks like, frame for frame.

Update after an intended change with ``pytest tests/tui --snapshot-update`` and review the
SVGs in ``tests/tui/__snapshots__/``.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from taskflow.client.aio import ConnectionState
from taskflow.model import Role
from taskflow.tui import TaskflowApp

SIZE = (120, 36)
AppFactory = Callable[..., TaskflowApp]


async def settle(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def test_dashboard(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=settle)


def test_run_detail(snap_compare, offline_app: AppFactory) -> None:
    # Tab to the run tree; the second root (deploy) is running with progress and an attempt.
    assert snap_compare(offline_app(), press=["tab", "down", "_"], terminal_size=SIZE, run_before=settle)


def test_group_run_expanded(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["tab", "down", "down", "right", "down", "down", "_"],
                        terminal_size=SIZE, run_before=settle)


def test_logs_maximized(snap_compare, offline_app: AppFactory) -> None:
    # hello's output contains "[bold]" which must show literally, and a stderr line.
    assert snap_compare(offline_app(), press=["tab", "end", "_", "l", "_"], terminal_size=SIZE, run_before=settle)


def test_breakers(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["3", "_"], terminal_size=SIZE, run_before=settle)


def test_history(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["2", "_"], terminal_size=SIZE, run_before=settle)


def test_history_failed_filter(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["2", "s", "_"], terminal_size=SIZE, run_before=settle)


def test_audit(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["4", "_"], terminal_size=SIZE, run_before=settle)


def test_help(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["question_mark", "_"], terminal_size=SIZE, run_before=settle)


def test_confirm_cancel_dialog(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["tab", "down", "c", "_"], terminal_size=SIZE, run_before=settle)


def test_disconnected_banner(snap_compare, offline_app: AppFactory) -> None:
    app = offline_app()

    async def lose_connection(pilot: Pilot) -> None:
        app._connection_changed(
            ConnectionState.RECONNECTING,
            "cannot reach taskflowd at /tmp/tf.sock: connection refused; retrying in 0.8s",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=lose_connection)


def test_viewer_role(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(role=Role.VIEWER), terminal_size=SIZE, run_before=settle)


def test_light_theme(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(theme="taskflow-light"), press=["tab", "down", "_"],
                        terminal_size=SIZE, run_before=settle)


def test_high_contrast_theme(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(theme="taskflow-high-contrast"), press=["tab", "down", "_"],
                        terminal_size=SIZE, run_before=settle)


def test_small_terminal_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["tab", "down", "_"], terminal_size=(80, 24), run_before=settle)


def test_disable_reason_prompt_80x24(snap_compare, offline_app: AppFactory) -> None:
    # e on an enabled task (deploy, under the cursor) asks why. No "_" pause key here: the
    # prompt's input would type it. The input's cursor is steady because the app runs
    # without live timers (live_clock=False), so the frame is deterministic.
    assert snap_compare(offline_app(), press=["e"], terminal_size=(80, 24), run_before=settle)
