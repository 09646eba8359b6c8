"""What each request does: role checks, audit, and the call into the engine or the store.

The server hands every request here with the ``Peer`` that sent it. Viewers may read;
mutations need the operator role (``exec`` needs admin unless ``adhoc = "operator"``); every
mutation, allowed or refused, is written to the audit table.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from taskflow.daemon.artifacts import ArtifactError, list_artifacts, read_artifact
from taskflow.daemon.backfill import audited_count, backfill_task
from taskflow.daemon.paging import SkeletonNode, TreeSkeleton, fitting, leaf_counts, task_page
from taskflow.daemon.plan import plan_task
from taskflow.daemon.server import Peer, RequestError
from taskflow.daemon.views import public_run
from taskflow.engine.errors import EngineError
from taskflow.engine.executor import OutputChunk
from taskflow.model import (
    Attempt,
    AuditEntry,
    BreakerState,
    DaemonConfig,
    Role,
    Run,
    RunState,
    RunTree,
    SkipReason,
    TaskSpec,
)
from taskflow.protocol import (
    Backfill,
    BackfillInfo,
    Cancel,
    DisableTask,
    EnableTask,
    ErrorCode,
    Exec,
    GetRun,
    GetTask,
    Health,
    HealthInfo,
    ListAudit,
    ListBreakers,
    ListRuns,
    ListTasks,
    LogChunk,
    Mark,
    PageRunTree,
    PageTasks,
    Pause,
    PauseInfo,
    PlanTask,
    ReadLogs,
    Reload,
    ReloadInfo,
    Request,
    Rerun,
    ResetBreaker,
    Resume,
    RunRef,
    RunSummary,
    ShowRun,
    Status,
    StatusInfo,
    SummarizeRun,
    TaskInfo,
    TaskPage,
    TaskPlan,
    TreePage,
    TriggerTask,
    TripBreaker,
)
from taskflow.protocol.artifacts import ARTIFACT_CHUNK, ArtifactChunk, ArtifactList, ListArtifacts, ReadArtifact
from taskflow.protocol.task_requests import MUTATING_REQUESTS
from taskflow.store import StoreError

if TYPE_CHECKING:
    from taskflow.daemon.views import DaemonViews
    from taskflow.store import Store

log = logging.getLogger(__name__)

_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class BreakerBoard(Protocol):
    """The engine's breakers, as ``list-breakers`` shows them."""

    def states(self) -> list[BreakerState]: ...


class EngineOperations(Protocol):
    """What requests read from and ask of the engine."""

    @property
    def tasks(self) -> Mapping[str, TaskSpec]: ...

    @property
    def unsaved(self) -> Mapping[str, Run]:
        """Runs that ended while the store held their record back (a full disk)."""
        ...

    @property
    def board(self) -> BreakerBoard: ...

    async def trigger(
        self, name: str, params: Mapping[str, Any] | None = None, *, requested_by: str | None = None,
        start_at: float | None = None, priority: int | None = None,
    ) -> Run: ...

    async def exec_adhoc(
        self,
        command: list[str] | str,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        requested_by: str | None = None,
        cwd: str | None = None,
    ) -> Run: ...

    async def cancel(self, run_id: str, requested_by: str | None = None) -> Run: ...

    def read_output(self, output_dir: str, stream: str, offset: int, limit: int) -> OutputChunk:
        """Blocking: called in a worker thread."""
        ...

    async def rerun(self, run_id: str, *, failed_only: bool = False, requested_by: str | None = None) -> Run: ...

    async def mark(self, run_id: str, state: RunState, reason: str, requested_by: str | None = None) -> Run: ...

    async def set_enabled(self, name: str, enabled: bool, reason: str | None, by: str | None) -> object: ...

    async def trip_breaker(self, service: str, by: str | None) -> BreakerState: ...

    async def reset_breaker(self, service: str) -> BreakerState: ...

    def breaker_states(self) -> list[BreakerState]: ...

    async def pause(self, *, everything: bool = False, pool: str | None = None, task: str | None = None) -> object: ...

    async def resume(self, *, everything: bool = False, pool: str | None = None, task: str | None = None) -> object: ...


class DaemonControl(Protocol):
    """What requests need of the daemon itself: its live config, health, and a reload."""

    @property
    def config(self) -> DaemonConfig: ...

    @property
    def loop_lag_ms(self) -> float: ...

    @property
    def stopping(self) -> bool: ...

    async def reload(self) -> ReloadInfo: ...


def _outcome(result: object) -> str:
    """The audit outcome of a request that was answered: "ok", unless it answered a failure
    (a reload that found task file errors kept the last good version of those files)."""
    if isinstance(result, ReloadInfo) and result.errors:
        return f"failed: {len(result.errors)} task file error(s): {result.errors[0]}"
    return "ok"


def _article(word: str) -> str:
    """ "an operator", "an admin", "a viewer"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class RequestHandler:
    """Callable given to the ``Server``: ``await handler(request, peer)``."""

    def __init__(self, engine: EngineOperations, store: Store, views: DaemonViews, daemon: DaemonControl) -> None:
        self.engine = engine
        self.store = store
        self.views = views
        self.daemon = daemon
        self._routes: dict[type, Callable[[Any, Peer], Awaitable[Any]]] = {
            Status: self.status,
            Health: self.health,
            ListTasks: self.list_tasks,
            PageTasks: self.page_tasks,
            GetTask: self.get_task,
            ListRuns: self.list_runs,
            ShowRun: self.show_run,
            GetRun: self.get_run,
            SummarizeRun: self.summarize_run,
            PageRunTree: self.page_run_tree,
            ReadLogs: self.read_logs,
            ListArtifacts: self.list_artifacts,
            ReadArtifact: self.read_artifact,
            ListBreakers: self.list_breakers,
            ListAudit: self.list_audit,
            PlanTask: self.plan,
            TriggerTask: self.trigger,
            Exec: self.exec_adhoc,
            Cancel: self.cancel,
            Rerun: self.rerun,
            Mark: self.mark,
            EnableTask: self.enable,
            DisableTask: self.disable,
            ResetBreaker: self.reset_breaker,
            TripBreaker: self.trip_breaker,
            Reload: self.reload,
            Pause: self.pause,
            Resume: self.resume,
            Backfill: self.backfill,
        }

    async def __call__(self, request: Request[Any], peer: Peer) -> Any:
        route = self._routes.get(type(request))
        if route is None:
            raise RequestError(ErrorCode.BAD_REQUEST, f"{type(request).__name__} is not handled here")
        if type(request) not in MUTATING_REQUESTS:
            return await self._call(route, request, peer)
        try:
            self._authorize(request, peer)
            result = await self._call(route, request, peer)
        except RequestError as exc:
            await self._audit(request, peer, exc.message)
            raise
        await self._audit(request, peer, _outcome(result), audited_count(result))
        return result

    async def _call(self, route: Callable[[Any, Peer], Awaitable[Any]], request: Any, peer: Peer) -> Any:
        try:
            return await route(request, peer)
        except EngineError as exc:
            raise RequestError(ErrorCode(exc.code), exc.message) from None
        except StoreError as exc:  # the state database refuses writes: disk full, I/O error
            raise RequestError(ErrorCode.UNAVAILABLE, str(exc)) from None

    def _authorize(self, request: Request[Any], peer: Peer) -> None:
        action = _snake(type(request).__name__)
        needed = Role.OPERATOR
        if isinstance(request, Exec):
            mode = self.daemon.config.adhoc
            if mode == "off":
                raise RequestError(
                    ErrorCode.FORBIDDEN, "ad-hoc commands are turned off on this daemon (adhoc = \"off\")"
                )
            needed = Role.OPERATOR if mode == "operator" else Role.ADMIN
        if _ROLE_RANK[peer.role] < _ROLE_RANK[needed]:
            raise RequestError(
                ErrorCode.FORBIDDEN,
                f"{action.replace('_', ' ')} needs the {needed} role; {peer.user} is {_article(peer.role)} {peer.role}",
            )

    async def _audit(
        self, request: Request[Any], peer: Peer, outcome: str, extra: dict[str, Any] | None = None
    ) -> None:
        args = msgspec.to_builtins(request)
        args.pop("id", None)
        args.pop("type", None)
        args.update(extra or {})  # what only the answer knows (how many runs a backfill made)
        entry = AuditEntry(
            at=datetime.now(UTC),
            user=peer.user,
            role=peer.role,
            action=_snake(type(request).__name__),
            args=args,
            outcome=outcome,
        )
        try:
            # Kept and retried if the disk is full: the reply waits until it lands or is held.
            await self.store.settled(self.store.record_audit(entry))
        except StoreError as exc:  # already one sentence (disk full, ...); the store logged it too
            log.error("could not write the audit entry for %s by %s: %s", entry.action, entry.user, exc)
        except Exception:
            log.exception("could not write the audit entry for %s by %s", entry.action, entry.user)

    # ---------------------------------------------------------------- reads

    async def status(self, request: Status, peer: Peer) -> StatusInfo:
        """Live counts of active runs from the engine, history from the store."""
        info = self.views.status_info()
        counts = {
            state: n for state, n in (await self.store.counts_by_state()).items()
            if RunState(state).terminal
        }
        counts.update((state, n) for state, n in info.counts.items() if not RunState(state).terminal)
        for run in self.engine.unsaved.values():  # ended; the store still has them in flight
            counts[run.state.value] = counts.get(run.state.value, 0) + 1
        return msgspec.structs.replace(info, counts=counts)

    async def health(self, request: Health, peer: Peer) -> HealthInfo:
        lag = self.daemon.loop_lag_ms
        problems = self.views.problems()
        if lag >= 2000:
            problems.append(f"the event loop lags {lag:.0f} ms behind")
        if self.daemon.stopping:
            problems.append("the daemon is stopping")
        return HealthInfo(ok=not problems, loop_lag_ms=lag, problems=problems)

    async def list_tasks(self, request: ListTasks, peer: Peer) -> list[TaskInfo]:
        infos = [self._task_view(name, request.enabled, request.tag) for name in sorted(self.engine.tasks)]
        return [info for info in infos if info is not None]

    async def page_tasks(self, request: PageTasks, peer: Peer) -> TaskPage:
        return task_page(
            sorted(self.engine.tasks),
            lambda name: self._task_view(name, request.enabled, request.tag),
            after=request.after, limit=max(1, min(request.limit, 10_000)),
        )

    def _task_view(self, name: str, enabled: bool | None, tag: str | None) -> TaskInfo | None:
        """``name``'s view, or None when it does not pass the filters."""
        spec = self.engine.tasks[name]
        if tag and tag not in spec.tags:
            return None
        info = self.views.task_info(name)
        return None if enabled is not None and info.enabled != enabled else info

    async def get_task(self, request: GetTask, peer: Peer) -> TaskSpec:
        spec = self.engine.tasks.get(request.name)
        if spec is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no task named {request.name!r}")
        return spec

    async def list_runs(self, request: ListRuns, peer: Peer) -> list[Run]:
        limit = max(1, min(request.limit, 10_000))
        await self.store.flush()
        runs = await self.store.list_runs(
            state=request.state, task=request.task, roots_only=request.roots_only,
            limit=limit, before=request.before,
        )
        unsaved = self.engine.unsaved
        return [public_run(unsaved.get(run.id, run)) for run in runs]

    async def show_run(self, request: ShowRun, peer: Peer) -> RunTree:
        return self.views.public_tree(await self._subtree(request.run_id))

    async def get_run(self, request: GetRun, peer: Peer) -> Run:
        await self.store.flush()
        run = self.engine.unsaved.get(request.run_id) or await self.store.get_run(request.run_id)
        if run is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {request.run_id}")
        return public_run(run)

    async def summarize_run(self, request: SummarizeRun, peer: Peer) -> RunSummary:
        skeleton = await self._skeleton(request.run_id)
        leaves, trouble = leaf_counts(skeleton, max(0, min(request.limit, 1000)))
        found = await self._full_runs([skeleton.order[0].id, *trouble])
        if not found or found[0].run.id != skeleton.order[0].id:  # pruned between the reads
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {request.run_id}")
        top, *rest = found
        return RunSummary(
            run=top.run, nodes=len(skeleton.order), leaves=leaves, trouble=[node.run for node in rest]
        )

    async def page_run_tree(self, request: PageRunTree, peer: Peer) -> TreePage:
        skeleton = await self._skeleton(request.run_id)
        start = max(0, request.offset)
        end = start + max(1, min(request.limit, 2000))
        ids = [node.id for node in skeleton.order[start:end]]
        page = await self._full_runs(ids)
        kept = fitting(page)  # runs with many attempts or long messages: fewer per page
        if kept < len(page):
            page = page[:kept]
            end = start + ids.index(page[-1].run.id) + 1
        return TreePage(nodes=page, next_offset=end if end < len(skeleton.order) else None)

    async def _skeleton(self, run_id: str) -> TreeSkeleton:
        """The shape of the tree below and including ``run_id`` (after pending writes land),
        with the states of runs the store has not caught up on."""
        await self.store.flush()
        run = await self.store.get_run(run_id)
        if run is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {run_id}")
        unsaved = self.engine.unsaved
        rows = await self.store.tree_skeleton(run.root_id)
        nodes = (
            SkeletonNode(id, parent, RunState(state), SkipReason(skip) if skip else None)
            if id not in unsaved
            else SkeletonNode(id, parent, unsaved[id].state, unsaved[id].skip_reason)
            for id, parent, state, skip in rows
        )
        skeleton = TreeSkeleton(nodes, run_id)
        if not skeleton.order:  # pruned between the two reads
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {run_id}")
        return skeleton

    async def _full_runs(self, run_ids: list[str]) -> list[RunTree]:
        """These runs with their attempts, as clients see them; childless."""
        return [self.views.public_tree(node) for node in await self.store.runs_with_attempts(run_ids)]

    async def _subtree(self, run_id: str) -> RunTree:
        """The stored tree below and including ``run_id`` (after pending writes land)."""
        store = self.store
        await store.flush()
        run = await store.get_run(run_id)
        if run is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {run_id}")
        tree = await store.run_tree(run.root_id)
        if tree is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {run_id}")
        return next((node for node in tree.walk() if node.run.id == run_id), tree)

    async def read_logs(self, request: ReadLogs, peer: Peer) -> LogChunk:
        if request.stream == "both":
            raise RequestError(ErrorCode.BAD_REQUEST, "read stdout and stderr separately")
        store = self.store
        await store.flush()
        run = await store.get_run(request.run_id)
        if run is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {request.run_id}")
        attempts = await store.attempts(run.id)

        def empty(number: int, eof: bool) -> LogChunk:
            return LogChunk(
                run_id=run.id, attempt=number, stream=request.stream, data=b"",
                offset=request.offset, next_offset=request.offset, eof=eof,
            )

        if not attempts:
            return empty(0, run.state.terminal)
        if request.attempt is None:
            attempt = attempts[-1]
        else:
            matches = [a for a in attempts if a.number == request.attempt]
            if not matches:
                raise RequestError(ErrorCode.NOT_FOUND, f"run {run.id} has no attempt {request.attempt}")
            attempt = matches[0]
        finished = attempt.finished_at is not None
        if not attempt.output_dir:
            return empty(attempt.number, finished)
        max_bytes = max(1, min(request.max_bytes, 512 * 1024))
        data, next_offset, cut = await asyncio.to_thread(
            self.engine.read_output, attempt.output_dir, request.stream, request.offset, max_bytes
        )
        return LogChunk(
            run_id=run.id, attempt=attempt.number, stream=request.stream, data=data,
            offset=request.offset, next_offset=next_offset, cut=cut,
            eof=finished and len(data) < max_bytes,
        )

    async def _attempt_of(self, run_id: str, number: int | None) -> tuple[Run, Attempt | None]:
        """A run and one of its attempts (``None``: the latest; the run may have none)."""
        await self.store.flush()
        run = await self.store.get_run(run_id)
        if run is None:
            raise RequestError(ErrorCode.NOT_FOUND, f"no run {run_id}")
        attempts = await self.store.attempts(run.id)
        if number is None:
            return run, attempts[-1] if attempts else None
        matches = [a for a in attempts if a.number == number]
        if not matches:
            raise RequestError(ErrorCode.NOT_FOUND, f"run {run.id} has no attempt {number}")
        return run, matches[0]

    async def list_artifacts(self, request: ListArtifacts, peer: Peer) -> ArtifactList:
        run, attempt = await self._attempt_of(request.run_id, request.attempt)
        if attempt is None or not attempt.output_dir:
            return ArtifactList(run_id=run.id, attempt=0 if attempt is None else attempt.number)
        files, truncated = await asyncio.to_thread(list_artifacts, attempt.output_dir)
        return ArtifactList(run_id=run.id, attempt=attempt.number, files=files, truncated=truncated)

    async def read_artifact(self, request: ReadArtifact, peer: Peer) -> ArtifactChunk:
        run, attempt = await self._attempt_of(request.run_id, request.attempt)
        if attempt is None or not attempt.output_dir:
            raise RequestError(ErrorCode.NOT_FOUND, f"run {run.id} has no attempt with artifacts")
        limit = max(1, min(request.max_bytes, ARTIFACT_CHUNK))
        try:
            data, size = await asyncio.to_thread(
                read_artifact, attempt.output_dir, request.path, request.offset, limit
            )
        except ArtifactError as exc:
            raise RequestError(ErrorCode.NOT_FOUND, str(exc)) from None
        return ArtifactChunk(run_id=run.id, attempt=attempt.number, path=request.path, data=data,
                             offset=request.offset, size=size, eof=request.offset + len(data) >= size)

    async def list_breakers(self, request: ListBreakers, peer: Peer) -> list[BreakerState]:
        return self.engine.breaker_states()

    async def list_audit(self, request: ListAudit, peer: Peer) -> list[AuditEntry]:
        return await self.store.audit(max(1, min(request.limit, 10_000)))

    async def plan(self, request: PlanTask, peer: Peer) -> TaskPlan:
        """What a trigger would run (a read: viewers may plan; nothing is stored)."""
        return plan_task(self.views.engine, self.daemon.config.executor, request)

    # ---------------------------------------------------------------- mutations

    async def trigger(self, request: TriggerTask, peer: Peer) -> RunRef:
        run = await self.engine.trigger(
            request.task, request.params, requested_by=peer.user,
            start_at=request.at.timestamp() if request.at is not None else None, priority=request.priority,
        )
        return RunRef(id=run.id, task=run.task)

    async def exec_adhoc(self, request: Exec, peer: Peer) -> RunRef:
        run = await self.engine.exec_adhoc(
            request.command, name=request.name, timeout=request.timeout, retries=request.retries,
            requested_by=peer.user, cwd=request.cwd,
        )
        return RunRef(id=run.id, task=run.task)

    async def cancel(self, request: Cancel, peer: Peer) -> RunRef:
        run = await self.engine.cancel(request.run_id, requested_by=peer.user)
        return RunRef(id=run.id, task=run.task)

    async def rerun(self, request: Rerun, peer: Peer) -> RunRef:
        await self.store.flush()
        run = await self.engine.rerun(request.run_id, failed_only=request.failed_only, requested_by=peer.user)
        return RunRef(id=run.id, task=run.task)

    async def mark(self, request: Mark, peer: Peer) -> Run:
        run = await self.engine.mark(request.run_id, request.state, request.reason, requested_by=peer.user)
        return public_run(run)

    async def enable(self, request: EnableTask, peer: Peer) -> TaskInfo:
        await self.engine.set_enabled(request.name, True, None, peer.user)
        return self.views.task_info(request.name)

    async def disable(self, request: DisableTask, peer: Peer) -> TaskInfo:
        await self.engine.set_enabled(request.name, False, request.reason or None, peer.user)
        return self.views.task_info(request.name)

    async def reset_breaker(self, request: ResetBreaker, peer: Peer) -> BreakerState:
        return await self.engine.reset_breaker(request.service)

    async def trip_breaker(self, request: TripBreaker, peer: Peer) -> BreakerState:
        return await self.engine.trip_breaker(request.service, peer.user)

    async def pause(self, request: Pause, peer: Peer) -> PauseInfo:
        await self.engine.pause(everything=request.all, pool=request.pool, task=request.task)
        return self.views.pause_info()

    async def resume(self, request: Resume, peer: Peer) -> PauseInfo:
        await self.engine.resume(everything=request.all, pool=request.pool, task=request.task)
        return self.views.pause_info()

    async def backfill(self, request: Backfill, peer: Peer) -> BackfillInfo:
        return await backfill_task(self.views.engine, request, peer.user)

    async def reload(self, request: Reload, peer: Peer) -> ReloadInfo:
        return await self.daemon.reload()

