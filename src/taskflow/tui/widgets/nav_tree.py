"""A ``Tree`` that leaves enter and space to the screen.

Textual's ``Tree`` binds enter (select) and space (toggle); in taskflow those keys trigger
a run and toggle enable, and they must stay remappable through their binding ids. So the
trees drop the inherited bindings and keep only navigation; arrows expand and collapse.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.binding import Binding
from textual.widgets import Tree

T = TypeVar("T")


class NavigableTree(Tree[T], Generic[T], inherit_bindings=False):
    """Cursor keys only; left collapses (or goes to the parent), right expands."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("left,h", "collapse_or_parent", "Collapse", show=False),
        Binding("right", "expand", "Expand", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "First", show=False),
        Binding("end", "scroll_end", "Last", show=False),
        Binding("shift+up", "cursor_previous_sibling", "Previous sibling", show=False),
        Binding("shift+down", "cursor_next_sibling", "Next sibling", show=False),
    ]

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.expand()
