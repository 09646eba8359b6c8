"""Behaviour of the TUI on fixed data: event batching, filters, roles, keys, themes, logs.

These run the real app headless (``run_test``) on ``tui_sample`` data; no daemon needed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from tui_sample import NOW, run_id

from taskflow.model import BreakerState, BreakerStatus, Role, Run, RunState
from taskflow.protocol import Push, RunChanged, TaskChanged, TaskInfo
from taskflow.tui import TaskflowApp
from taskflow.tui.bindings import MUTATING_ACTIONS, viewer_reason
from taskflow.tui.themes import builtin_theme_dirs, load_themes
from taskflow.tui.widgets import DetailPane, LogPane, RunTreeView, TaskTree

AppFactory = Callable[..., TaskflowApp]


async def test_events_are_applied_in_batches_and_only_touch_changed_runs(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        untouched = tree._index[run_id(1)]
        before = untouched._updates
        deploy = app.world.runs[run_id(20)]
        done = Run(**{**{f: getattr(deploy, f) for f in deploy.__struct_fields__},
                      "state": RunState.SUCCEEDED, "finished_at": NOW, "progress": None})
        new_root = Run(id=run_id(99), task="hello", root_id=run_id(99), state=RunState.QUEUED,
                       created_at=NOW - timedelta(seconds=1))
        for event in (RunChanged(run=done), RunChanged(run=new_root),
                      TaskChanged(task=TaskInfo(name="hello", kind="command", enabled=False, disabled_reason="x"))):
            app._event_arrived(Push(seq=1, event=event))
        await pilot.pause(0.2)
        assert "succeeded" in str(tree._index[run_id(20)].label)
        assert tree.root.children[0].data == run_id(99)  # newest on top
        assert untouched._updates == before  # unchanged runs are not relabelled
        assert "⏸ x" in str(app.screen.query_one(TaskTree)._index["hello"].label)


async def test_cursor_stays_on_its_run_when_runs_arrive_and_the_tree_is_rebuilt(
    offline_app: AppFactory,
) -> None:
    """Textual's Tree keeps a cursor *line*; a run arriving on top or a rebuild (filter,
    resync) must not leave the cursor on another run, or the next ``c`` cancels that one."""
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(RunTreeView)
        tree.focus()
        await pilot.press("down", "down", "down")
        chosen = tree.selected_run
        assert chosen is not None
        new_root = Run(id=run_id(99), task="hello", root_id=run_id(99), state=RunState.QUEUED,
                       created_at=NOW - timedelta(seconds=1))
        app._event_arrived(Push(seq=1, event=RunChanged(run=new_root)))
        await pilot.pause(0.2)
        assert tree.root.children[0].data == run_id(99)
        assert tree.selected_run == chosen
        await pilot.press("slash", "h", "escape")  # filter in and out: both rebuild the tree
        await pilot.pause()
        tree.focus()
        assert tree.selected_run == chosen


async def test_detail_follows_the_focused_tree_not_arriving_runs(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        detail = app.screen.query_one(DetailPane)
        assert str(detail.border_title) == "Task · deploy"  # the focused task tree's cursor
        new_root = Run(id=run_id(99), task="hello", root_id=run_id(99), state=RunState.QUEUED,
                       created_at=NOW - timedelta(seconds=1))
        app._event_arrived(Push(seq=1, event=RunChanged(run=new_root)))
        await pilot.pause(0.2)
        assert str(detail.border_title) == "Task · deploy"  # the operator is still reading it
        await pilot.press("tab")  # into the run tree: the newest run, which just arrived
        await pilot.pause()
        runs = app.screen.query_one(RunTreeView)
        assert app.screen.focused is runs and runs.selected_run == run_id(99)
        assert str(detail.border_title) == "Run · hello"


async def test_filter_narrows_both_trees(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash", *"night")
        await pilot.pause()
        tasks = app.screen.query_one(TaskTree)
        runs = app.screen.query_one(RunTreeView)
        assert [n.data for n in tasks.root.children] == ["nightly"]
        assert set(tasks._index) == {"nightly", "nightly/backup", "nightly/rollback", "nightly/verify"}
        assert [n.data for n in runs.root.children] == [run_id(10)]
        await pilot.press("escape")
        await pilot.pause()
        assert len(tasks.root.children) > 1


def footer_keys(app: TaskflowApp) -> list[FooterKey]:
    return list(app.screen.query_one(Footer).query(FooterKey))


def footer_actions(app: TaskflowApp) -> list[str]:
    return [key.action for key in footer_keys(app)]


def screen_text(app: TaskflowApp) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_viewer_keys_are_left_out_of_the_footer_and_refused_in_one_sentence(
    offline_app: AppFactory,
) -> None:
    """Never a silent key: a viewer's footer has no mutating keys, and pressing one anyway
    says why in one sentence (and opens no dialog)."""
    app = offline_app(role=Role.VIEWER)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        views = [("1", ["r", "R", "c", "e", "enter"]), ("2", ["r", "R", "c"]), ("3", ["t", "o"])]
        for view, keys in views:
            await pilot.press(view)
            await pilot.pause()
            screen = app.screen
            assert not set(footer_actions(app)) & MUTATING_ACTIONS, view
            assert "help" in footer_actions(app)
            for key in keys:
                before = len(app._notifications)
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is screen, f"{key} opened a dialog"
                refusals = [n.message for n in list(app._notifications)[before:]]
                assert refusals == [viewer_reason()], f"{key} on view {view}: {refusals}"
        await pilot.press("1")
        await pilot.press("tab")  # the run tree: enter still expands a run tree for viewers
        await pilot.pause()
        runs = app.screen.query_one(RunTreeView)
        runs.move_cursor(runs._index[run_id(10)])
        await pilot.press("enter")
        await pilot.pause()
        assert runs._index[run_id(10)].is_expanded


async def test_enter_is_only_bound_on_the_trees(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "trigger" in footer_actions(app)  # the Tasks tree has focus
        app.screen.query_one(DetailPane).focus()
        await pilot.pause()
        assert "trigger" not in footer_actions(app)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DashboardScreen"  # no "Run deploy?" either


async def test_footer_fits_80_columns_with_help_on_every_screen(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for keys in (["1"], ["1", "tab"], ["1", "tab", "tab", "tab"], ["2"], ["3"], ["4"]):
            await pilot.press(*keys)
            await pilot.pause()
            shown = footer_keys(app)
            assert "help" in [key.action for key in shown], keys
            assert all(key.region.right <= 80 for key in shown), (keys, screen_text(app)[-1])
            assert screen_text(app)[-1].rstrip().endswith("? Help"), keys
        await pilot.press("1")
        await pilot.pause()
        # The log pane focused: its own keys come first, and help still fits.
        app.screen.query_one(LogPane).output.focus()
        await pilot.pause()
        assert footer_actions(app)[:2] == ["toggle_follow", "cycle_stream"]
        assert "help" in footer_actions(app)


async def test_a_dialog_footer_shows_the_dialog_keys_and_no_quit(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("tab", "down", "c")  # cancel the running deploy: "Cancel 1 run?"
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        assert footer_actions(app) == ["answer(True)", "answer(False)", "choose"]
        bottom = screen_text(app)[-1]
        assert "y Yes" in bottom and "n/esc No" in bottom and "Quit" not in bottom
        await pilot.press("escape", "shift+tab", "e")  # the disable reason prompt
        await pilot.pause()
        assert type(app.screen).__name__ == "DisableScreen"
        assert footer_actions(app) == ["submit", "cancel"]
        assert "esc Cancel" in screen_text(app)[-1] and "Quit" not in screen_text(app)[-1]


async def test_header_keeps_what_matters_at_80_columns(offline_app: AppFactory) -> None:
    for role, must in ((Role.OPERATOR, "alice (operator)"), (Role.VIEWER, "alice (viewer) read-only")):
        app = offline_app(role=role)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            header = screen_text(app)[0]
            for part in (must, "workers 1/8", "queued 2", "cpu 12%", "mem 40%"):
                assert part in header, header
            assert "…" not in header


async def test_run_id_in_the_detail_pane_does_not_wrap_at_80_columns(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "down")
        await pilot.pause(0.3)
        lines = screen_text(app)
        row = next(i for i, line in enumerate(lines) if " run " in line and "01JNRUN" in line)
        assert "task" in lines[row + 1], lines[row : row + 2]
        assert "01JNRUN0000" in lines[row]


async def test_breaker_that_opens_later_shows_its_full_opened_at_time(offline_app: AppFactory) -> None:
    app = offline_app()
    for name, state in list(app.world.breakers.items()):
        app.world.breakers[name] = BreakerState(service=state.service, status=BreakerStatus.CLOSED)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        app.apply_breaker(BreakerState(service="postgres", status=BreakerStatus.OPEN, consecutive_failures=3,
                                       opened_at=NOW - timedelta(seconds=5), half_open_at=NOW + timedelta(seconds=25)))
        await pilot.pause()
        assert any("03-01 11:59:55" in line for line in screen_text(app)), screen_text(app)[:6]


async def test_keys_are_remapped_by_binding_id(offline_app: AppFactory) -> None:
    app = offline_app(keys={"taskflow.rerun": "ctrl+r", "taskflow.no_such_key": "z"})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        active = {key: b.binding.id for key, b in app.screen.active_bindings.items()}
        assert active.get("ctrl+r") == "taskflow.rerun"
        assert active.get("r") != "taskflow.rerun"
        assert any("taskflow.no_such_key" in n.message for n in app._notifications)


async def test_log_pane_search_stream_and_wrap(offline_app: AppFactory) -> None:
    app = offline_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("tab", "end")
        await pilot.pause(0.3)  # the debounced selection loads hello's output
        logs = app.screen.query_one(LogPane)
        assert list(logs.output.lines) == ["hello", "[bold]this is not markup[/bold]", "▌ warning: something on stderr"]
        logs.append("stdout", ["x" * 300])
        logs.flush()
        logs.action_cycle_stream()  # both -> stdout
        assert not any(line.startswith("▌") for line in logs.output.lines)
        logs.action_cycle_stream()  # stdout -> stderr
        assert list(logs.output.lines) == ["▌ warning: something on stderr"]
        logs.action_cycle_stream()  # back to both
        logs.action_toggle_wrap()
        assert max(len(line) for line in logs.output.lines) < 120
        logs.search("STDERR")
        assert logs._match_line >= 0 and "stderr" in logs.output.lines[logs._match_line]
        assert not logs.follow  # jumping to a match pauses following


async def test_bad_theme_files_are_reported_in_one_notification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline_app: AppFactory
) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "broken.toml").write_text("name = \n")
    (themes / "badcolour.toml").write_text('name = "x"\nprimary = "not-a-colour"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\n[variables]\nstate-failed = "#00ff00"\n')
    monkeypatch.setenv("TASKFLOW_THEMES_DIR", str(themes))
    app = offline_app(theme="missing-theme")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        theme_notes = [n.message for n in app._notifications if "Theme" in n.message]
        assert len(theme_notes) == 1
        assert "broken.toml" in theme_notes[0] and "badcolour.toml" in theme_notes[0]
        assert "missing-theme" in theme_notes[0]
        assert app.theme == "taskflow-dark"
        assert "mine" in app.available_themes
        app.theme = "mine"
        await pilot.pause()
        assert app.theme_variables["state-failed"] == "#00ff00"


def test_builtin_themes_are_found_from_the_source_tree() -> None:
    assert builtin_theme_dirs(), "no themes folder next to the package or in the repo"
    loaded = load_themes({"TASKFLOW_THEMES_DIR": "/nonexistent"})
    assert loaded.errors == []
    assert {"taskflow-dark", "taskflow-light", "taskflow-high-contrast"} <= set(loaded.themes)


async def test_edited_theme_file_is_applied_live_and_a_broken_edit_keeps_the_last_good(
    tmp_path: Path, offline_app: AppFactory
) -> None:
    import asyncio
    import os

    themes = Path(os.environ["TASKFLOW_THEMES_DIR"])  # the fixture's empty user folder
    mine = themes / "mine.toml"
    mine.write_text('name = "mine"\nprimary = "#ff0000"\n[variables]\nstate-failed = "#00ff00"\n')
    app = offline_app(theme="mine", watch_themes=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_theme.primary == "#ff0000"
        await pilot.pause(0.5)  # the watcher is up
        mine.write_text('name = "mine"\nprimary = "#0000ff"\n[variables]\nstate-failed = "#123456"\n')
        for _ in range(100):
            if app.current_theme.primary == "#0000ff":
                break
            await asyncio.sleep(0.05)
        assert app.current_theme.primary == "#0000ff"
        await pilot.pause()
        assert app.palette.style("state-failed").color.triplet.hex == "#123456"
        mine.write_text("name = \n")  # broken mid-edit
        for _ in range(100):
            if any("Theme problems" in n.message for n in app._notifications):
                break
            await asyncio.sleep(0.05)
        assert [n.message for n in app._notifications if "Theme problems" in n.message]
        assert app.theme == "mine" and app.current_theme.primary == "#0000ff"
