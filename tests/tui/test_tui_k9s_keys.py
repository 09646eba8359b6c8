"""What a k9s user reaches for: ``:`` words, space to mark, ``/`` on every table, help,
bulk questions that name their runs, and views that switch without rebuilding.

These run the real app headless on ``tui_sample`` data; no daemon needed.
"""

from __future__ import annotations

from collections.abc import Callable

from tui_sample import run_id

from taskflow.model import Run, RunState
from taskflow.protocol import Push, RunChanged
from taskflow.tui import TaskflowApp
from taskflow.tui.commands import parse
from taskflow.tui.screens.confirm import ConfirmScreen
from taskflow.tui.screens.help import HelpScreen
from taskflow.tui.screens.history import HistoryScreen
from taskflow.tui.widgets import RunTreeView, TaskTree
from taskflow.tui.widgets.diff_table import DiffTable

AppFactory = Callable[..., TaskflowApp]


async def run_command(app: TaskflowApp, pilot, words: str) -> None:
    """Type ``words`` into the ``:`` palette and press enter on the best match."""
    await pilot.press("colon")
    await pilot.pause(0.2)
    await pilot.press(*words)
    await pilot.pause(0.4)  # the palette searches its providers in the background
    await pilot.press("enter")
    await pilot.pause(0.2)


def test_colon_words_parse_like_k9s() -> None:
    assert parse(":host web-1") == ("host", "web-1")
    assert parse("runs") == ("runs", "")
    assert parse("  :Breakers ") == ("breakers", "")


async def test_colon_runs_and_breakers_switch_views(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await run_command(app, pilot, "runs")
        assert app.current_mode == "history"
        await run_command(app, pilot, ":breakers")
        assert app.current_mode == "breakers"
        await run_command(app, pilot, "audit")
        assert app.current_mode == "audit"


async def test_colon_hosts_and_host_name_without_a_fleet_say_so(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await run_command(app, pilot, "host web-1")
        assert any("No host named 'web-1' (hosts: local)" in n.message for n in app._notifications)
        await run_command(app, pilot, "hosts")
        assert any(n.message.startswith("No hosts:") for n in app._notifications)
        assert app.current_mode == "dashboard"


async def test_colon_hosts_opens_the_hosts_view_of_the_fleet(offline_app: AppFactory) -> None:
    from taskflow.client.hosts import Host, HostsFile

    fleet = HostsFile("hosts.toml", {"web-1": Host("web-1", "ops@web-1"), "db-1": Host("db-1", "ops@db-1")}, {})
    app = offline_app(fleet=fleet)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await run_command(app, pilot, "hosts")
        assert app.current_mode == "hosts"
        await pilot.pause()
        assert [key.value for key in app.screen.table.rows] == ["local", "web-1", "db-1"]
        assert "@local · alice (operator)" in str(app.screen.query_one("StatusBar").render())


async def test_space_marks_a_run_without_moving_the_cursor(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("tab")
        await pilot.pause()
        tree = app.screen.query_one(RunTreeView)
        line, selected = tree.cursor_line, tree.selected_run
        await pilot.press("space")
        assert tree.marked == {selected}
        assert (tree.cursor_line, tree.selected_run) == (line, selected)
        await pilot.press("x")  # x still marks (here: unmarks) too
        assert tree.marked == set()
        assert app.screen.query_one(TaskTree).marked == set()  # space toggled no task either


async def test_bulk_rerun_question_lists_the_run_ids(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("tab")
        await pilot.pause()
        tree = app.screen.query_one(RunTreeView)
        marked = [r.id for r in app.world.roots()][:2]
        for rid in marked:
            tree.move_cursor(tree._index[rid])
            await pilot.press("space")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Rerun 2 runs?"
        for rid in marked:
            assert rid[-6:].lower() in app.screen.detail


async def test_slash_filters_breakers_and_audit(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one(DiffTable)
        assert table.row_count == 3
        await pilot.press("slash", *"post")
        await pilot.pause()
        assert table.row_count == 1 and table.selected_key == "postgres"
        await pilot.press("escape")  # leaves the filter field; the next one clears the filter
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 3
        await pilot.press("4")
        await pilot.pause()
        audit = app.screen.query_one(DiffTable)
        assert audit.row_count == 3
        await pilot.press("slash", *"carol")
        await pilot.pause()
        assert audit.row_count == 1


async def test_help_lists_the_movement_keys(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = [str(cell) for column in app.screen.table.columns for cell in column._cells]
        assert "Move the cursor" in rows and "↑/↓, k/j" in rows


async def test_a_view_shown_again_applies_what_changed_instead_of_rebuilding(offline_app: AppFactory) -> None:
    """Switching back to the dashboard must not rebuild its trees (that made switches take up
    to a second), yet it shows what changed while it was away."""
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(RunTreeView)
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        rebuilt: list[bool] = []
        original_load = tree.load
        tree.load = lambda world: (rebuilt.append(True), original_load(world))  # type: ignore[method-assign]
        run = app.world.runs[run_id(10)]
        changed = Run(**{f: getattr(run, f) for f in run.__struct_fields__})
        changed.state = RunState.CANCELLED
        app._event_arrived(Push(seq=1, event=RunChanged(run=changed)))
        await pilot.pause(0.2)
        await pilot.press("1")
        await pilot.pause(0.2)
        assert rebuilt == []
        assert "cancelled" in tree._index[run_id(10)].label.plain
