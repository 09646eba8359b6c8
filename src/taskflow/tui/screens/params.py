"""Parameters for a manual trigger: one field per spec parameter, plus free ``key=value``s.

The spec's params are the defaults. Values that were not strings in the spec are read as
JSON (``3``, ``true``, ``[1, 2]``) so an ``int`` parameter stays an int; everything else is
sent as a string and the daemon checks it against the function's type hints.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from taskflow.tui.screens.dialog import FormDialog


def parse_value(raw: str, default: Any) -> Any:
    """Keep the default's type where the text allows it."""
    if isinstance(default, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_pairs(raw: str) -> dict[str, str]:
    """``"a=1 b=two"`` → ``{"a": "1", "b": "two"}``; raises ``ValueError`` on a bad pair."""
    pairs: dict[str, str] = {}
    for item in raw.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{item!r} is not key=value")
        pairs[key] = value
    return pairs


class ParamsScreen(FormDialog[dict[str, Any] | None]):
    """Returns the params to trigger with, or ``None`` when cancelled."""

    DEFAULT_CSS = """
    /* Several params do not fit 24 lines: the box scrolls (tab or the mouse) instead of
       cutting off its buttons; enter and esc work from any field (see the footer). */
    ParamsScreen > Vertical { width: 70; max-width: 95%; overflow-y: auto; }
    ParamsScreen Label { margin-top: 1; }
    ParamsScreen #error { color: $error; }
    """
    BINDINGS = [
        Binding("enter", "submit", "Run", id="taskflow.params.submit"),
        Binding("escape", "cancel", "Cancel", id="taskflow.params.cancel"),
    ]
    SUBMIT = "run"

    def __init__(self, task: str, defaults: dict[str, Any]) -> None:
        super().__init__()
        self.task_name = task
        self.defaults = defaults

    def compose_dialog(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Run {self.task_name}", style="bold"))
            # Ids by position: nothing is mounted yet while composing, so counting the
            # Inputs already in the DOM gave every field "param-0" (a crash with two params).
            for index, (key, value) in enumerate(self.defaults.items()):
                yield Label(Text(key))
                shown = value if isinstance(value, str) else json.dumps(value)
                yield Input(shown, id=f"param-{index}", name=key)
            yield Label(Text("more (key=value …)"))
            yield Input(placeholder="name=value other=value", id="extra")
            yield Static("", id="error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Run", id="run", variant="primary")

    def on_mount(self) -> None:
        self.query(Input).first().focus()
        # Start at the top (the title and first field), whatever focusing scrolled to.
        box = self.query_one(Vertical)
        self.call_after_refresh(box.scroll_home, animate=False)

    def submit(self) -> None:
        params: dict[str, Any] = {}
        for field in self.query(Input):
            if field.id == "extra":
                continue
            key = field.name or ""
            params[key] = parse_value(field.value, self.defaults.get(key))
        try:
            params.update(parse_pairs(self.query_one("#extra", Input).value))
        except ValueError as exc:
            self.query_one("#error", Static).update(Text(str(exc)))
            return
        self.dismiss(params)
