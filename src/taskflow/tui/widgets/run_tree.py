"""Live run trees: state glyph and colour, ticking duration, progress, attempts.

Built for thousands of runs: nodes are indexed by run id, an event relabels only the runs it
names (and only when their label actually changed), child runs are added when a root is
first expanded, and the per-second tick touches only running runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from taskflow.model import Run, RunState
from taskflow.tui.glyphs import STATE_GLYPHS, Palette, append_counts, since
from taskflow.tui.state import WorldState
from taskflow.tui.widgets.nav_tree import NavigableTree

RunNode = TreeNode[str]
_TICKING = frozenset({RunState.RUNNING, RunState.RETRYING})


def progress_bar(fraction: float, width: int = 8) -> str:
    """A compact text bar, ``▰▰▰▱▱▱▱▱ 37%``: readable without colour."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "▰" * filled + "▱" * (width - filled) + f" {fraction * 100:.0f}%"


class RunTreeView(NavigableTree[str]):
    """Root runs newest first; node data is the run id."""

    DEFAULT_CSS = """
    RunTreeView { border: round $panel; border-title-color: $primary; overflow-x: hidden; }
    RunTreeView:focus { border: round $primary; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("runs", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.border_title = "Runs"
        self.world = WorldState()
        self.marked: set[str] = set()
        self.filter_text = ""
        self.palette = Palette({})
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._index: dict[str, RunNode] = {}
        self._labels: dict[str, tuple[object, ...]] = {}
        self._populated: set[str] = set()
        self._ticking: set[str] = set()

    # -- building -------------------------------------------------------------------------

    def load(self, world: WorldState) -> None:
        """Rebuild from scratch (startup, resync, filter change)."""
        selected = self.selected_run
        self.world = world
        self.clear()
        self._index.clear()
        self._labels.clear()
        self._populated.clear()
        self._ticking.clear()
        for run in world.roots():
            if self._matches(run):
                self._add(self.root, run)
        if selected is not None and selected in self._index:
            self.move_cursor(self._index[selected])
        elif self.cursor_line < 0 and self._index:
            self.cursor_line = 0

    def _matches(self, run: Run) -> bool:
        return not self.filter_text or self.filter_text.lower() in run.task.lower() or run.id.lower().startswith(self.filter_text.lower())

    def _add(self, parent: RunNode, run: Run, before: int | None = None) -> RunNode:
        # A group's children may not be read yet (a big tree is read when selected).
        task = self.world.tasks.get(run.task)
        has_kids = bool(self.world.children.get(run.id)) or (task is not None and task.kind == "group")
        node = parent.add(self._label(run), data=run.id, allow_expand=has_kids, before=before)
        self._index[run.id] = node
        self._track(run)
        return node

    def _track(self, run: Run) -> None:
        if run.state in _TICKING:
            self._ticking.add(run.id)
        else:
            self._ticking.discard(run.id)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self.populate(event.node)

    def populate(self, node: RunNode) -> None:
        run_id = node.data
        if run_id is None or run_id in self._populated:
            return
        self._populated.add(run_id)
        for child in self.world.child_runs(run_id):
            if child.id not in self._index:
                self._add(node, child)

    # -- incremental updates --------------------------------------------------------------

    def update_runs(self, run_ids: Iterable[str]) -> None:
        """Apply changed runs: relabel known nodes, insert new roots on top, children lazily.

        A cursor on the newest run of a tree the operator is not in follows new runs to the
        top (tabbing in after a trigger lands on that run); anywhere else it stays on its run.
        """
        follow_newest = not self.has_focus and self.cursor_line <= 0
        inserted = False
        parents: set[str] = set()
        for run_id in run_ids:
            run = self.world.runs.get(run_id)
            if run is None:
                continue
            if run.parent_id is not None:  # its parent's counts by state may have moved
                parents.add(run.parent_id)
            node = self._index.get(run_id)
            if node is not None:
                self._relabel(run, node)
                continue
            if run.parent_id is None:
                if self._matches(run):
                    self._add(self.root, run, before=0)
                    inserted = True
                continue
            parent = self._index.get(run.parent_id)
            if parent is None:
                continue
            if run.parent_id in self._populated:
                self._add(parent, run)
            elif not parent.allow_expand:
                parent.allow_expand = True
        for parent_id in parents:
            parent_run, parent_node = self.world.runs.get(parent_id), self._index.get(parent_id)
            if parent_run is not None and parent_node is not None:
                self._relabel(parent_run, parent_node)
        if inserted and follow_newest and self.root.children:
            self.move_cursor(self.root.children[0])

    def tick(self) -> None:
        """Advance the durations of running runs (once a second)."""
        for run_id in list(self._ticking):
            run = self.world.runs.get(run_id)
            node = self._index.get(run_id)
            if run is None or node is None:
                self._ticking.discard(run_id)
                continue
            self._relabel(run, node)

    def relabel_all(self) -> None:
        self._labels.clear()
        for run_id, node in self._index.items():
            run = self.world.runs.get(run_id)
            if run is not None:
                self._relabel(run, node)

    def toggle_mark(self, run_id: str) -> None:
        self.marked.symmetric_difference_update({run_id})
        run = self.world.runs.get(run_id)
        if run is not None and run_id in self._index:
            self._labels.pop(run_id, None)
            self._relabel(run, self._index[run_id])

    def _relabel(self, run: Run, node: RunNode) -> None:
        self._track(run)
        key = self._label_key(run)
        if self._labels.get(run.id) == key:
            return  # nothing visible changed: no repaint
        self._labels[run.id] = key
        node.set_label(self._label(run))

    def _label_key(self, run: Run) -> tuple[object, ...]:
        return (
            run.state, run.attempts, run.progress, run.progress_message, run.finished_at,
            run.started_at, since(run.started_at, run.finished_at, self.now()), run.id in self.marked,
            tuple(self.world.child_counts(run.id).items()), run.late_at, run.not_before, self._held(run),
        )

    def _held(self, run: Run) -> bool:
        """Queued behind a pause of its task, a group above it, its pool or everything."""
        task = self.world.tasks.get(run.task)
        return run.state is RunState.QUEUED and task is not None and task.paused

    @property
    def selected_run(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    # -- labels ---------------------------------------------------------------------------

    def _label(self, run: Run) -> Text:
        palette = self.palette
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("▌" if run.id in self.marked else " ", style=palette.style("marked"))
        text.append(STATE_GLYPHS[run.state] + " ", style=palette.state(run.state))
        name = run.task if run.parent_id is None else run.task.rsplit("/", 1)[-1]
        text.append(name, style="bold" if run.parent_id is None else "")
        text.append(f" {run.state.value}", style=palette.state(run.state))
        if run.error_type is not None:
            text.append(f":{run.error_type.value}", style=palette.state(run.state))
        if run.late_at is not None:  # past its task's ``expect``: flagged, not killed
            text.append(" ⏰ late", style=palette.style("state-failed"))
        duration = since(run.started_at, run.finished_at, self.now())
        if duration:
            text.append(f" {duration}")
        if run.progress is not None and not run.state.terminal:
            text.append(" " + progress_bar(run.progress), style=palette.state(run.state))
        if run.attempts > 1:
            text.append(f" ×{run.attempts}", style=palette.state(RunState.RETRYING))
        if run.state is RunState.PENDING and run.not_before is not None and run.started_at is None:
            same_day = run.not_before.date() == self.now().date()
            starts = run.not_before.strftime("%H:%M" if same_day else "%m-%d %H:%M")
            text.append(f" starts {starts}", style=palette.state(RunState.PENDING))
        if self._held(run):
            text.append(" ⏸ paused", style=palette.style("state-blocked"))

        if run.parent_id is None:
            text.append(f"  {run.id[-6:].lower()}", style=palette.style("muted"))
        append_counts(text, self.world.child_counts(run.id), palette)  # a group: its children by state
        return text
