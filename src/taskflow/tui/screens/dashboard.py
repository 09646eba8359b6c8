"""The dashboard: task tree and live runs on the left, detail and logs on the right.

Selection drives the right-hand panes: highlighting a task shows its resolved spec,
highlighting a run shows its attempts and follows its output. Fetches triggered by the
cursor are debounced, so holding ↓ through a thousand runs sends a handful of requests.
"""

from __future__ import annotations

from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Tree

from taskflow.model import ACTIVE_STATES, RunState
from taskflow.tui.bindings import DASHBOARD_BINDINGS
from taskflow.tui.feed import LogFollower
from taskflow.tui.glyphs import Palette
from taskflow.tui.messages import ClockTick, FrameDue, ThemeChanged, WorldChanged
from taskflow.tui.screens.base import ViewScreen
from taskflow.tui.state import Changes
from taskflow.tui.widgets import DetailPane, LogPane, RunTreeView, TaskTree
from taskflow.tui.widgets.detail import describe_run, describe_task
from taskflow.tui.widgets.filter_input import FilterInput

DEBOUNCE_SECONDS = 0.15


class DashboardScreen(ViewScreen):
    """The default view, dense and keyboard-first like k9s or lazydocker."""

    VIEW_NAME = "dashboard"
    BINDINGS = DASHBOARD_BINDINGS
    DEFAULT_CSS = """
    DashboardScreen #panes { height: 1fr; }
    DashboardScreen #left { width: 1fr; min-width: 30; }
    DashboardScreen #right { width: 1fr; }
    DashboardScreen #tasks { height: 1fr; }
    DashboardScreen #runs { height: 1fr; }
    DashboardScreen #detail { height: 1fr; }
    DashboardScreen #logs { height: 1fr; }
    DashboardScreen #filter { display: none; height: 3; }
    DashboardScreen.-filtering #filter { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.selection: tuple[str, str] | None = None  # ("task", name) or ("run", id)
        self._debounce: Timer | None = None
        self._follower: LogFollower | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_chrome_top()
        yield FilterInput(placeholder="filter tasks and runs by name (esc clears)", id="filter")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield TaskTree(id="tasks")
                yield RunTreeView(id="runs")
            with Vertical(id="right"):
                yield DetailPane(id="detail")
                yield LogPane(id="logs")
        yield from self.compose_chrome_bottom()

    @property
    def tasks(self) -> TaskTree:
        return self.query_one(TaskTree)

    @property
    def runs(self) -> RunTreeView:
        return self.query_one(RunTreeView)

    @property
    def logs(self) -> LogPane:
        return self.query_one(LogPane)

    def on_mount(self) -> None:
        self.runs.now = self.session.clock
        self.tasks.live_state = self.session.world.live_state
        self.query_one(DetailPane).now = self.session.clock
        self._apply_palette(self.session.palette)
        self.reload()
        self.tasks.focus()

    async def on_unmount(self) -> None:
        if self._follower is not None:
            await self._follower.stop()

    # -- world → widgets ------------------------------------------------------------------

    def reload(self) -> None:
        world = self.session.world
        self.tasks.load(dict(world.tasks))
        self.runs.load(world)
        if self.selection is None and self.tasks.selected_task is not None:
            self.selection = ("task", self.tasks.selected_task)
        self.show_detail()
        newest = self._newest_leaf_run()
        if self.logs.run_id is None and newest is not None:
            # Opened on a busy daemon, the log pane shows the newest output at once (from its
            # first line), as a k9s user expects of a logs view, until a run is selected.
            self.run_worker(self._follow_logs(newest), group="logs")

    def _newest_leaf_run(self) -> str | None:
        """The newest run that has output of its own (not a group)."""
        world = self.session.world
        for run_id in sorted(world.runs, reverse=True):
            task = world.tasks.get(world.runs[run_id].task)
            if not world.children.get(run_id) and (task is None or task.kind != "group"):
                return run_id
        return None

    def on_world_changed(self, message: WorldChanged) -> None:
        with self.app.batch_update():
            self._apply_changes(message.changes)

    def _apply_changes(self, changes: Changes) -> None:
        if changes.resync or changes.reload_tasks:
            self.reload()
            self._schedule_fetch()  # a full read drops attempts and specs: fetch them again
            return
        world = self.session.world
        if changes.removed_tasks:
            self.tasks.load(dict(world.tasks))
        for name in changes.tasks:
            if name in world.tasks and not self.tasks.update_task(world.tasks[name]):
                self.tasks.load(dict(world.tasks))
                break
        if changes.runs:
            self.runs.update_runs(changes.runs)
            self.tasks.refresh_live({world.runs[i].task for i in changes.runs if i in world.runs})
        if self.selection is not None and (
            (self.selection[0] == "run" and self.selection[1] in changes.runs)
            or (self.selection[0] == "task" and self.selection[1] in changes.tasks)
        ):
            self.show_detail()

    def on_frame_due(self, message: FrameDue) -> None:
        # The app's frame timer also fires while this screen is composing or being torn down.
        with self.app.batch_update():
            for pane in self.query(LogPane):
                pane.flush_due()

    def on_clock_tick(self, message: ClockTick) -> None:
        self.runs.tick()
        if self.selection is not None and self.selection[0] == "run":
            run = self.session.world.runs.get(self.selection[1])
            if run is not None and run.state in ACTIVE_STATES:
                self.show_detail()

    def on_theme_changed(self, message: ThemeChanged) -> None:
        # Before ``ViewScreen``'s handler reloads the trees with the new colours.
        self._apply_palette(message.palette)

    def _apply_palette(self, palette: Palette) -> None:
        self.tasks.palette = palette
        self.runs.palette = palette
        variables = self.app.theme_variables
        self.logs.set_theme_styles(
            stderr=Style(color=variables.get("error")),
            match=Style(color=variables.get("background"), bgcolor=variables.get("accent")),
        )

    def show_detail(self) -> None:
        pane = self.query_one(DetailPane)
        world = self.session.world
        if self.selection is None:
            return
        kind, key = self.selection
        if kind == "task" and key in world.tasks:
            pane.show(describe_task(world.tasks[key], world.specs.get(key), self.session.palette), f"Task · {key}")
        elif kind == "run" and key in world.runs:
            run = world.runs[key]
            pane.show(
                describe_run(run, world.attempts.get(key, []), self.session.palette, self.session.clock()),
                f"Run · {run.task}",
            )

    # -- selection ------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        # Only the tree the operator is in drives the detail: a run arriving in the run tree
        # moves its (unfocused) cursor, and must not replace the task being read.
        if self.selection is not None and self.focused is not event.control:
            return
        self._select(event.control, event.node.data)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Tabbing into a tree shows what its cursor is on."""
        tree = event.widget
        if tree in (self.tasks, self.runs) and isinstance(tree, Tree) and tree.cursor_node is not None:
            self._select(tree, tree.cursor_node.data)

    def _select(self, tree: object, data: str | None) -> None:
        if data is None:
            return
        kind = "task" if tree is self.tasks else "run"
        if self.selection == (kind, data):
            return
        self.selection = (kind, data)
        self.show_detail()
        self._schedule_fetch()

    def _schedule_fetch(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self._fetch_selection)

    async def _fetch_selection(self) -> None:
        if self.selection is None:
            return
        kind, key = self.selection
        if kind == "task":
            await self.session.task_spec(key)
        else:
            await self.session.load_run_tree(key)
            if not self.query(LogPane):
                return  # the screen went away while the daemon answered
            await self._follow_logs(key)
        if self.selection == (kind, key) and self.query(DetailPane):
            self.show_detail()

    async def _follow_logs(self, run_id: str) -> None:
        if self.logs.run_id == run_id:
            return
        if self._follower is not None:
            await self._follower.stop()
            self._follower = None
        world = self.session.world
        run = world.runs.get(run_id)
        self.logs.show_run(run_id, run.task if run else run_id)
        if self.session.client is None:
            for stream, line in world.offline_logs.get(run_id, []):
                self.logs.append(stream, [line])
            self.logs.flush()
            return
        if run is not None and world.children.get(run_id):
            self.logs.append("stdout", ["(a group run has no output of its own; select one of its steps)"])
            return
        self._follower = LogFollower(
            self.session.socket_path or "",
            run_id,
            self.logs.append,
            lambda: (r := world.runs.get(run_id)) is not None and r.state in ACTIVE_STATES,
        )
        self._follower.start()

    # -- targets of actions ---------------------------------------------------------------

    def _shown(self) -> tuple[str, str] | None:
        """What the focused pane shows: a tree's cursor, or the detail/log panes' selection."""
        if self.focused is self.tasks:
            return ("task", self.tasks.selected_task) if self.tasks.selected_task else None
        if self.focused is self.runs:
            return ("run", self.runs.selected_run) if self.runs.selected_run else None
        return self.selection

    def _run_targets(self) -> list[str]:
        if self.runs.marked:
            return sorted(self.runs.marked)
        shown = self._shown()
        if shown is not None and shown[0] == "task":
            task = self.session.world.tasks.get(shown[1])
            return [task.last_run_id] if task is not None and task.last_run_id else []
        return [shown[1]] if shown is not None else []

    def _task_targets(self) -> list[str]:
        if self.tasks.marked:
            return sorted(self.tasks.marked)
        shown = self._shown()
        if shown is not None and shown[0] == "run":
            run = self.session.world.runs.get(shown[1])
            return [run.task] if run is not None else []
        return [shown[1]] if shown is not None else []

    # -- actions --------------------------------------------------------------------------

    def action_rerun(self) -> None:
        self.actions.rerun(self._run_targets())

    def action_rerun_failed(self) -> None:
        self.actions.rerun(self._run_targets(), failed_only=True)

    def action_cancel(self) -> None:
        self.actions.cancel(self._run_targets())

    def mark_selected(self, state: RunState, reason: str) -> None:
        """``:mark succeeded REASON``: the marked runs, else the selected one."""
        self.actions.mark(self._run_targets(), state, reason)

    def action_toggle_enabled(self) -> None:
        self.actions.toggle(self._task_targets())

    def action_toggle_pause(self) -> None:
        self.actions.toggle_pause(self._task_targets())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "trigger":  # enter means something only on the two trees
            return self.focused is self.tasks or self.focused is self.runs
        return super().check_action(action, parameters)

    def action_trigger(self) -> None:
        """Enter acts on what the focused pane shows: runs the task under the Tasks cursor
        (after confirmation) only while the Tasks tree has focus; on the run tree it expands
        or collapses a run tree; anywhere else (detail, logs) it does nothing."""
        if self.focused is self.runs:
            node = self.runs.cursor_node
            if node is not None and node.allow_expand:
                node.toggle()
            return
        if self.focused is not self.tasks:
            return
        name = self.tasks.selected_task
        if name is not None:
            self.actions.trigger(name)

    def action_mark(self) -> None:
        tree = self.runs if self.focused is self.runs else self.tasks
        node = tree.cursor_node
        if node is None or node.data is None:
            return
        tree.toggle_mark(node.data)  # the cursor stays: marking is not moving

    def action_logs(self) -> None:
        if self.maximized is self.logs:
            self.minimize()
            self.runs.focus()
            return
        if self.selection is not None and self.selection[0] == "task":
            task = self.session.world.tasks.get(self.selection[1])
            if task is not None and task.last_run_id:
                self.run_worker(self._follow_logs(task.last_run_id))
        self.maximize(self.logs, container=False)
        self.logs.output.focus()

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.tasks.filter_text = event.value
        self.runs.filter_text = event.value
        self.tasks.load(dict(self.session.world.tasks))
        self.runs.load(self.session.world)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.tasks.focus()

    def action_back(self) -> None:
        if self.logs.close_search():
            return
        if self.maximized is not None:
            self.minimize()
            self.runs.focus()
            return
        if self.has_class("-filtering"):
            self.remove_class("-filtering")
            self.query_one("#filter", Input).value = ""
            self.tasks.focus()
            return
        if self.tasks.marked or self.runs.marked:
            for tree in (self.tasks, self.runs):
                for key in list(tree.marked):
                    tree.toggle_mark(key)


