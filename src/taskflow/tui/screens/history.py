"""Run history: root runs newest first, filtered by state and by text; rerun and cancel here.

The filter text matches the task name or the run id; ``task:NAME`` matches one task exactly.
Changing the state filter also asks the daemon for older runs in that state, so the view is
not limited to what the dashboard happened to load.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input

from taskflow.model import Run, RunState
from taskflow.protocol import ListRuns
from taskflow.tui.bindings import HISTORY_BINDINGS
from taskflow.tui.glyphs import Palette, since, state_text, table_time
from taskflow.tui.messages import ThemeChanged, WorldChanged
from taskflow.tui.screens.base import TableViewScreen
from taskflow.tui.widgets.diff_table import DiffTable
from taskflow.tui.widgets.filter_input import FilterInput

COLUMNS = ["", "state", "task", "run", "trigger", "created", "duration", "tries", "by"]
#: Below this terminal width the trigger column goes and run ids shorten to the run tree's
#: six characters, so duration, tries and who started it still fit 80 columns.
NARROW_WIDTH = 100
NARROW_COLUMNS = [c for c in COLUMNS if c != "trigger"]
STATE_CYCLE: list[RunState | None] = [None, RunState.FAILED, RunState.RUNNING, RunState.SUCCEEDED,
                                      RunState.CANCELLED, RunState.INTERRUPTED, RunState.QUEUED]


def matches(run: Run, state: RunState | None, text: str) -> bool:
    if state is not None and run.state is not state:
        return False
    if not text:
        return True
    if text.startswith("task:"):
        return run.task == text[5:]
    needle = text.lower()
    return needle in run.task.lower() or needle in run.id.lower()


class HistoryScreen(TableViewScreen):
    """Root runs as a table; ``x`` marks rows for bulk rerun/cancel."""

    VIEW_NAME = "history"
    BINDINGS = HISTORY_BINDINGS
    DEFAULT_CSS = """
    HistoryScreen DiffTable { height: 1fr; border: round $primary; }
    HistoryScreen #history-filter { display: none; height: 3; }
    HistoryScreen.-filtering #history-filter { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.state_filter: RunState | None = None
        self.text_filter = ""
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield from self.compose_chrome_top()
        yield FilterInput(placeholder="filter by task or run id; task:NAME for one task", id="history-filter")
        yield DiffTable(self._columns(), id="history")
        yield from self.compose_chrome_bottom()

    def _narrow(self) -> bool:
        return self.app.size.width < NARROW_WIDTH

    def _columns(self) -> list[str]:
        return NARROW_COLUMNS if self._narrow() else COLUMNS

    def on_resize(self) -> None:
        if self.is_mounted and self.table.set_columns(self._columns()):
            self.table.rebuild(self._rows())
            self.reload()

    def _cells(self, run: Run, palette: Palette) -> tuple[Text, ...]:
        now = self.session.clock()
        mark = Text("▌" if run.id in self.marked else " ", style=palette.style("marked"))
        state = state_text(run.state, palette)
        if run.error_type is not None:
            state.append(f":{run.error_type.value}")
        if run.late_at is not None:  # past its task's ``expect``
            state.append(" ⏰late", style=palette.style("state-failed"))
        duration = since(run.started_at, run.finished_at, now) or "-"
        if run.state is RunState.PENDING and run.not_before is not None and run.started_at is None:
            duration = "at " + run.not_before.strftime("%H:%M")  # run --at / --in
        columns = self.table.column_names  # what the table shows now, whatever the width says
        narrow = "trigger" not in columns
        cells = {
            "": mark,
            "state": state,
            "task": Text(run.task, style="bold"),
            "run": Text(run.id[-6:].lower() if narrow else run.id[-10:].lower()),
            "trigger": Text(run.trigger.value),
            "created": Text(table_time(run.created_at)),
            "duration": Text(duration),
            "tries": Text(str(run.attempts)),
            "by": Text(run.requested_by or "-"),
        }
        return tuple(cells[name] for name in columns)

    def _rows(self) -> list[tuple[str, tuple[Text, ...]]]:
        palette = self.session.palette
        return [
            (run.id, self._cells(run, palette))
            for run in self.session.world.roots()
            if matches(run, self.state_filter, self.text_filter)
        ]

    def reload(self) -> None:
        if not self.is_mounted or not self.table.columns:
            return
        self.table.sync(self._rows())
        label = self.state_filter.value if self.state_filter else "all states"
        title = f"History · {label}" + (f" · {self.text_filter}" if self.text_filter else "")
        self.table.border_title = Text(title)
        self.table.border_subtitle = Text(f"{self.table.row_count} runs" + (f" · {len(self.marked)} marked" if self.marked else ""))

    def on_world_changed(self, message: WorldChanged) -> None:
        if message.changes.runs or message.changes.resync:
            self.reload()

    def on_theme_changed(self, message: ThemeChanged) -> None:
        # Every cell is coloured: redraw them all (``ViewScreen``'s handler then reloads).
        if self.is_mounted and self.table.columns:
            self.table.rebuild(self._rows())

    # -- actions --------------------------------------------------------------------------

    def _targets(self) -> list[str]:
        if self.marked:
            return sorted(self.marked)
        key = self.table.selected_key
        return [key] if key else []

    def action_rerun(self) -> None:
        self.actions.rerun(self._targets())

    def action_rerun_failed(self) -> None:
        self.actions.rerun(self._targets(), failed_only=True)

    def mark_selected(self, state: RunState, reason: str) -> None:
        """``:mark succeeded REASON``: the marked rows, else the selected one."""
        self.actions.mark(self._targets(), state, reason)

    def action_cancel(self) -> None:
        self.actions.cancel(self._targets())

    def action_mark(self) -> None:
        key = self.table.selected_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.reload()  # the cursor stays: marking is not moving

    def action_cycle_state(self) -> None:
        index = STATE_CYCLE.index(self.state_filter)
        self.state_filter = STATE_CYCLE[(index + 1) % len(STATE_CYCLE)]
        self.table.rebuild(self._rows())
        self.reload()
        if self.session.client is not None:
            self.run_worker(self._fetch_older(), exclusive=True, group="history")

    async def _fetch_older(self) -> None:
        runs = await self.session.request(ListRuns(state=self.state_filter, limit=200, roots_only=True))
        if runs:
            self.session.world.add_runs(runs)
            self.table.rebuild(self._rows())
            self.reload()

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#history-filter", Input).focus()

    @on(Input.Changed, "#history-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self.table.rebuild(self._rows())
        self.reload()

    @on(Input.Submitted, "#history-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def action_back(self) -> None:
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.query_one("#history-filter", Input).value = ""
            self.table.focus()
            return
        if self.marked:
            self.marked.clear()
            self.reload()
            return
        super().action_back()
