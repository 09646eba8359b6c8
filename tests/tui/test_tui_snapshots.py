"""Snapshot tests: what each screen looks like, frame for frame.

Update after an intended change with ``pytest tests/tui --snapshot-update`` and review the
SVGs in ``tests/tui/__snapshots__/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from taskflow.client.aio import ConnectionState
from taskflow.model import Role
from taskflow.tui import TaskflowApp

SIZE = (120, 36)
SMALL = (80, 24)  # the smallest terminal everything must fit: an SSH session's default
AppFactory = Callable[..., TaskflowApp]


async def settle(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def pressing(*keys: str, wait: float = 0.0) -> Callable[[Pilot], Awaitable[None]]:
    """A ``run_before`` that presses ``keys`` one at a time, letting workers (a dialog opened
    from another dialog's answer) finish in between, then waits ``wait`` seconds and settles."""

    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if wait:
            await pilot.pause(wait)
            await settle(pilot)

    return run


# Selecting a run fetches its attempts and output after a 0.15 s debounce: a dialog opened
# before that would race it, so the frame is taken with the output loaded.
ON_DEPLOY_RUN = pressing("tab", "down", wait=0.3)


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
    assert snap_compare(offline_app(), press=["c", "_"], terminal_size=SIZE, run_before=ON_DEPLOY_RUN)


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


# -- dialogs: each kind with its own footer (its keys, no "q Quit") ------------------------

def test_confirm_run_dialog(snap_compare, offline_app: AppFactory) -> None:
    # enter on the Tasks tree (deploy under the cursor) asks first; No is focused.
    assert snap_compare(offline_app(), press=["enter"], terminal_size=SIZE, run_before=settle)


def test_params_dialog(snap_compare, offline_app: AppFactory) -> None:
    # echo-markup has params: "Run echo-markup?" → y → its params, "[bold]" shown literally.
    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=pressing("down", "enter", "y"))


def test_disable_reason_prompt(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["e"], terminal_size=SIZE, run_before=settle)


# -- 80x24: everything an operator needs fits ---------------------------------------------

def test_dashboard_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), terminal_size=SMALL, run_before=settle)


def test_log_pane_focused_80x24(snap_compare, offline_app: AppFactory) -> None:
    # The focused pane's keys come first in the footer; "? Help" still fits.
    assert snap_compare(offline_app(), press=["tab", "down", "tab", "tab", "_"], terminal_size=SMALL,
                        run_before=settle)


def test_history_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["2", "_"], terminal_size=SMALL, run_before=settle)


def test_breakers_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["3", "_"], terminal_size=SMALL, run_before=settle)


def test_audit_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["4", "_"], terminal_size=SMALL, run_before=settle)


def test_help_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["question_mark", "_"], terminal_size=SMALL, run_before=settle)


def test_viewer_role_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(role=Role.VIEWER), terminal_size=SMALL, run_before=settle)


def test_confirm_cancel_dialog_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["c", "_"], terminal_size=SMALL, run_before=ON_DEPLOY_RUN)


def test_confirm_run_dialog_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["enter"], terminal_size=SMALL, run_before=settle)


def test_trip_breaker_dialog_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), press=["3", "t", "_"], terminal_size=SMALL, run_before=settle)


def test_params_dialog_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(), terminal_size=SMALL, run_before=pressing("down", "enter", "y"))


def test_breakers_filtered_80x24(snap_compare, offline_app: AppFactory) -> None:
    # `/` on the Breakers view: the field (steady cursor) and only the matching row.
    assert snap_compare(offline_app(), terminal_size=SMALL, run_before=pressing("3", "slash", "p", "o", "s"))


def test_bulk_rerun_dialog_lists_run_ids_80x24(snap_compare, offline_app: AppFactory) -> None:
    # space marks without moving the cursor (so: down between marks); the question names
    # every marked run.
    assert snap_compare(offline_app(), terminal_size=SMALL,
                        run_before=pressing("tab", "space", "down", "space", "r", wait=0.3))


async def _hosts_view_with_figures(pilot: Pilot) -> None:
    """The Hosts view with fixed figures: local up, web-1 up with failures and an open
    breaker, web-2 lost (the way ``FleetWatch`` fills them from real daemons)."""
    from taskflow.client.aio import ConnectionState as State

    app = pilot.app
    await settle(pilot)
    app.show_hosts()
    await settle(pilot)
    watch = app.fleet_watch
    for name, version, busy, running, failed, open_ in (("local", "0.1.0", 2, 2, 0, 0),
                                                         ("web-1", "0.1.0", 8, 8, 3, 1)):
        view = watch.hosts[name]
        view.connection, view.version, view.user, view.role = State.CONNECTED, version, "ops", "operator"
        view.workers_busy, view.workers_max, view.running, view.failed_24h, view.open_breakers = busy, 8, running, failed, open_
        view.seen_at = 1.0
    watch.hosts["web-2"].connection = State.RECONNECTING
    watch.hosts["web-2"].reason = "host web-2 (ops@web-2): ssh: connect to host web-2 port 22: Connection refused"
    app.screen.reload()
    await settle(pilot)


def _fleet():
    from taskflow.client.hosts import Host, HostsFile

    return HostsFile("hosts.toml", {"web-1": Host("web-1", "ops@web-1"), "web-2": Host("web-2", "ops@web-2")},
                     {"web": ("web-1", "web-2")})


def test_hosts_view(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(fleet=_fleet()), terminal_size=SIZE, run_before=_hosts_view_with_figures)


def test_hosts_view_80x24(snap_compare, offline_app: AppFactory) -> None:
    assert snap_compare(offline_app(fleet=_fleet()), terminal_size=SMALL, run_before=_hosts_view_with_figures)


def test_paused_scheduled_and_late(snap_compare, offline_app: AppFactory) -> None:
    """Pool ``db`` paused (header, the task, its held run), a delayed start with its time and
    a run past its ``expect``, at both sizes."""
    from tui_sample import held_snapshot

    assert snap_compare(offline_app(snapshot=held_snapshot()), terminal_size=SIZE, run_before=settle)
    assert snap_compare(offline_app(snapshot=held_snapshot()), terminal_size=SMALL, run_before=settle)


def test_history_paused_scheduled_and_late_80x24(snap_compare, offline_app: AppFactory) -> None:
    from tui_sample import held_snapshot

    assert snap_compare(offline_app(snapshot=held_snapshot()), terminal_size=SMALL, run_before=pressing("2"))
