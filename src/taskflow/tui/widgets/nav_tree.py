"""A ``Tree`` that leaves enter and space to the screen.

Textual's ``Tree`` binds enter (select) and space (toggle); in taskflow those keys trigger
a run and toggle enable, and they must stay remappable through their binding ids. So the
trees drop the inherited bindings and keep only navigation; arrows expand and collapse.

``move_cursor`` is overridden because Textual's puts the cursor on the line the node had at
the last layout: after nodes were added or removed (a run arriving on top, a resync), that
line belongs to another node, and an operator's next ``c`` would cancel the wrong run.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

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

    def move_cursor(self, node: TreeNode[T] | None, animate: bool = False) -> None:
        """Move the cursor onto ``node`` as the tree is now, not as it was last drawn."""
        if self._tree_lines_cached is None:  # nodes changed since the last layout
            self._build()  # what Textual would do lazily, on idle or at the next render
        super().move_cursor(node, animate)

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
