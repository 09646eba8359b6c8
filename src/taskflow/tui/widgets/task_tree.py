"""The task tree: every definition with its kind, last state, schedule and enabled toggle.

Nodes are indexed by task name so a ``TaskChanged`` event relabels one line; groups are
populated only when first expanded, so thousands of definitions cost nothing until viewed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from taskflow.model import RunState
from taskflow.protocol import TaskInfo
from taskflow.tui.glyphs import STATE_GLYPHS, Palette, append_counts
from taskflow.tui.widgets.nav_tree import NavigableTree

TaskNode = TreeNode[str]


def parent_name(name: str) -> str | None:
    return name.rsplit("/", 1)[0] if "/" in name else None


class TaskTree(NavigableTree[str]):
    """Definitions as a tree; node data is the task's full name."""

    DEFAULT_CSS = """
    TaskTree { border: round $panel; border-title-color: $primary; overflow-x: hidden; }
    TaskTree:focus { border: round $primary; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("tasks", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.border_title = "Tasks"
        self.tasks: dict[str, TaskInfo] = {}
        self.marked: set[str] = set()
        self.filter_text = ""
        self.palette = Palette({})
        self.now = datetime.now
        self._index: dict[str, TaskNode] = {}
        self._populated: set[str] = set()
        self._kids: dict[str | None, list[str]] = {}
        # What each task is doing now (a running run shows as running, not as its last state).
        self.live_state: Callable[[str], RunState | None] = lambda _name: None
        self._live_shown: dict[str, RunState | None] = {}

    # -- building -------------------------------------------------------------------------

    def load(self, tasks: dict[str, TaskInfo]) -> None:
        """Rebuild from a full task list (startup, resync, reload, filter change)."""
        selected = self.selected_task
        self.tasks = tasks
        self._kids = {}
        visible = self._visible_names()
        for name in sorted(tasks):
            if name in visible:
                self._kids.setdefault(parent_name(name), []).append(name)
        self.clear()
        self._index.clear()
        self._populated.clear()
        self._populate(self.root, None)
        if self.filter_text:
            for node in list(self._index.values()):
                node.expand()
        if selected is not None and selected in self._index:
            self.move_cursor(self._index[selected])
        elif self.cursor_line < 0 and self._index:
            self.cursor_line = 0

    def _visible_names(self) -> set[str]:
        if not self.filter_text:
            return set(self.tasks)
        needle = self.filter_text.lower()
        visible: set[str] = set()
        for name in self.tasks:
            if needle in name.lower():
                # A group stays visible when any task below it matches.
                current: str | None = name
                while current is not None and current not in visible:
                    visible.add(current)
                    current = parent_name(current)
        return visible

    def _populate(self, node: TaskNode, name: str | None) -> None:
        if name is not None:
            self._populated.add(name)
        for child in self._kids.get(name, []):
            has_kids = bool(self._kids.get(child))
            added = node.add(self._label(child), data=child, allow_expand=has_kids)
            self._index[child] = added

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        name = event.node.data
        if name is not None and name not in self._populated:
            self._populate(event.node, name)

    # -- incremental updates -----------------------------------------------------------------

    def update_task(self, task: TaskInfo) -> bool:
        """Relabel one task; returns False when the tree's shape changed (caller reloads)."""
        known = task.name in self.tasks
        self.tasks[task.name] = task
        group = parent_name(task.name)
        if group is not None and group in self._index and group in self.tasks:  # its counts by state
            self._index[group].set_label(self._label(group))
        node = self._index.get(task.name)
        if node is not None:
            node.set_label(self._label(task.name))
            return True
        if not known:
            return False  # a new definition: its place in the tree must be computed
        return True  # inside a collapsed group: labelled when populated

    def refresh_live(self, names: Iterable[str]) -> None:
        """Relabel the tasks whose in-flight state changed (a run started or ended)."""
        for name in names:
            state = self.live_state(name)
            if self._live_shown.get(name) is state:
                continue
            self._live_shown[name] = state
            if name in self._index and name in self.tasks:
                self._index[name].set_label(self._label(name))

    def relabel_all(self) -> None:
        for name, node in self._index.items():
            node.set_label(self._label(name))

    def toggle_mark(self, name: str) -> None:
        self.marked.symmetric_difference_update({name})
        if name in self._index:
            self._index[name].set_label(self._label(name))

    @property
    def selected_task(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    # -- labels ---------------------------------------------------------------------------

    def _last_states(self, name: str) -> dict[RunState, int]:
        """A group's children by the state of their last run (what it shows collapsed)."""
        counts: dict[RunState, int] = {}
        for child in self._kids.get(name, ()):
            state = self.tasks[child].last_state
            if state is not None:
                counts[state] = counts.get(state, 0) + 1
        return counts

    def _label(self, name: str) -> Text:
        task = self.tasks[name]
        palette = self.palette
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("▌" if name in self.marked else " ", style=palette.style("marked"))
        live = self.live_state(name)
        self._live_shown[name] = live
        if live is not None:
            text.append(STATE_GLYPHS[live] + " ", style=palette.state(live))
        elif task.last_state is not None:
            text.append(STATE_GLYPHS[task.last_state] + " ", style=palette.state(task.last_state))
        else:
            text.append("· ", style=palette.style("muted"))
        short = name.rsplit("/", 1)[-1]
        if task.enabled:
            text.append(short, style="bold" if task.kind == "group" else "")
        else:
            text.append(short, style="strike " + str(palette.style("muted")))
        details: list[str] = [task.kind]
        if task.schedule:
            details.append(task.schedule)
        if task.next_run is not None:
            details.append("next " + task.next_run.strftime("%H:%M"))
        text.append("  " + " · ".join(details), style=palette.style("muted"))
        append_counts(text, self._last_states(name), palette)
        if task.orphaned:
            text.append("  ⚠ orphaned", style=palette.style("state-failed"))
        if not task.enabled:
            reason = task.disabled_reason or "disabled"
            text.append(f"  ⏸ {reason}", style=palette.style("state-retrying"))
        elif task.paused:  # its queued runs wait for a resume (the task, a group, its pool or all)
            text.append("  ⏸ paused", style=palette.style("state-blocked"))
        return text
