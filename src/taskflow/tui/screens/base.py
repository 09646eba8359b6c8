"""What every view shares: the status bar, the disconnected banner, the footer, and role checks."""

from __future__ import annotations

from typing import cast

from textual.app import ComposeResult
from textual.screen import Screen

from taskflow.client.aio import ConnectionState
from taskflow.tui.messages import ClockTick, ConnectionChanged, ThemeChanged, WorldChanged
from taskflow.tui.screens.daemon_actions import DaemonActions
from taskflow.tui.session import Session
from taskflow.tui.widgets import ConnectionBanner, StatusBar
from taskflow.tui.widgets.diff_table import DiffTable
from taskflow.tui.widgets.key_footer import KeyFooter


class ViewScreen(Screen[None]):
    """Base of the dashboard, history, breakers and audit views.

    It handles the app's messages for the chrome (status bar, banner, key bindings); each
    view adds its own ``on_<message>`` handlers for its body. Textual calls the handler of
    every class in the MRO, subclass first, so no handler calls ``super()``.
    """

    VIEW_NAME = "view"

    @property
    def session(self) -> Session:
        """The app as this view sees it: world, connection, requests."""
        return cast("Session", self.app)

    @property
    def actions(self) -> DaemonActions:
        """What the view's mutating keys do to the daemon."""
        return DaemonActions(self.session, self.app)

    def compose_chrome_top(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield ConnectionBanner(id="banner")

    def compose_chrome_bottom(self) -> ComposeResult:
        yield KeyFooter()

    def on_mount(self) -> None:
        session = self.session
        self._show_connection(session.connection, session.connection_reason)

    def on_screen_resume(self) -> None:
        self.refresh_status()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A viewer's mutating keys still reach their actions, which refuse with one sentence
        # (``DaemonActions``): a key that is dropped silently looks broken. The footer leaves
        # them out for viewers instead (``KeyFooter``).
        return True

    # -- the app's messages ---------------------------------------------------------------

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self._show_connection(message.state, message.reason)

    def on_clock_tick(self, message: ClockTick) -> None:
        self.refresh_status()

    def on_world_changed(self, message: WorldChanged) -> None:
        changes = message.changes
        if changes.status or changes.resync:
            self.refresh_status()
        if changes.resync:
            self.refresh_bindings()

    def on_theme_changed(self, message: ThemeChanged) -> None:
        self.refresh_status()
        self.reload()

    def _show_connection(self, state: ConnectionState, reason: str) -> None:
        self.query_one(ConnectionBanner).show(state, reason)
        self.refresh_status()

    def refresh_status(self) -> None:
        session = self.session
        self.query_one(StatusBar).show(
            welcome=session.world.welcome,
            status=session.world.status,
            host=session.host,
            connection=session.connection,
            view=self.VIEW_NAME,
            read_only=session.world.read_only,
        )

    def reload(self) -> None:
        """Rebuild this view from the session's world (on show and after a full re-read)."""

    def action_back(self) -> None:
        if self.app.current_mode != "dashboard":
            self.app.switch_mode("dashboard")


class TableViewScreen(ViewScreen):
    """A view whose body is one keyed ``DiffTable``: history, breakers, audit. By default the
    table has the view's name as id, ``COLUMNS`` and ``TABLE_TITLE`` as its border title."""

    COLUMNS: list[str] = []
    TABLE_TITLE = ""

    def compose(self) -> ComposeResult:
        yield from self.compose_chrome_top()
        table = DiffTable(self.COLUMNS, id=self.VIEW_NAME)
        table.border_title = self.TABLE_TITLE
        yield table
        yield from self.compose_chrome_bottom()

    @property
    def table(self) -> DiffTable:
        return self.query_one(DiffTable)

    def on_mount(self) -> None:
        self.call_after_refresh(self.reload)
        self.table.focus()
