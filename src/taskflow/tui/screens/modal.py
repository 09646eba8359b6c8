"""Modal screens whose footer lists their own keys only: the dialogs and the help screen.

While a modal screen is open the view's keys and ``q`` do nothing, so its footer shows the
modal's own keys, each with every key bound to it (``n/esc No``).
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

from taskflow.tui.widgets.key_footer import KeyFooter

ResultType = TypeVar("ResultType")


class OwnKeysModal(ModalScreen[ResultType]):
    """A modal screen that hands its own bindings to its ``KeyFooter``."""

    def own_bindings(self) -> list[Binding]:
        """This screen's bindings as the keymap remapped them, in the order declared.

        Textual's binding chain is the one place the keymap is applied; the screen's own
        entry in it is what this screen binds, whatever widget inside it has focus.
        """
        return [binding for node, bindings in self._binding_chain if node is self for _key, binding in bindings]

    def own_keys_footer(self) -> KeyFooter:
        return KeyFooter(own_keys=self.own_bindings)
