"""``TaskflowApp(read_only=True)`` (``taskflow tui --read-only``, what ``taskflow web`` serves):
an operator's dashboard that acts as a viewer's, saying that it was opened read-only."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from tui_sample import NOW, sample_snapshot

from taskflow.model import Role
from taskflow.tui import TaskflowApp
from taskflow.tui.bindings import MUTATING_ACTIONS, viewer_reason
from taskflow.tui.clock import fixed_clock, fixed_host_metrics
from taskflow.tui.widgets import StatusBar


def read_only_app(role: Role) -> TaskflowApp:
    return TaskflowApp(snapshot=sample_snapshot(role), clock=fixed_clock(NOW),
                       host_metrics=fixed_host_metrics(12.0, 40.0), live_clock=False,
                       watch_themes=False, read_only=True)


def footer_actions(app: TaskflowApp) -> set[str]:
    return {key.action.split("(")[0] for key in app.screen.query_one(Footer).query(FooterKey)}


async def test_an_operator_opened_read_only_is_refused_every_mutating_key() -> None:
    app = read_only_app(Role.OPERATOR)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not app.world.can_mutate
        header = str(app.screen.query_one(StatusBar).render())
        assert "(operator) read-only" in header
        for view, keys in [("1", ["r", "R", "c", "e", "enter"]), ("2", ["r", "R", "c"]), ("3", ["t", "o"])]:
            await pilot.press(view)
            await pilot.pause()
            screen = app.screen
            assert not footer_actions(app) & MUTATING_ACTIONS, view
            for key in keys:
                before = len(app._notifications)
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is screen, f"{key} opened a dialog"
                refusals = [n.message for n in list(app._notifications)[before:]]
                assert refusals == [viewer_reason(forced=True)], f"{key} on view {view}: {refusals}"


async def test_a_full_read_keeps_the_client_read_only() -> None:
    app = read_only_app(Role.ADMIN)
    async with app.run_test(size=(120, 36)) as pilot:
        app.world.load(sample_snapshot(Role.ADMIN))  # what a resync does
        await pilot.pause()
        assert app.world.read_only and not app.world.can_mutate
