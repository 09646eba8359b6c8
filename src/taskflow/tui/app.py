"""The taskflow terminal UI: ``TaskflowApp`` and ``run_tui``, the entry point the CLI calls.

The app owns the connection (one ``AsyncClient``), the ``WorldState`` it fills, and the
event pipeline: pushed events are buffered and applied once per frame (``FRAME_HZ``), then
announced to the screens as one ``WorldChanged`` message, so a burst of thousands of events
costs one repaint, and a slow terminal never makes the daemon wait (the daemon drops a slow
subscriber with ``Resync``; any ``Resync`` here triggers one full re-read). Screens are
Textual modes: dashboard, history, breakers and audit. They hear from the app only through
the messages in ``messages.py`` and see it only as a ``Session``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import work
from textual.app import App, SystemCommand, UnknownModeError
from textual.message import Message
from textual.screen import Screen

from taskflow.client import ClientError
from taskflow.client.aio import AsyncClient, ConnectionState
from taskflow.client.hosts import LOCAL, Host, HostsFile
from taskflow.model import BreakerState, RunState, TaskSpec
from taskflow.protocol import (
    TOPIC_ATTEMPTS,
    TOPIC_BREAKERS,
    TOPIC_RUNS,
    TOPIC_STATS,
    TOPIC_TASKS,
    GetTask,
    Push,
    Request,
    Resync,
    TaskInfo,
)
from taskflow.tui.bindings import ALL_BINDING_GROUPS, APP_BINDINGS
from taskflow.tui.clock import Clock, HostMetrics, psutil_host_metrics, system_clock
from taskflow.tui.commands import ColonCommands
from taskflow.tui.feed import read_audit, read_run_tree, read_snapshot
from taskflow.tui.fleet import FleetWatch
from taskflow.tui.glyphs import DEFAULT_STATE_COLOURS, Palette
from taskflow.tui.messages import ClockTick, ConnectionChanged, FleetChanged, FrameDue, ThemeChanged, WorldChanged
from taskflow.tui.screens.audit import AuditScreen
from taskflow.tui.screens.breakers import BreakersScreen
from taskflow.tui.screens.cluster import ClusterScreen
from taskflow.tui.screens.daemon_actions import DaemonActions
from taskflow.tui.screens.dashboard import DashboardScreen
from taskflow.tui.screens.help import HelpScreen, bindings_table
from taskflow.tui.screens.history import HistoryScreen
from taskflow.tui.screens.hosts import HostsScreen
from taskflow.tui.state import Changes, Snapshot, WorldState
from taskflow.tui.themes import DEFAULT_THEME, load_themes, user_theme_dir

if TYPE_CHECKING:
    from taskflow.tui.session import Session

R = TypeVar("R")
FRAME_HZ = 12  # events and log lines are applied together, once per frame
HOST_SAMPLE_TICKS = 5  # host cpu/memory are re-read every 5th tick: each change repaints the header
SUBSCRIBED_TOPICS = [TOPIC_RUNS, TOPIC_ATTEMPTS, TOPIC_TASKS, TOPIC_BREAKERS, TOPIC_STATS]
VIEWS = {"dashboard": "Dashboard", "history": "History", "breakers": "Breakers", "audit": "Audit"}


class TaskflowApp(App[int]):
    """Live task trees, logs and breakers for one daemon, from the keyboard.

    It is the screens' ``Session``: they read its world and connection and send through it.
    """

    TITLE = "taskflow"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {ColonCommands}  # k9s words (``:runs``) beside the fuzzy ones
    MODES = {
        "dashboard": DashboardScreen,
        "history": HistoryScreen,
        "breakers": BreakersScreen,
        "audit": AuditScreen,
        "hosts": HostsScreen,
    }
    DEFAULT_MODE = "dashboard"

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        snapshot: Snapshot | None = None,
        theme: str | None = None,
        keys: dict[str, str] | None = None,
        clock: Clock = system_clock,
        host_metrics: HostMetrics = psutil_host_metrics,
        connection: ConnectionState | None = None,
        live_clock: bool = True,
        watch_themes: bool | None = None,
        confirm_run: bool = True,
        read_only: bool = False,
        host: Host | None = None,
        fleet: HostsFile | None = None,
    ) -> None:
        """``snapshot`` shows fixed data without a daemon (tests, screenshots);
        ``confirm_run=False`` makes enter on the Tasks tree run the task without asking;
        ``read_only=True`` refuses every mutating key whatever role the daemon grants (what
        ``taskflow web`` serves to browsers);
        ``live_clock=False`` stops the ticking timers (and the dialogs' blinking cursor) so
        frames are deterministic; ``watch_themes`` (default: as ``live_clock``) re-reads the
        user's theme folder whenever a file in it changes; ``host`` (from ``fleet``, the
        hosts.toml read) is the daemon to drive instead of the local one."""
        super().__init__()
        self.socket_path = socket_path
        self.clock = clock
        self.host_metrics = host_metrics
        self.live_clock = live_clock
        self.confirm_run = confirm_run
        self.world = WorldState()
        self.world.read_only = read_only
        self.palette = Palette(DEFAULT_STATE_COLOURS)
        self.host: tuple[float, float] = (0.0, 0.0)
        self._ticks = 0
        self.sample_host()
        self.connection = connection or (ConnectionState.CONNECTED if snapshot else ConnectionState.CONNECTING)
        self.connection_reason = ""
        self.client: AsyncClient | None = None
        self.fleet = fleet
        self.fleet_watch: FleetWatch | None = None
        self._target_host = host if host is not None and host.name != LOCAL else None
        self.target = host.name if host is not None else LOCAL
        self._snapshot = snapshot
        self._events: list[object] = []
        self._missed: dict[str, Changes] = {}  # view -> what changed while it was not shown
        self._subscribed = False
        self._requested_theme = theme
        self._watch_themes = live_clock if watch_themes is None else watch_themes
        self._startup_problems: list[str] = []
        self._install_themes(theme)
        if keys:
            self._apply_keys(keys)
        if snapshot is not None:
            self.world.load(snapshot)

    # -- setup ----------------------------------------------------------------------------

    def _install_themes(self, requested: str | None) -> None:
        problems = self._register_themes()
        name = requested or DEFAULT_THEME
        if name not in self.available_themes:
            problems.append(f"no theme named {name!r}")
            name = DEFAULT_THEME
        self.theme = name
        if problems:
            self._startup_problems.append(
                "Theme problems (using " + name + "): " + "; ".join(problems) + "."
            )

    def _register_themes(self) -> list[str]:
        """(Re-)register every theme file; returns the problems found."""
        loaded = load_themes()
        for theme in loaded.themes.values():
            self.register_theme(theme)
        return list(loaded.errors)

    def reload_themes(self) -> None:
        """Re-read the theme files and repaint with the current theme's new colours; a broken
        file is reported in one notification and its last good version stays in use."""
        problems = self._register_themes()
        self.refresh_css(animate=False)
        self.theme_changed_signal.publish(self.current_theme)
        if problems:
            self.notify("Theme problems: " + "; ".join(problems) + ".", severity="error", timeout=10)

    async def _follow_theme_files(self) -> None:
        """Theme authors see their edits live: reload when the user's theme folder changes."""
        import watchfiles

        folder = user_theme_dir()
        try:
            if not folder.is_dir():
                return
        except OSError:
            return  # already reported at start-up
        async for _changes in watchfiles.awatch(folder, debounce=200, recursive=False):
            self.reload_themes()

    def _apply_keys(self, keys: dict[str, str]) -> None:
        known = {b.id for group in ALL_BINDING_GROUPS.values() for b in group if b.id}
        unknown = sorted(set(keys) - known)
        if unknown:
            self._startup_problems.append(f"Unknown key binding ids ignored: {', '.join(unknown)}.")
        self.set_keymap({k: v for k, v in keys.items() if k in known})

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Every taskflow colour variable exists in every theme, so CSS never fails to parse.
        return dict(DEFAULT_STATE_COLOURS)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, lambda _theme: self._theme_changed())
        self._theme_changed()
        for problem in self._startup_problems:
            self.notify(problem, severity="error", timeout=10)
        self.set_interval(1 / FRAME_HZ, self._flush_events, name="frame")
        if self.live_clock:
            self.set_interval(1.0, self._tick, name="tick")
        if self._watch_themes:
            self.run_worker(self._follow_theme_files(), group="themes", exclusive=True)
        if self._snapshot is None:
            self._connect()
        else:
            self.call_after_refresh(settle_heap)

    def _theme_changed(self) -> None:
        self.palette = Palette(self.theme_variables)
        self._tell_screens(lambda: ThemeChanged(self.palette))

    def sample_host(self) -> None:
        try:
            self.host = self.host_metrics()
        except Exception:  # noqa: BLE001 - host figures are a nicety; never let them break the UI
            self.host = (0.0, 0.0)

    def _tick(self) -> None:
        self._ticks += 1
        if self._ticks % HOST_SAMPLE_TICKS == 0:
            self.sample_host()
        self._tell_screens(ClockTick)

    def _tell_screens(self, message: Callable[[], Message]) -> None:
        """Post a fresh ``message()`` to every screen of the current stack (each screen gets
        its own: a message object carries its own delivery state)."""
        # Not while the app shuts down: a frame can fire after a screen's widgets are pruned.
        for screen in self.screen_stack:
            if screen.is_mounted and screen.is_attached:
                screen.post_message(message())

    # -- connection -----------------------------------------------------------------------

    @property
    def target_label(self) -> str | None:
        """The host the header names: shown once there is more than one to choose from."""
        many = self.fleet is not None and bool(self.fleet.hosts)
        return self.target if many or self.target != LOCAL else None

    def _connect(self) -> None:
        self.client = AsyncClient(
            None if self._target_host is not None else self.socket_path,
            host=self._target_host,
            client_name="taskflow-tui",
            on_state=self._connection_changed,
            on_event=self._event_arrived,
        )
        self.client.start()

    def _connection_changed(self, state: ConnectionState, reason: str) -> None:
        self.connection = state
        self.connection_reason = "" if state is ConnectionState.CONNECTED else reason
        self._tell_screens(lambda: ConnectionChanged(state, self.connection_reason))
        if state is ConnectionState.CONNECTED and not self._subscribed:
            self.resync()

    def _event_arrived(self, push: Push) -> None:
        self._events.append(push.event)

    def _flush_events(self) -> None:
        """Apply every buffered event at once, then let the screens write their buffered
        log lines: one repaint per frame."""
        if not self.is_running:
            return  # shutting down
        events, self._events = self._events, []
        changes = self.world.apply(events) if events else Changes()
        if changes.resync or changes.reload_tasks:
            self.resync()
        if changes:
            self.broadcast(changes)
        self._tell_screens(FrameDue)

    def broadcast(self, changes: Changes) -> None:
        """Tell the screens what changed in the world; the views not shown are told when
        they are shown again (``missed_changes``), so switching back to one applies what
        changed instead of rebuilding it."""
        for mode in VIEWS:
            if mode != self.current_mode:
                self._missed.setdefault(mode, Changes()).merge(changes)
        self._tell_screens(lambda: WorldChanged(changes))

    def missed_changes(self, mode: str) -> Changes:
        """What changed in the world while view ``mode`` was not shown (and forget it)."""
        return self._missed.pop(mode, Changes())

    @work(exclusive=True, group="resync")
    async def resync(self) -> None:
        """Re-read everything (first connect, reconnect, ``Resync``)."""
        client = self.client
        if client is None or client.welcome is None:
            return
        try:
            if not self._subscribed:
                await client.subscribe(SUBSCRIBED_TOPICS)
                self._subscribed = True
            self._events = [e for e in self._events if not isinstance(e, Resync)]
            snapshot, problems = await read_snapshot(client, client.welcome)
        except ClientError as exc:
            self.notify(f"Could not read the daemon's state: {exc}", severity="error")
            return
        if problems:
            self.notify("Partly read the daemon's state — " + "; ".join(problems), severity="warning")
        self.world.load(snapshot)
        self.broadcast(Changes(resync=True))
        self.call_after_refresh(settle_heap)

    # -- requests used by screens ---------------------------------------------------------

    async def request(self, request: Request[R]) -> R | None:
        """Send a request; on failure show the daemon's one-sentence reason and return None."""
        if self.client is None:
            self.notify("Offline snapshot: there is no daemon to send this to.", severity="warning")
            return None
        try:
            return await self.client.call(request)
        except ClientError as exc:
            self.notify(str(exc), severity="error")
            return None

    async def task_spec(self, name: str) -> TaskSpec | None:
        """The resolved definition (cached until the task changes)."""
        if name in self.world.specs:
            return self.world.specs[name]
        if self.client is None:
            return None
        spec = await self.request(GetTask(name=name))
        if spec is not None:
            self.world.specs[name] = spec
        return spec

    async def load_run_tree(self, run_id: str) -> None:
        """Fetch a run tree with its attempts (the detail pane wants exit codes, RSS...)."""
        if self.client is None or run_id in self.world.settled_trees:
            return  # an ended tree read whole never changes again: selecting it again costs nothing
        try:
            tree = await read_run_tree(self.client, run_id)
        except ClientError:
            return
        self.world.add_tree(tree)
        if all(node.run.state.terminal for node in tree.walk()):
            self.world.settled_trees.add(run_id)
        self.broadcast(Changes(runs={node.run.id for node in tree.walk()}))

    async def load_audit(self) -> None:
        if self.client is None:
            return
        try:
            self.world.audit = await read_audit(self.client)
        except ClientError as exc:
            self.notify(f"Could not read the audit log: {exc}", severity="error")

    def apply_task(self, info: TaskInfo) -> None:
        self.world.tasks[info.name] = info
        self.broadcast(Changes(tasks={info.name}))

    def apply_breaker(self, state: BreakerState) -> None:
        self.world.breakers[state.service] = state
        self.broadcast(Changes(breakers={state.service}))

    # -- app-wide actions -----------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        self.push_screen(HelpScreen(bindings_table(screen, self.world.can_mutate), f"Keys · {self.current_mode}"))

    # -- hosts (the fleet's Hosts view and host switching plug in here) -------------------

    def show_cluster(self) -> None:
        """The dask executor's cluster: scheduler, state, workers (the palette's ``Cluster``)."""
        self.push_screen(ClusterScreen())

    def pause_work(self, resume: bool, scope: str, name: str | None) -> None:
        """``:pause all`` / ``:pause pool NAME`` / ``:resume task NAME``: confirmed, audited."""
        DaemonActions(cast("Session", self), self).pause_scope(resume=resume, scope=scope, name=name)

    def mark_runs(self, state: str, reason: str) -> None:
        """``:mark succeeded REASON`` / ``:mark skipped REASON``: the screen's selected runs."""
        mark = getattr(self.screen, "mark_selected", None)
        if mark is None:
            self.notify("Select a run in the dashboard or the history first.", severity="warning")
        elif not reason:
            self.notify("Say why: :mark succeeded REASON (the reason is kept with the run).", severity="warning")
        else:
            mark(RunState(state), reason)

    def action_show_hosts(self) -> None:
        self.show_hosts()

    def show_hosts(self) -> None:
        """``:hosts`` (or ``5``): the Hosts view, when hosts.toml names any host."""
        if self.fleet is None or not self.fleet.hosts:
            where = self.fleet.path if self.fleet is not None else "~/.config/taskflow/hosts.toml"
            self.notify(f"No hosts: {where} names none (docs/fleet.md sets a fleet up).",
                        severity="warning", markup=False)
            return
        try:
            self.switch_mode("hosts")
        except UnknownModeError:  # an embedding app without the view
            self.notify("This dashboard has no Hosts view.", severity="warning")

    def watch_fleet(self) -> None:
        """Connect to every host of hosts.toml and keep their figures fresh (once)."""
        if self.fleet_watch is None and self.fleet is not None:
            self.fleet_watch = FleetWatch(self.fleet, self.socket_path, lambda: self._tell_screens(FleetChanged))
            if self._snapshot is None:  # an offline snapshot connects to nothing
                self.fleet_watch.start()

    def switch_host(self, name: str) -> None:
        """``:host NAME`` (or enter in the Hosts view): drive that host's daemon instead; the
        world is read again from it. Other views keep working on the new host."""
        hosts = {LOCAL: Host(LOCAL), **(self.fleet.hosts if self.fleet is not None else {})}
        if name not in hosts:
            known = ", ".join(hosts)
            self.notify(f"No host named {name!r} (hosts: {known}).", severity="error", markup=False)
            return
        if name != self.target and self._snapshot is None:
            self.run_worker(self._reconnect_to(hosts[name]), group="switch-host", exclusive=True)
        self.switch_mode("dashboard")

    async def _reconnect_to(self, host: Host) -> None:
        old, self.client = self.client, None
        if old is not None:
            await old.close()
        read_only = self.world.read_only
        self.world = WorldState()
        self.world.read_only = read_only
        self._events, self._missed, self._subscribed = [], {}, False
        self.target = host.name
        self._target_host = host if host.name != LOCAL else None
        self.broadcast(Changes(resync=True))  # empty until the new host answers
        self._connect()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, title in VIEWS.items():
            yield SystemCommand(f"View: {title}", f"Switch to the {title.lower()} view", lambda m=mode: self.switch_mode(m))
        status = self.world.status
        if status is not None and status.cluster is not None:
            yield SystemCommand("Cluster", "The Dask scheduler and its workers (resources, busy)", self.show_cluster)
        for name in sorted(self.available_themes):
            if name.startswith("taskflow"):
                yield SystemCommand(f"Theme: {name}", f"Use the {name} theme", lambda n=name: setattr(self, "theme", n))

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self.fleet_watch is not None:
            await self.fleet_watch.close()


def settle_heap() -> None:
    """Move the freshly built world and widget trees out of the collector's way.

    A full read builds tens of thousands of long-lived objects (runs, tree nodes, labels);
    every gen-2 collection would walk them all, which showed up as 100+ ms stalls in the
    key-latency benchmark. Freezing them keeps p99 repaint latency low, and a larger young
    generation makes streaming log lines (short-lived strings) trigger far fewer collections.
    """
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def run_tui(
    socket_path: str,
    *,
    theme: str | None = None,
    keys: dict[str, str] | None = None,
    confirm_run: bool = True,
    read_only: bool = False,
    host: Host | None = None,
    fleet: HostsFile | None = None,
) -> int:
    """Open the dashboard on ``socket_path`` (or ``host``'s daemon); returns the process exit
    code (0 on quit)."""
    app = TaskflowApp(socket_path, theme=theme, keys=keys, confirm_run=confirm_run, read_only=read_only,
                      host=host, fleet=fleet)
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
