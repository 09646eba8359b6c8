"""A text field whose cursor does not blink: the filter and search fields of the views.

A blinking cursor repaints its line twice a second for as long as the field is open; over
SSH that is a steady trickle of bytes for nothing. A steady cursor shows the same thing.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class FilterInput(Input):
    """``Input`` with a steady cursor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_blink = False
