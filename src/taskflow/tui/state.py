"""What the TUI knows about the daemon: tasks, runs, attempts, breakers, stats, audit.

One ``WorldState`` is filled either from the daemon (a full read, then events) or directly
from a ``Snapshot`` of Structs (snapshot tests, demos). Applying events reports *what*
changed, so widgets update only those rows and labels instead of rebuilding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import msgspec

from taskflow.model import ACTIVE_STATES, Attempt, AuditEntry, BreakerState, Role, Run, RunState, RunTree, TaskSpec
from taskflow.protocol import (
    AttemptChanged,
    BreakerChanged,
    DaemonStats,
    Resync,
    RunChanged,
    StatusInfo,
    TaskChanged,
    TaskInfo,
    TaskRemoved,
    TasksReloaded,
    Welcome,
)


class Snapshot(msgspec.Struct, kw_only=True):
    """Everything a screen shows, as plain data: what a full read returns, or test input."""

    welcome: Welcome
    status: StatusInfo | None = None
    tasks: list[TaskInfo] = []
    runs: list[RunTree] = []
    breakers: list[BreakerState] = []
    audit: list[AuditEntry] = []
    specs: dict[str, TaskSpec] = {}
    logs: dict[str, list[tuple[str, str]]] = {}  # run id -> [(stream, line)], offline only
    # Trees whose root id sorts before this may be missing children (None: every tree whole).
    complete_from: str | None = None


@dataclass
class Changes:
    """What one batch of events touched; widgets refresh exactly these."""

    tasks: set[str] = field(default_factory=set)
    removed_tasks: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)
    breakers: set[str] = field(default_factory=set)
    status: bool = False
    resync: bool = False  # events were lost: re-read everything
    reload_tasks: bool = False  # task files re-read: re-list tasks

    def __bool__(self) -> bool:
        return bool(
            self.tasks or self.removed_tasks or self.runs or self.breakers
            or self.status or self.resync or self.reload_tasks
        )

    def merge(self, other: Changes) -> None:
        """Add what ``other`` touched (what a view not shown missed, batch after batch)."""
        self.tasks |= other.tasks
        self.removed_tasks |= other.removed_tasks
        self.runs |= other.runs
        self.breakers |= other.breakers
        self.status = self.status or other.status
        self.resync = self.resync or other.resync
        self.reload_tasks = self.reload_tasks or other.reload_tasks


class WorldState:
    """The daemon's state as this client last saw it, indexed for incremental updates."""

    def __init__(self) -> None:
        self.welcome: Welcome | None = None
        self.status: StatusInfo | None = None
        self.tasks: dict[str, TaskInfo] = {}
        self.runs: dict[str, Run] = {}
        self.children: dict[str, list[str]] = {}  # parent run id -> child run ids, in order
        self.child_states: dict[str, dict[RunState, int]] = {}  # parent run id -> children by state
        self.partial_trees: set[str] = set()  # root ids whose children a full read cut short
        self.settled_trees: set[str] = set()  # run ids read whole after everything in them ended
        self.attempts: dict[str, list[Attempt]] = {}
        self.active_runs: dict[str, dict[str, RunState]] = {}  # task -> its unfinished runs' states
        self.breakers: dict[str, BreakerState] = {}
        self.audit: list[AuditEntry] = []
        self.specs: dict[str, TaskSpec] = {}
        self.offline_logs: dict[str, list[tuple[str, str]]] = {}
        # Forced by the client whatever role the daemon grants (``taskflow web`` serves the
        # dashboard so to browsers); a full read never clears it.
        self.read_only = False

    @property
    def role(self) -> Role:
        return self.welcome.role if self.welcome is not None else Role.VIEWER

    @property
    def can_mutate(self) -> bool:
        return not self.read_only and self.role is not Role.VIEWER

    # -- full loads -----------------------------------------------------------------------

    def load(self, snapshot: Snapshot) -> None:
        """Replace everything with a full read."""
        self.welcome = snapshot.welcome
        self.status = snapshot.status
        self.tasks = {task.name: task for task in snapshot.tasks}
        self.runs.clear()
        self.children.clear()
        self.child_states.clear()
        self.partial_trees.clear()
        self.settled_trees.clear()
        self.attempts.clear()
        self.active_runs.clear()
        for tree in snapshot.runs:
            self.add_tree(tree)
        if snapshot.complete_from is not None:
            cutoff = snapshot.complete_from
            self.partial_trees = {i for i, r in self.runs.items() if r.parent_id is None and i < cutoff}
        self.breakers = {b.service: b for b in snapshot.breakers}
        self.audit = list(snapshot.audit)
        self.specs = dict(snapshot.specs)
        self.offline_logs = dict(snapshot.logs)

    def add_tree(self, tree: RunTree) -> None:
        """Merge a run tree (from ``ShowRun``) including its attempts."""
        if tree.run.parent_id is None:
            self.partial_trees.discard(tree.run.id)  # read whole now
        for node in tree.walk():
            self.put_run(node.run)
            if node.attempts:
                self.attempts[node.run.id] = list(node.attempts)

    def add_runs(self, runs: Iterable[Run]) -> None:
        """Merge a flat list of runs (``ListRuns(roots_only=False)``), parents first or not."""
        for run in sorted(runs, key=lambda r: (r.parent_id is not None, r.id)):
            self.put_run(run)

    def put_run(self, run: Run) -> bool:
        """Store a run; return whether it is new."""
        old = self.runs.get(run.id)
        self.runs[run.id] = run
        if run.state in ACTIVE_STATES:
            self.active_runs.setdefault(run.task, {})[run.id] = run.state
        elif run.id in self.active_runs.get(run.task, {}):
            del self.active_runs[run.task][run.id]
        if run.parent_id is not None:
            if old is None:
                self.children.setdefault(run.parent_id, []).append(run.id)
            if old is None or old.state is not run.state:
                counts = self.child_states.setdefault(run.parent_id, {})
                if old is not None:
                    counts[old.state] -= 1
                counts[run.state] = counts.get(run.state, 0) + 1
        return old is None

    def live_state(self, task: str) -> RunState | None:
        """What a task is doing now: running if any of its runs runs, else the state of an
        unfinished run (queued, retrying...), else None (nothing in flight)."""
        states = self.active_runs.get(task)
        if not states:
            return None
        return RunState.RUNNING if RunState.RUNNING in states.values() else min(states.values(), key=lambda s: s.value)

    def child_counts(self, run_id: str) -> dict[RunState, int]:
        """A run's children by state (what a collapsed group shows), zeros left out; nothing
        while its tree is known only in part (the counts would be wrong, not just late)."""
        run = self.runs.get(run_id)
        if run is None or run.root_id in self.partial_trees:
            return {}
        return {state: n for state, n in self.child_states.get(run_id, {}).items() if n}

    # -- events ---------------------------------------------------------------------------

    def apply(self, events: Iterable[object]) -> Changes:
        """Apply a batch of pushed events in order; return what changed."""
        changes = Changes()
        for event in events:
            if isinstance(event, RunChanged):
                self.put_run(event.run)
                changes.runs.add(event.run.id)
            elif isinstance(event, AttemptChanged):
                self._put_attempt(event.attempt)
                changes.runs.add(event.attempt.run_id)
            elif isinstance(event, TaskChanged):
                self.tasks[event.task.name] = event.task
                self.specs.pop(event.task.name, None)  # the definition may have changed
                changes.tasks.add(event.task.name)
            elif isinstance(event, TaskRemoved):
                self.tasks.pop(event.name, None)
                changes.removed_tasks.add(event.name)
            elif isinstance(event, TasksReloaded):
                changes.reload_tasks = True
                self.specs.clear()
            elif isinstance(event, BreakerChanged):
                self.breakers[event.state.service] = event.state
                changes.breakers.add(event.state.service)
            elif isinstance(event, DaemonStats):
                self.status = event.stats
                changes.status = True
            elif isinstance(event, Resync):
                changes.resync = True
        return changes

    def _put_attempt(self, attempt: Attempt) -> None:
        attempts = self.attempts.setdefault(attempt.run_id, [])
        for index, known in enumerate(attempts):
            if known.number == attempt.number:
                attempts[index] = attempt
                return
        attempts.append(attempt)
        attempts.sort(key=lambda a: a.number)

    # -- queries --------------------------------------------------------------------------

    def roots(self) -> list[Run]:
        """Root runs, newest first (ULIDs sort by creation time)."""
        return sorted((r for r in self.runs.values() if r.parent_id is None), key=lambda r: r.id, reverse=True)

    def child_runs(self, run_id: str) -> list[Run]:
        return [self.runs[i] for i in self.children.get(run_id, ()) if i in self.runs]

    def tree_of(self, run_id: str) -> RunTree | None:
        """The run tree rooted at ``run_id`` as far as known."""
        run = self.runs.get(run_id)
        if run is None:
            return None
        return RunTree(
            run=run,
            attempts=self.attempts.get(run_id, []),
            children=[t for c in self.children.get(run_id, ()) if (t := self.tree_of(c)) is not None],
        )
