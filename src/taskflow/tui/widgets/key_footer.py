"""The footer every screen shows: the keys that work here, fitted to the terminal's width.

Textual's ``Footer`` lists every shown binding and lets the line run off the right edge, so
at 80 columns ``? Help`` — the key that explains the rest — was the first to go. This one
measures the line first: when it is too wide it drops the least needed keys (in
``DROP_ORDER``) and uses the shorter labels in ``SHORT_LABELS``, and ``? Help`` is never
dropped. A viewer's footer leaves out the mutating keys (pressing one anyway explains why
it does nothing). A dialog's footer shows the dialog's own keys only: the view's keys and
``q Quit`` do nothing while a dialog is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple, cast

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # Footer's own item widget (not re-exported)

from taskflow.tui.bindings import MUTATING_ACTIONS
from taskflow.tui.session import Session

HELP_ID = "taskflow.help"

#: Shorter labels, used when the full ones do not fit.
SHORT_LABELS: dict[str, str] = {
    "taskflow.toggle": "On/off",
    "taskflow.rerun_failed": "Rerun ✘",
    "taskflow.log.follow": "Follow",
    "taskflow.history.state": "State",
}

#: Keys left out first when the line is still too wide (each is also in help, ``?``).
DROP_ORDER: tuple[str, ...] = (
    "taskflow.rerun_failed",
    "taskflow.filter",
    "taskflow.logs",
    "taskflow.log.wrap",
    "taskflow.toggle",
    "taskflow.rerun",
    "taskflow.log.search",
    "taskflow.quit",
)


class FooterItem(NamedTuple):
    key: str  # the key pressed when the item is clicked
    key_display: str
    label: str
    short: str
    action: str
    binding_id: str
    enabled: bool = True
    tooltip: str = ""

    def width(self, short: bool) -> int:
        # FooterKey's padding: one cell either side of the key, one after the label.
        return cell_len(self.key_display) + 2 + cell_len(self.short if short else self.label) + 1


def fit(items: list[FooterItem], width: int) -> tuple[list[FooterItem], bool]:
    """The items to show in ``width`` cells and whether to use the short labels."""
    droppable = [i for i in items if i.binding_id != HELP_ID]
    ranked = sorted(
        droppable,
        key=lambda i: DROP_ORDER.index(i.binding_id) if i.binding_id in DROP_ORDER
        else len(DROP_ORDER) + len(droppable) - droppable.index(i),
    )
    for dropped in range(len(ranked) + 1):
        gone = {id(i) for i in ranked[:dropped]}
        kept = [i for i in items if id(i) not in gone]
        for short in (False, True):
            if sum(i.width(short) for i in kept) <= width:
                return kept, short
    return [i for i in items if i.binding_id == HELP_ID], True


class KeyFooter(Footer):
    """``own_keys``: list only these bindings, a modal screen's own (dialogs, help), instead
    of every binding active on the screen."""

    def __init__(self, *, own_keys: Callable[[], Iterable[Binding]] | None = None, id: str | None = None) -> None:
        super().__init__(id=id, show_command_palette=False)
        self.own_keys = own_keys
        self._width = 0

    def _items(self) -> Iterator[FooterItem]:
        app = self.app
        viewer = not cast("Session", app).world.can_mutate
        own_keys_only = self.own_keys is not None
        if self.own_keys is not None:
            entries: list[tuple[Binding, bool]] = [(own, True) for own in self.own_keys()]
        else:
            entries = [(b.binding, b.enabled) for b in self.screen.active_bindings.values()]
        grouped: dict[str, list[tuple[Binding, bool]]] = {}
        for binding, enabled in entries:
            if not binding.show or not binding.description:
                continue
            if viewer and binding.action.split("(")[0] in MUTATING_ACTIONS:
                continue  # not for viewers: left out rather than shown and refused
            group_key = (binding.id or binding.action) if own_keys_only else binding.action
            grouped.setdefault(group_key, []).append((binding, enabled))
        for group in grouped.values():
            binding, enabled = group[0]
            displays: list[str] = []
            if own_keys_only:  # a dialog's few keys: show every key of a binding
                for other, _ in group:
                    display = app.get_key_display(other)
                    if display not in displays:
                        displays.append(display)
            else:
                displays.append(app.get_key_display(binding))
            binding_id = binding.id or binding.action
            yield FooterItem(
                key=binding.key,
                key_display="/".join(displays),
                label=binding.description,
                short=SHORT_LABELS.get(binding_id, binding.description),
                action=binding.action,
                binding_id=binding_id,
                enabled=enabled,
                tooltip=binding.tooltip,
            )

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._width = self.app.size.width
        shown, short = fit(list(self._items()), self._width)
        for item in shown:
            yield FooterKey(
                item.key,
                item.key_display,
                item.short if short else item.label,
                item.action,
                disabled=not item.enabled,
                tooltip=item.tooltip,
            ).data_bind(compact=Footer.compact)

    def on_resize(self, event: Resize) -> None:
        if self._bindings_ready and self.app.size.width != self._width:
            self.call_after_refresh(self.recompose)
