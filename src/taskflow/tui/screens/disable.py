"""Why a task is being disabled: one line of text, sent as ``DisableTask.reason``.

The reason is what ``taskflow ls`` and ``status`` show next to the disabled task and what
the audit log keeps, so the operator is asked for it instead of a fixed phrase. Leaving the
field empty keeps the old default; esc disables nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from taskflow.tui.screens.dialog import FormDialog, question_label

DEFAULT_REASON = "disabled from the TUI"


class DisableScreen(FormDialog[str | None]):
    """Returns the reason to disable with (the default when left empty), or ``None`` on esc."""

    DEFAULT_CSS = """
    DisableScreen > Vertical { border: thick $warning; }
    DisableScreen Label { margin-top: 1; }
    """
    BINDINGS = [
        Binding("enter", "submit", "Disable", id="taskflow.disable.submit"),
        Binding("escape", "cancel", "Cancel", id="taskflow.disable.cancel"),
    ]
    SUBMIT = "disable"

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose_dialog(self) -> ComposeResult:
        with Vertical():
            yield question_label(self.question, self.detail)
            yield Label("Reason (shown by taskflow ls, kept in the audit log)")
            yield Input(placeholder=DEFAULT_REASON, id="reason")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Disable", id="disable", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def submit(self) -> None:
        self.dismiss(self.query_one("#reason", Input).value.strip() or DEFAULT_REASON)
