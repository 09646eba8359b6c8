"""What every view shares: the status bar, the disconnected banner, the footer, and role checks."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from taskflow.client.aio import ConnectionState
from taskflow.tui.messages import ClockTick, ConnectionChanged, ThemeChanged, WorldChanged
from taskflow.tui.screens.daemon_actions import DaemonActions
from taskflow.tui.session import Session
from taskflow.tui.widgets import ConnectionBanner, StatusBar
from taskflow.tui.widgets.diff_table import DiffTable
from taskflow.tui.widgets.filter_input import FilterInput
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

    _shown_before = False
    _palette_seen: object = None

    def on_mount(self) -> None:
        session = self.session
        self._show_connection(session.connection, session.connection_reason)

    def on_screen_resume(self) -> None:
        """Shown again: apply what changed meanwhile rather than rebuilding the view (a
        rebuild of a few thousand rows is what made switching views slow)."""
        self.refresh_status()
        missed = self.session.missed_changes(self.VIEW_NAME)
        palette = self.session.palette
        if not self._shown_before:  # composed just now from the current world
            self._shown_before = True
            self._palette_seen = palette
            self.reload()
        elif palette is not self._palette_seen:
            self._palette_seen = palette
            self.post_message(ThemeChanged(palette))
        elif missed:
            self.post_message(WorldChanged(missed))

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
        self._palette_seen = message.palette
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
            target=session.target_label,
        )

    def reload(self) -> None:
        """Rebuild this view from the session's world (on show and after a full re-read)."""

    def action_back(self) -> None:
        if self.app.current_mode != "dashboard":
            self.app.switch_mode("dashboard")


class TableViewScreen(ViewScreen):
    """A view whose body is one keyed ``DiffTable``: history, breakers, audit. By default the
    table has the view's name as id, ``COLUMNS`` and ``TABLE_TITLE`` as its border title, and
    ``/`` filters its rows by their text (``keep``)."""

    COLUMNS: list[str] = []
    TABLE_TITLE = ""
    DEFAULT_CSS = """
    TableViewScreen #table-filter { display: none; height: 3; }
    TableViewScreen.-filtering #table-filter { display: block; }
    """
    filter_text = ""

    def compose(self) -> ComposeResult:
        yield from self.compose_chrome_top()
        yield FilterInput(placeholder="filter rows by any column (esc clears)", id="table-filter")
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

    def keep(self, rows: list[tuple[str, tuple[Text, ...]]]) -> list[tuple[str, tuple[Text, ...]]]:
        """The rows whose text contains the filter (all of them without one)."""
        needle = self.filter_text.lower()
        if not needle:
            return rows
        return [row for row in rows if any(needle in cell.plain.lower() for cell in row[1])]

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#table-filter", Input).focus()

    @on(Input.Changed, "#table-filter")
    def _table_filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.table.rebuild([])  # a filter changes which rows and in what order: refill
        self.reload()

    @on(Input.Submitted, "#table-filter")
    def _table_filter_done(self) -> None:
        self.table.focus()

    def action_back(self) -> None:
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.query_one("#table-filter", Input).value = ""
            self.table.focus()
            return
        super().action_back()
