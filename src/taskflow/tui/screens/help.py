"""The help screen, built from the bindings that are live on the screen it was opened from."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from taskflow.tui.bindings import MOVEMENT_KEYS, MUTATING_ACTIONS
from taskflow.tui.screens.modal import OwnKeysModal


def bindings_table(screen: Screen, can_mutate: bool) -> Table:
    """Key, action and binding id of every active binding, mutating ones marked for viewers."""
    table = Table(box=None, padding=(0, 2), header_style="bold", expand=True)
    table.add_column(Text("key"), no_wrap=True)
    table.add_column(Text("does"))
    table.add_column(Text("id (remap in [tui.keys])"), style="dim", no_wrap=True)
    rows: dict[tuple[str, str], list[str]] = {}  # (id, description) -> keys
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system or not binding.description or not binding.id:
            continue  # cursor movement and Textual's own keys are not ours to list
        description = binding.description
        if not can_mutate and binding.action.split("(")[0] in MUTATING_ACTIONS:
            description += " (not for viewers)"
        keys = rows.setdefault((binding.id or binding.action, description), [])
        display = screen.app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    for (binding_id, description), keys in rows.items():
        table.add_row(Text(", ".join(keys), style="bold"), Text(description), Text(binding_id))
    for keys_text, description in MOVEMENT_KEYS:
        table.add_row(Text(keys_text, style="bold"), Text(description), Text("movement"))
    return table


class HelpScreen(OwnKeysModal[None]):
    """Every key that works right now, with its id for remapping."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="taskflow.help.close")]

    def __init__(self, table: Table, title: str) -> None:
        super().__init__()
        self.table = table
        self.title_text = title

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(self.title_text)
            yield Static(self.table)
        yield self.own_keys_footer()

    def action_close(self) -> None:
        self.dismiss(None)


