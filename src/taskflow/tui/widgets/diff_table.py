"""A ``DataTable`` updated by diffing keyed rows, as Dolphie does for its live tables.

``sync(rows)`` adds new keys, removes vanished ones and calls ``update_cell`` only for cells
whose value changed, so a refresh at 1 Hz of a hundred rows repaints only what moved.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class DiffTable(DataTable[Text]):
    """Rows keyed by a domain id (service name, run id); cells are ``Text`` (never markup)."""

    def __init__(self, columns: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._column_names = columns
        self._values: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for name in self._column_names:
            self.add_column(name, key=name)

    @property
    def column_names(self) -> list[str]:
        return list(self._column_names)

    def set_columns(self, columns: list[str]) -> bool:
        """Show these columns instead (rows are dropped: refill with ``rebuild``); returns
        whether anything changed."""
        if columns == self._column_names:
            return False
        self._column_names = columns
        self._values = {}
        self.clear(columns=True)
        for name in columns:
            self.add_column(name, key=name)
        return True

    def sync(self, rows: list[tuple[str, tuple[Text, ...]]]) -> None:
        """Make the table show exactly ``rows`` (key, cells), in that order for new rows."""
        wanted = dict(rows)
        for key in [k for k in self._values if k not in wanted]:
            self.remove_row(key)
            del self._values[key]
        order_changed = False
        for key, cells in rows:
            old = self._values.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                order_changed = True
            else:
                for name, before, after in zip(self._column_names, old, cells, strict=True):
                    if before != after:
                        # Widen the column if needed: a breaker that opens after the table
                        # was built showed "2026-12-0" in a column sized for "-".
                        self.update_cell(key, name, after, update_width=True)
            self._values[key] = cells
        if order_changed and list(self._values) != [k for k, _ in rows]:
            self.rebuild(rows)

    def rebuild(self, rows: list[tuple[str, tuple[Text, ...]]]) -> None:
        """Clear and refill (order changed: filters, a new newest run)."""
        selected = self.selected_key
        self.clear()
        self._values = {}
        for key, cells in rows:
            self.add_row(*cells, key=key)
            self._values[key] = cells
        if selected in self._values:
            self.move_cursor(row=list(self._values).index(selected))

    @property
    def selected_key(self) -> str | None:
        if not self._values or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key((self.cursor_row, 0))
        return row_key.value
