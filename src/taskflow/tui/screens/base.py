"""What every view shares: the status bar, the disconnected banner, the footer, and role checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen

from taskflow.tui.state import Changes
from taskflow.tui.widgets import ConnectionBanner, StatusBar
from taskflow.tui.widgets.diff_table import DiffTable
from taskflow.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from taskflow.tui.app import TaskflowApp


class ViewScreen(Screen[None]):
    """Base of the dashboard, history, breakers and audit views."""

    VIEW_NAME = "view"

    @property
    def tapp(self) -> TaskflowApp:
        return cast("TaskflowApp", self.app)

    def compose_chrome_top(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield ConnectionBanner(id="banner")

    def compose_chrome_bottom(self) -> ComposeResult:
        yield KeyFooter()

    def on_mount(self) -> None:
        self.connection_changed()

    def on_screen_resume(self) -> None:
        self.refresh_status()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A viewer's mutating keys still reach their actions, which refuse with one sentence
        # (``Operations``): a key that is dropped silently looks broken. The footer leaves
        # them out for viewers instead (``KeyFooter``).
        return True

    # -- hooks called by the app ----------------------------------------------------------

    def connection_changed(self) -> None:
        app = self.tapp
        self.query_one(ConnectionBanner).show(app.connection, app.connection_reason)
        self.refresh_status()

    def refresh_status(self) -> None:
        app = self.tapp
        self.query_one(StatusBar).show(
            welcome=app.world.welcome,
            status=app.world.status,
            host=app.host,
            connection=app.connection,
            view=self.VIEW_NAME,
        )

    def tick(self) -> None:
        self.refresh_status()

    def apply_changes(self, changes: Changes) -> None:
        if changes.status or changes.resync:
            self.refresh_status()
        if changes.resync:
            self.refresh_bindings()

    def theme_changed(self) -> None:
        self.refresh_status()
        self.reload()

    def reload(self) -> None:
        """Rebuild this view from ``app.world`` (on show and after a full re-read)."""

    def action_back(self) -> None:
        if self.tapp.current_mode != "dashboard":
            self.tapp.switch_mode("dashboard")




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
        super().on_mount()
        self.call_after_refresh(self.reload)
        self.table.focus()
