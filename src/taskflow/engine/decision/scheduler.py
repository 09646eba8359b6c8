"""The scheduler decides which runs start, wait, get skipped or end — and nothing else.

It is pure: no I/O, no clock (``now`` is passed in), no asyncio. The engine reports facts
(a leaf ended, an attempt will be retried, a cancel was asked for) and acts on the answers
(start these runs, publish these transitions, kill these processes). See
``docs/scheduling.md`` for the rules; DESIGN.md "Run states" is the contract.

Cost: ``take`` is O(started × lanes + log n) and ``finished`` is O(affected runs). Ready runs
wait in one heap per *lane* — a (pool, service) pair — ordered by (priority, seq); each
dependency edge and each group keeps a counter of what it still waits for, so nothing scans
all runs.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from taskflow.model import ErrorType, RunState, SkipReason

_WAITING = frozenset({RunState.QUEUED, RunState.BLOCKED})
_SPOILS_GROUP = frozenset({RunState.FAILED, RunState.CANCELLED, RunState.INTERRUPTED})
# Skips that neither spoil their group nor their dependents' ``upstream``: an unmet ``run_if``
# (for the group only) and an operator's mark (``taskflow mark ... skipped``: counts as done).
_NEUTRAL_SKIPS = frozenset({SkipReason.CONDITION, SkipReason.MARKED})
# A run refused by an open breaker "could not start"; ``spawn`` says exactly that.
OPEN_BREAKER_ERROR = ErrorType.SPAWN


@dataclass(slots=True)
class SchedRun:
    """What the scheduler needs to know about one run. The scheduler updates ``state`` (and
    ``not_before``) in place once the run is added."""

    id: str
    task: str
    root_id: str
    parent_id: str | None
    is_group: bool
    priority: int = 2
    seq: int = 0  # FIFO order within one priority, given at add time
    pool: str | None = None
    service: str | None = None
    deps: tuple[tuple[str, bool], ...] = ()  # (run id of a sibling dependency, required)
    run_if: str = "all_done"  # or "any_failed"
    on_open: str = "wait"  # or "fail"
    state: RunState = RunState.PENDING
    not_before: float | None = None
    skip_reason: SkipReason | None = None  # set when it ends skipped; read back on restore
    cancelling: bool = False  # group inside a cancelled subtree; read back on restore
    after: str | None = None  # root only: waits pending until this run (another tree's root) ends


class Transition(NamedTuple):
    """A state change the scheduler made, for the engine to store and publish."""

    run_id: str
    state: RunState
    skip_reason: SkipReason | None = None
    error_type: ErrorType | None = None
    message: str | None = None


class ServiceGate(Protocol):
    """Per-service admission (circuit breaker + rate limit); ``ServiceBoard`` implements it."""

    def admit(self, service: str, run_id: str, now: float) -> bool:
        """True: may start now (takes a token / the probe slot)."""
        ...

    def blocked_reason(self, service: str, now: float) -> str:
        """One sentence for a blocked run."""
        ...

    def fail_fast(self, service: str, now: float | None = None) -> bool:
        """Breaker refusing (open, or half-open with its probe out): runs with
        ``on_open = "fail"`` fail instead of waiting."""
        ...

    def next_change(self, service: str, now: float) -> float | None:
        """When ``admit`` might say yes (<= now: maybe already); None: only outside events."""
        ...

    def release(self, service: str, run_id: str, now: float) -> None:
        """``run_id`` ended without a countable outcome; free its probe slot if it had it."""
        ...


@dataclass(slots=True, eq=False)
class _Node:
    """A run plus the counters that make each decision O(affected)."""

    run: SchedRun
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    dependents: list[tuple[_Node, bool]] = field(default_factory=list)
    waiting_on: int = 0  # dependencies not yet terminal
    any_bad: bool = False  # some dependency did not succeed
    upstream_bad: str | None = None  # a required dependency that did not succeed
    open_children: int = 0  # group: children not yet terminal
    spoiled_by: str | None = None  # group: first child that makes it fail
    active: bool = False  # group: its own dependencies are met, children may go
    cancelling: bool = False  # group: inside a cancelled subtree
    killing: bool = False  # leaf: running when its subtree was cancelled
    skip_reason: SkipReason | None = None


class Scheduler:
    """Run trees in memory and the decisions about them. See the module docstring."""

    def __init__(
        self, max_workers: int, pools: Mapping[str, int] | None = None, gate: ServiceGate | None = None
    ) -> None:
        self.max_workers = max_workers  # settable: adaptive concurrency
        self.pools: dict[str, int] = dict(pools or {})  # settable: config reload
        self._gate = gate
        self._nodes: dict[str, _Node] = {}
        self._trees: dict[str, list[str]] = {}
        self._lanes: dict[tuple[str | None, str | None], list[tuple[int, int, str]]] = {}
        self._retries: list[tuple[float, int, str]] = []
        # Trees whose start is delayed (``run --at``): pending roots by their ``not_before``.
        self._delayed: list[tuple[float, int, str]] = []
        # Roots waiting for another run to end (``after``: backfill slots one at a time), by
        # the id of the run they wait for; kept by id so a tree re-added keeps its waiters.
        self._successors: dict[str, list[str]] = {}
        self._denied: set[str] = set()  # services whose gate said no, until next_change
        self._queued_of: dict[str, set[str]] = {}
        self._blocked_of: dict[str, set[str]] = {}
        self._failing_of: dict[str, set[str]] = {}  # queued/blocked with on_open = "fail"
        self._running = 0
        self._pool_running: dict[str, int] = {}
        self._counts: dict[RunState, int] = dict.fromkeys(RunState, 0)
        self._out: list[Transition] = []
        self._pauses = Pauses()
        self._held: set[str] = set()  # queued runs of paused tasks, kept out of their lanes
        self._work: deque[tuple[bool, _Node]] = deque()  # (is_evaluation, node)
        self._now = 0.0

    # -- reading ---------------------------------------------------------------------------

    @property
    def running(self) -> int:
        """Leaves holding a worker slot."""
        return self._running

    @property
    def queued(self) -> int:
        return self._counts[RunState.QUEUED]

    def counts(self) -> dict[RunState, int]:
        """Runs in memory by state (groups included); states with none are left out."""
        return {state: n for state, n in self._counts.items() if n}

    def get(self, run_id: str) -> SchedRun | None:
        node = self._nodes.get(run_id)
        return None if node is None else node.run

    def is_tree_done(self, root_id: str) -> bool:
        """True when the tree's root is terminal (or the tree is not known)."""
        node = self._nodes.get(root_id)
        return node is None or node.run.state.terminal

    def next_wakeup(self, now: float) -> float | None:
        """Earliest time ``take`` could start or unblock something by itself: a retry
        deadline or a gate's next change. None: only new events can."""
        retries = self._retries
        while retries and not self._retry_valid(retries[0]):
            heapq.heappop(retries)
        wake = retries[0][0] if retries else None
        delayed = self._delayed
        while delayed and not self._delay_valid(delayed[0]):
            heapq.heappop(delayed)
        if delayed and (wake is None or delayed[0][0] < wake):
            wake = delayed[0][0]
        if self._gate is not None:
            for service in self._denied:
                change = self._gate.next_change(service, now)
                if change is not None and (wake is None or change < wake):
                    wake = change
        return wake

    @property
    def pauses(self) -> Pauses:
        """What is paused now (``set_pauses`` changes it)."""
        return self._pauses

    def pool_paused(self, pool: str) -> bool:
        """True when nothing of ``pool`` may start: paused by an operator, or a limit of 0."""
        return pool in self._pauses.pools or self.pools.get(pool) == 0

    # -- events ----------------------------------------------------------------------------

    def set_pauses(self, pauses: Pauses) -> None:
        """Hold queued work: of every run (``all``), of pools, of tasks (a task and its
        subtree). Running leaves go on; held runs stay ``queued`` and keep their place in
        line, and start once their pause is lifted (the next ``take``)."""
        self._pauses = pauses
        for run_id in sorted(self._held):
            node = self._nodes.get(run_id)
            if node is None or node.run.state not in _WAITING:
                self._held.discard(run_id)
            elif not pauses.holds_task(node.run.task):
                self._held.discard(run_id)
                heapq.heappush(self._lanes.setdefault((node.run.pool, node.run.service), []),
                               (node.run.priority, node.run.seq, node.run.id))

    def add(self, runs: Sequence[SchedRun], now: float) -> list[Transition]:
        """Take in a run tree (new, or restored after a restart in any states; running leaves
        count against the limits). Returns the transitions it causes right away."""
        self._now = now
        new = self._link(runs)
        for node in new.values():
            self._nodes[node.run.id] = node
            self._trees.setdefault(node.run.root_id, []).append(node.run.id)
            self._counts[node.run.state] += 1
            self._enter(node, node.run.state, fresh=True)
        roots = [node for node in new.values() if node.parent is None]
        for node in (n for root in roots for n in _walk(root)):  # parents before children
            run = node.run
            if run.state.terminal:
                continue
            # A restored group is active if it ran, or if it was ready (its own dependencies
            # done and none of its required ones bad, its parent active) and some child moved
            # on. A child cancelled on its own while the group still waited, or one created
            # skipped (disabled), says nothing about the group being ready.
            ready = (
                node.waiting_on == 0 and node.upstream_bad is None
                and (node.parent is None or node.parent.active)
            )
            if run.is_group and (
                run.state == RunState.RUNNING
                or (ready and any(c.run.state != RunState.PENDING for c in node.children))
            ):
                node.active = True
                if node.open_children == 0:
                    self._finish_group(node)
            elif node.parent is None and run.state == RunState.PENDING and self._waits_for(node):
                pass  # the run before it (a backfill slot's) releases it when it ends
            elif (
                node.parent is None and run.state == RunState.PENDING
                and run.not_before is not None and run.not_before > now
            ):
                # Delayed start: the root waits, pending, until its time (``take`` releases it).
                heapq.heappush(self._delayed, (run.not_before, run.seq, run.id))
            elif (
                run.state == RunState.PENDING and node.waiting_on == 0
                and (node.parent is None or node.parent.active)
            ):
                self._work.append((True, node))
        return self._flush()

    def take(self, now: float) -> tuple[list[SchedRun], list[Transition]]:
        """Runs to start now, in start order (marked running), and the other transitions
        this caused (retrying → queued, queued ↔ blocked, on_open failures, groups running)."""
        self._now = now
        started: list[SchedRun] = []
        self._wake_delayed(now)
        self._wake_retries(now)
        self._recheck_denied(now)
        admitted: set[str] = set()
        gate = self._gate
        while self._running < self.max_workers and not self._pauses.all:
            heap = self._best_lane()
            if heap is None:
                break
            node = self._nodes[heap[0][2]]
            service = node.run.service
            if service is not None and gate is not None:
                if not gate.admit(service, node.run.id, now):
                    if node.run.on_open == "fail" and gate.fail_fast(service, now):
                        heapq.heappop(heap)
                        self._fail_open(node)
                    self._deny(service)
                    self._cascade()
                    continue
                admitted.add(service)
            heapq.heappop(heap)
            self._start(node)
            started.append(node.run)
            if service is not None and gate is not None:
                change = gate.next_change(service, now)
                if change is None or change > now:
                    self._deny(service)
            self._cascade()
        # A service that admitted and still would: its blocked runs only wait for a slot now.
        for service in sorted(admitted - self._denied):
            for node in self._sorted(self._blocked_of.get(service, ())):
                self._emit(node, RunState.QUEUED)
        transitions = self._flush()
        if started:
            # A started run's steps on the way (retrying → queued, blocked) are moot: the
            # caller marks it running, and must not see an older state applied afterwards.
            ids = {run.id for run in started}
            transitions = [t for t in transitions if t.run_id not in ids]
        return started, transitions

    def finished(
        self, run_id: str, state: RunState, now: float, *, skip_reason: SkipReason | None = None
    ) -> list[Transition]:
        """A leaf ended in terminal ``state``; returns what that caused to its dependents and
        ancestors (not the reported run's own transition)."""
        self._now = now
        node = self._nodes.get(run_id)
        if node is None or node.run.state.terminal:
            return []
        if node.run.is_group:
            raise ValueError(f"run {run_id} is a group; groups end when their children do")
        if not state.terminal:
            raise ValueError(f"finished() needs a terminal state, got {state}")
        service = node.run.service
        if service is not None and self._gate is not None and state not in (RunState.SUCCEEDED, RunState.FAILED):
            self._gate.release(service, run_id, now)
        self._set_state(node, state)
        if state == RunState.SKIPPED:
            node.skip_reason = node.run.skip_reason = skip_reason or SkipReason.UPSTREAM
        self._work.append((False, node))
        return self._flush()

    def retry_later(self, run_id: str, not_before: float) -> list[Transition]:
        """A running leaf failed an attempt and will be retried at ``not_before``; frees its slot
        and keeps its place in line. A run being cancelled is not retried: it ends
        ``cancelled`` and, unlike elsewhere, that own transition is in the returned list."""
        node = self._nodes.get(run_id)
        if node is None or node.run.state != RunState.RUNNING or node.run.is_group:
            raise ValueError(f"run {run_id} is not a running leaf")
        if node.killing:
            self._settle(node, RunState.CANCELLED, message="cancelled")
            return self._flush()
        node.run.not_before = not_before
        self._set_state(node, RunState.RETRYING)
        return self._flush()

    def cancel(self, run_id: str, now: float) -> tuple[list[Transition], list[str]]:
        """Cancel ``run_id`` and its subtree: waiting runs end ``cancelled`` now; running leaves
        are returned for the caller to kill (it reports them via ``finished`` later)."""
        self._now = now
        top = self._nodes.get(run_id)
        if top is None:
            return [], []
        subtree = list(_walk(top))
        busy: set[str] = set()  # runs with a running leaf at or below them
        for node in reversed(subtree):
            if node.run.is_group:
                node.cancelling = node.run.cancelling = True
                if any(child.run.id in busy for child in node.children):
                    busy.add(node.run.id)
            elif node.run.state == RunState.RUNNING:
                busy.add(node.run.id)
        kill: list[str] = []
        for node in subtree:
            if node.run.state.terminal:
                continue
            if node.run.id in busy:
                if not node.run.is_group:
                    node.killing = True
                    kill.append(node.run.id)
                continue
            self._settle(node, RunState.CANCELLED, message="cancelled")
        return self._flush(), kill

    def forget(self, root_id: str) -> None:
        """Drop a tree from memory (normally once it is done); frees any slots it held."""
        for run_id in self._trees.pop(root_id, []):
            node = self._nodes.pop(run_id, None)
            self._held.discard(run_id)
            if node is not None:
                self._counts[node.run.state] -= 1
                self._leave(node, node.run.state)

    # -- dependency and group logic ----------------------------------------------------------

    def _flush(self) -> list[Transition]:
        """Finish the cascade; return and reset the transitions collected by this call."""
        self._cascade()
        out, self._out = self._out, []
        return out

    def _cascade(self) -> None:
        """Evaluate and propagate until nothing more follows."""
        work = self._work
        while work:
            is_evaluation, node = work.popleft()
            if is_evaluation:
                self._evaluate(node)
            else:
                self._propagate(node)

    def _waits_for(self, node: _Node) -> bool:
        """A root with ``after`` set waits while that run is known and not terminal; True
        when it was put behind it. (Unknown means it ended and was forgotten already.)"""
        after = node.run.after
        before = self._nodes.get(after) if after is not None else None
        if after is None or before is None or before.run.state.terminal:
            return False
        waiting = self._successors.setdefault(after, [])
        if node.run.id not in waiting:
            waiting.append(node.run.id)
        return True

    def _release(self, run_id: str) -> None:
        """The run ``run_id`` waited for ended: it starts now, or at its delayed time."""
        node = self._nodes.get(run_id)
        if node is None or node.run.state != RunState.PENDING:
            return  # cancelled while it waited
        run = node.run
        if run.not_before is not None and run.not_before > self._now:
            heapq.heappush(self._delayed, (run.not_before, run.seq, run.id))
        else:
            self._work.append((True, node))

    def _propagate(self, node: _Node) -> None:
        """``node`` just became terminal: tell its dependents, its parent and the roots
        waiting for it (``after``)."""
        run = node.run
        before = self._nodes.get(run.after) if run.after is not None else None
        for successor in self._successors.pop(run.id, ()):
            if run.after is not None and before is not None and not before.run.state.terminal:
                # It ended before its turn (cancelled while waiting): the next one waits for
                # what it waited for, so the slots still never overlap.
                self._successors.setdefault(run.after, []).append(successor)
            else:
                self._release(successor)
        ok = _counts_as_done(run.state, node.skip_reason)
        for dependent, required in node.dependents:
            dependent.waiting_on -= 1
            if not ok:
                dependent.any_bad = True
                if required and dependent.upstream_bad is None:
                    dependent.upstream_bad = run.task
            if (
                dependent.waiting_on == 0 and dependent.run.state == RunState.PENDING
                and (dependent.parent is None or dependent.parent.active)
            ):
                self._work.append((True, dependent))
        parent = node.parent
        if parent is None or parent.run.state.terminal:
            return
        parent.open_children -= 1
        spoils = run.state in _SPOILS_GROUP or (
            run.state == RunState.SKIPPED and node.skip_reason not in _NEUTRAL_SKIPS
        )
        if spoils and parent.spoiled_by is None:
            parent.spoiled_by = f"{run.task} {run.state}"
        if parent.open_children == 0 and (parent.active or parent.cancelling):
            self._finish_group(parent)

    def _evaluate(self, node: _Node) -> None:
        """All dependencies of ``node`` are terminal and its parent is active: run or skip it."""
        run = node.run
        if run.state != RunState.PENDING or node.active:
            return
        if run.run_if == "any_failed":
            if not node.any_bad:
                self._skip(node, SkipReason.CONDITION, "every dependency succeeded (run_if = any_failed)")
                return
        elif node.upstream_bad is not None:
            self._skip(node, SkipReason.UPSTREAM, f"required dependency {node.upstream_bad} did not succeed")
            return
        if not run.is_group:
            self._make_ready(node)
            return
        node.active = True
        if node.open_children == 0:
            self._finish_group(node)
            return
        for child in node.children:
            if child.run.state == RunState.PENDING and child.waiting_on == 0:
                self._work.append((True, child))

    def _skip(self, node: _Node, reason: SkipReason, message: str) -> None:
        self._settle(node, RunState.SKIPPED, skip_reason=reason, message=message)
        if node.run.is_group:
            # Its subtree never becomes eligible; same reason, no cascade needed inside it.
            why = f"group {node.run.task} was skipped"
            for below in _walk(node):
                if below is not node and not below.run.state.terminal and below.run.state != RunState.RUNNING:
                    below.skip_reason = below.run.skip_reason = reason
                    self._emit(below, RunState.SKIPPED, skip_reason=reason, message=why)

    def _finish_group(self, group: _Node) -> None:
        if group.spoiled_by is None:
            self._settle(group, RunState.SUCCEEDED)
        elif group.cancelling:
            self._settle(group, RunState.CANCELLED, message=group.spoiled_by)
        else:
            self._settle(group, RunState.FAILED, message=group.spoiled_by)

    def _settle(
        self,
        node: _Node,
        state: RunState,
        *,
        skip_reason: SkipReason | None = None,
        error_type: ErrorType | None = None,
        message: str | None = None,
    ) -> None:
        """Make ``node`` terminal and queue the cascade."""
        self._emit(node, state, skip_reason=skip_reason, error_type=error_type, message=message)
        if state == RunState.SKIPPED:
            node.skip_reason = node.run.skip_reason = skip_reason
        self._work.append((False, node))

    # -- slots, lanes and gates ----------------------------------------------------------------

    def _make_ready(self, node: _Node) -> None:
        service = node.run.service
        if service is not None and self._gate is not None and service in self._denied:
            if node.run.on_open == "fail" and self._gate.fail_fast(service, self._now):
                self._fail_open(node)
            else:
                self._emit(node, RunState.BLOCKED, message=self._gate.blocked_reason(service, self._now))
        else:
            self._emit(node, RunState.QUEUED)

    def _fail_open(self, node: _Node) -> None:
        message = f"circuit breaker for {node.run.service} is open"
        self._settle(node, RunState.FAILED, error_type=OPEN_BREAKER_ERROR, message=message)

    def _deny(self, service: str) -> None:
        """``service`` admits no more now: its queued runs become blocked (or fail)."""
        assert self._gate is not None
        self._denied.add(service)
        queued = self._queued_of.get(service)
        if not queued:
            return
        reason = self._gate.blocked_reason(service, self._now)
        failing = self._gate.fail_fast(service, self._now)
        for node in self._sorted(queued):
            if failing and node.run.on_open == "fail":
                self._fail_open(node)
            else:
                self._emit(node, RunState.BLOCKED, message=reason)

    def _recheck_denied(self, now: float) -> None:
        """Fail waiting ``on_open = "fail"`` runs of refusing breakers (even with no free slot),
        and let services whose gate may admit again be tried."""
        gate = self._gate
        if gate is None:
            return
        for service in sorted(s for s, ids in self._failing_of.items() if ids):
            if gate.fail_fast(service, now):
                for node in self._sorted(self._failing_of[service]):
                    self._fail_open(node)
        for service in sorted(self._denied):
            change = gate.next_change(service, now)
            if change is not None and change <= now:
                self._denied.discard(service)
        self._cascade()

    def _wake_retries(self, now: float) -> None:
        retries = self._retries
        while retries and retries[0][0] <= now:
            entry = heapq.heappop(retries)
            if self._retry_valid(entry):
                node = self._nodes[entry[2]]
                node.run.not_before = None
                self._make_ready(node)
        self._cascade()

    def _wake_delayed(self, now: float) -> None:
        """Delayed roots whose time has come are evaluated (run, or skipped, as any root)."""
        delayed = self._delayed
        while delayed and delayed[0][0] <= now:
            entry = heapq.heappop(delayed)
            if self._delay_valid(entry):
                node = self._nodes[entry[2]]
                node.run.not_before = None
                self._work.append((True, node))
        self._cascade()

    def _delay_valid(self, entry: tuple[float, int, str]) -> bool:
        node = self._nodes.get(entry[2])
        return node is not None and node.run.state == RunState.PENDING and node.run.not_before == entry[0]

    def _retry_valid(self, entry: tuple[float, int, str]) -> bool:
        node = self._nodes.get(entry[2])
        return node is not None and node.run.state == RunState.RETRYING and node.run.not_before == entry[0]

    def _best_lane(self) -> list[tuple[int, int, str]] | None:
        """The lane whose head should start next: best (priority, seq) among lanes whose pool
        has room and whose service is not denied."""
        best: list[tuple[int, int, str]] | None = None
        empty = []
        for key, heap in self._lanes.items():
            pool, service = key
            if service is not None and service in self._denied:
                continue
            if pool is not None:
                limit = self.pools.get(pool)
                if pool in self._pauses.pools or (limit is not None and self._pool_running.get(pool, 0) >= limit):
                    continue
            while heap and (not self._is_waiting(heap[0][2]) or self._hold(heap[0][2])):
                heapq.heappop(heap)
            if not heap:
                empty.append(key)
            elif best is None or heap[0] < best[0]:
                best = heap
        for key in empty:
            del self._lanes[key]
        return best

    def _hold(self, run_id: str) -> bool:
        """Move a waiting run of a paused task out of its lane; True when it did."""
        if not self._pauses.tasks or not self._pauses.holds_task(self._nodes[run_id].run.task):
            return False
        self._held.add(run_id)
        return True

    def _is_waiting(self, run_id: str) -> bool:
        node = self._nodes.get(run_id)
        return node is not None and node.run.state in _WAITING

    def _start(self, node: _Node) -> None:
        self._set_state(node, RunState.RUNNING)
        parent = node.parent
        while parent is not None and parent.run.state == RunState.PENDING:
            self._emit(parent, RunState.RUNNING)
            parent = parent.parent

    def _sorted(self, run_ids: set[str] | tuple[()]) -> list[_Node]:
        nodes = [self._nodes[run_id] for run_id in run_ids]
        nodes.sort(key=lambda n: (n.run.priority, n.run.seq, n.run.id))
        return nodes

    # -- state bookkeeping ---------------------------------------------------------------------

    def _emit(
        self,
        node: _Node,
        state: RunState,
        *,
        skip_reason: SkipReason | None = None,
        error_type: ErrorType | None = None,
        message: str | None = None,
    ) -> None:
        self._set_state(node, state)
        self._out.append(Transition(node.run.id, state, skip_reason, error_type, message))

    def _set_state(self, node: _Node, state: RunState) -> None:
        old = node.run.state
        if old == state:
            return
        self._counts[old] -= 1
        self._counts[state] += 1
        node.run.state = state
        self._leave(node, old)
        self._enter(node, state, fresh=old not in _WAITING)

    def _enter(self, node: _Node, state: RunState, *, fresh: bool) -> None:
        """Index a leaf under ``state``: slots, lanes, per-service sets, retry heap."""
        run = node.run
        if run.is_group:
            return
        if state == RunState.RUNNING:
            self._running += 1
            if run.pool is not None:
                self._pool_running[run.pool] = self._pool_running.get(run.pool, 0) + 1
        elif state in _WAITING:
            if fresh:  # one live heap entry per run; stale ones are dropped lazily
                heapq.heappush(self._lanes.setdefault((run.pool, run.service), []), (run.priority, run.seq, run.id))
            if run.service is not None:
                if state == RunState.QUEUED:
                    self._queued_of.setdefault(run.service, set()).add(run.id)
                else:
                    self._blocked_of.setdefault(run.service, set()).add(run.id)
                if run.on_open == "fail":
                    self._failing_of.setdefault(run.service, set()).add(run.id)
        elif state == RunState.RETRYING:
            heapq.heappush(self._retries, (run.not_before if run.not_before is not None else self._now, run.seq, run.id))

    def _leave(self, node: _Node, state: RunState) -> None:
        run = node.run
        if run.is_group:
            return
        if state == RunState.RUNNING:
            self._running -= 1
            if run.pool is not None:
                self._pool_running[run.pool] -= 1
        elif run.service is not None and state in _WAITING:
            if state == RunState.QUEUED:
                self._queued_of[run.service].discard(run.id)
            else:
                self._blocked_of[run.service].discard(run.id)
            if run.on_open == "fail":
                self._failing_of[run.service].discard(run.id)

    def _link(self, runs: Sequence[SchedRun]) -> dict[str, _Node]:
        """Build and check the nodes of a new tree: parents, sibling dependencies, no cycles."""
        new: dict[str, _Node] = {}
        for run in runs:
            if run.id in self._nodes or run.id in new:
                raise ValueError(f"run {run.id} is already scheduled")
            new[run.id] = _Node(run, cancelling=run.cancelling)
        for node in new.values():
            parent_id = node.run.parent_id
            if parent_id is not None:
                parent = new.get(parent_id)
                if parent is None:
                    raise ValueError(f"run {node.run.id} names parent {parent_id}, which is not in its tree")
                node.parent = parent
                parent.children.append(node)
                if not node.run.state.terminal:
                    parent.open_children += 1
                elif node.run.state in _SPOILS_GROUP or (
                    node.run.state == RunState.SKIPPED and node.run.skip_reason not in _NEUTRAL_SKIPS
                ):
                    parent.spoiled_by = parent.spoiled_by or f"{node.run.task} {node.run.state}"
        indegree: dict[str, int] = {}
        for node in new.values():
            indegree[node.run.id] = len(node.run.deps)
            for dep_id, required in node.run.deps:
                dep = new.get(dep_id)
                if dep is None or dep.parent is not node.parent:
                    raise ValueError(f"run {node.run.id} depends on {dep_id}, which is not its sibling")
                dep.dependents.append((node, required))
                if not dep.run.state.terminal:
                    node.waiting_on += 1
                elif not _counts_as_done(dep.run.state, dep.run.skip_reason):
                    node.any_bad = True
                    if required and node.upstream_bad is None:
                        node.upstream_bad = dep.run.task
        ready = [node for node in new.values() if indegree[node.run.id] == 0]
        seen = 0
        while ready:
            node = ready.pop()
            seen += 1
            for dependent, _ in node.dependents:
                indegree[dependent.run.id] -= 1
                if indegree[dependent.run.id] == 0:
                    ready.append(dependent)
        if seen != len(new):
            stuck = sorted(new[i].run.task for i, n in indegree.items() if n > 0)[:5]
            raise ValueError(f"dependency cycle among {', '.join(stuck)}")
        return new


@dataclass(frozen=True, slots=True)
class Pauses:
    """What operators paused: everything, pools, tasks (each with its subtree)."""

    all: bool = False
    pools: frozenset[str] = frozenset()
    tasks: frozenset[str] = frozenset()

    def holds_task(self, task: str) -> bool:
        """True when ``task`` or a group above it is paused."""
        return any(task == t or task.startswith(t + "/") for t in self.tasks)

    def holds(self, task: str, pool: str | None) -> bool:
        """True when a queued run of ``task`` in ``pool`` waits because of a pause."""
        return self.all or (pool is not None and pool in self.pools) or self.holds_task(task)

    def __bool__(self) -> bool:
        return self.all or bool(self.pools) or bool(self.tasks)


def _counts_as_done(state: RunState, skip_reason: SkipReason | None) -> bool:
    """True when a dependency in ``state`` lets its required dependents run: it succeeded,
    or an operator marked it skipped."""
    return state == RunState.SUCCEEDED or (state == RunState.SKIPPED and skip_reason == SkipReason.MARKED)


def _walk(node: _Node) -> Iterator[_Node]:
    """``node`` and its descendants, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))
