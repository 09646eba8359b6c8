"""Yes/no confirmation for dangerous actions; the safe answer (No) is the default."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from taskflow.tui.screens.dialog import DialogScreen, question_label


class ConfirmScreen(DialogScreen[bool]):
    """Asks one question; enter on the focused No button, ``n`` or esc all decline."""

    DEFAULT_CSS = """
    ConfirmScreen > Vertical { border: thick $error; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="taskflow.confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="taskflow.confirm.no"),
        # The focused button takes enter itself; this is its footer entry (and a fallback).
        Binding("enter", "choose", "Choose", id="taskflow.confirm.choose"),
        Binding("left,right", "app.focus_next", "Switch", show=False),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose_dialog(self) -> ComposeResult:
        with Vertical():
            yield question_label(self.question, self.detail)
            with Horizontal():
                yield Button("No", id="no", variant="primary")
                yield Button("Yes", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_choose(self) -> None:
        focused = self.focused
        self.dismiss(isinstance(focused, Button) and focused.id == "yes")
