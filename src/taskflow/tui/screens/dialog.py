"""The frame every modal dialog shares: a centred, bordered box with its buttons on the right.

Confirmation, trigger parameters and the disable reason differ only in what is inside the
box, so the box is styled once here and each dialog overrides just its width or border
colour. Sizes are capped in percent so every dialog still fits an 80x24 terminal.
"""

from __future__ import annotations

from typing import TypeVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Button, Input, Static

from taskflow.tui.screens.modal import OwnKeysModal
from taskflow.tui.session import Session

ResultType = TypeVar("ResultType")


class DialogScreen(OwnKeysModal[ResultType]):
    """Base of the modal dialogs: ``compose_dialog`` yields one ``Vertical`` box, buttons in
    a ``Horizontal``; under it a footer with the dialog's own keys (while a dialog is open
    the view's keys and ``q`` do nothing, so they are not shown)."""

    DEFAULT_CSS = """
    DialogScreen { align: center middle; }
    DialogScreen > Vertical {
        width: 64; max-width: 90%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    DialogScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    DialogScreen Button { margin-left: 2; }
    """

    def compose(self) -> ComposeResult:
        yield from self.compose_dialog()
        yield self.own_keys_footer()

    def compose_dialog(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        # A blinking cursor is a ticking timer: an app without live timers (tests,
        # screenshots) keeps the cursor steady so its frames are deterministic.
        if not cast("Session", self.app).live_clock:
            for field in self.query(Input):
                field.cursor_blink = False


def question_label(text: str, detail: str = "") -> Static:
    """The dialog's question in bold, with an optional plain line of detail under it."""
    shown = Text(text, style="bold")
    if detail:
        shown.append("\n" + detail, style="not bold")
    return Static(shown, id="question")


class FormDialog(DialogScreen[ResultType]):
    """A dialog with text fields: enter in a field or the ``SUBMIT`` button submits; esc (bound
    by the subclass, with its own binding id) or any other button returns ``None``."""

    SUBMIT = "submit"  # id of the button that submits

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SUBMIT:
            self.submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        """Enter outside a text field (a field's own enter submits too)."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        else:
            self.submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def submit(self) -> None:
        raise NotImplementedError
