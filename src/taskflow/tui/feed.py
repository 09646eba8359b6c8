"""Reading the daemon: full reads into a ``Snapshot``, and a per-run log follower.

Only this module and ``app.py`` talk to ``taskflow.client``; screens see ``WorldState``.
A full read runs every list request concurrently: on reconnect or ``Resync`` the TUI
re-reads everything instead of guessing what it missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from taskflow.client import AsyncClient, ClientError
from taskflow.model import AuditEntry, RunTree
from taskflow.protocol import (
    TOPIC_LOGS,
    ErrorCode,
    ListAudit,
    ListBreakers,
    ListRuns,
    LogChunk,
    PageRunTree,
    PageTasks,
    ReadLogs,
    ShowRun,
    Status,
    TaskInfo,
    Welcome,
)
from taskflow.tui.state import Snapshot

RUN_HISTORY_LIMIT = 500  # runs (roots and children) kept on screen after a full read
ROOT_HISTORY_LIMIT = 200  # and at least this many root runs


async def read_snapshot(client: AsyncClient, welcome: Welcome) -> tuple[Snapshot, list[str]]:
    """Everything the dashboard shows, read concurrently from the daemon.

    Tasks and runs are essential (their failure raises); status and breakers are not: a
    failing part is left empty and its one-sentence reason returned, so one broken
    request does not blank the whole screen.
    """
    status, tasks, roots, runs, breakers = await asyncio.gather(
        client.call(Status()),
        read_tasks(client),
        # The newest roots, whatever their size: the newest runs alone may all be children
        # of one big tree, whose root they would hide.
        client.call(ListRuns(limit=ROOT_HISTORY_LIMIT, roots_only=True)),
        client.call(ListRuns(limit=RUN_HISTORY_LIMIT, roots_only=False)),
        client.call(ListBreakers()),
        return_exceptions=True,
    )
    for essential in (tasks, roots, runs):
        if isinstance(essential, BaseException):
            raise essential
    problems = [f"{what}: {part}" for what, part in (("status", status), ("breakers", breakers))
                if isinstance(part, BaseException)]
    snapshot = Snapshot(
        welcome=welcome,
        status=None if isinstance(status, BaseException) else status,
        tasks=tasks,  # type: ignore[arg-type]
        runs=[RunTree(run=run) for run in [*roots, *runs]],  # type: ignore[misc]
        breakers=[] if isinstance(breakers, BaseException) else breakers,
        # A full page of recent runs leaves out what is older than its oldest: a tree whose
        # root is older may be missing children (ids grow with creation, children after roots).
        complete_from=runs[-1].id if len(runs) >= RUN_HISTORY_LIMIT else None,  # type: ignore[arg-type,index]
    )
    return snapshot, problems


async def read_tasks(client: AsyncClient) -> list[TaskInfo]:
    """Every task definition, a page at a time (ten thousand do not fit in one frame)."""
    tasks: list[TaskInfo] = []
    after: str | None = None
    while True:
        page = await client.call(PageTasks(after=after))
        tasks.extend(page.tasks)
        if (after := page.next_after) is None:
            return tasks


async def read_run_tree(client: AsyncClient, run_id: str) -> RunTree:
    """A run tree with its attempts: in one reply, or a page at a time when it is too big
    for one frame (a tree of many thousand runs)."""
    try:
        return await client.call(ShowRun(run_id=run_id))
    except ClientError as exc:
        if exc.code != ErrorCode.BAD_REQUEST:
            raise
    nodes: list[RunTree] = []
    offset: int | None = 0
    while offset is not None:
        page = await client.call(PageRunTree(run_id=run_id, offset=offset, limit=2000))
        nodes.extend(page.nodes)
        offset = page.next_offset
    return RunTree.linked(nodes)


async def read_audit(client: AsyncClient, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries (who did what), for the audit view."""
    return await client.call(ListAudit(limit=limit))


LineSink = Callable[[str, list[str]], None]  # (stream, lines)


class LogFollower:
    """Follows one run's output: ``ReadLogs`` from byte offsets, woken by ``logs`` events.

    The byte offsets make reading exact (no duplicates, no gaps across reconnects); the
    ``logs`` subscription, on its own connection filtered by ``run_id``, only says "there
    is more" so new output shows within one flush instead of one poll interval.
    """

    POLL_SECONDS = 0.5

    def __init__(self, socket_path: str, run_id: str, sink: LineSink, is_active: Callable[[], bool]) -> None:
        self.run_id = run_id
        self._sink = sink
        self._is_active = is_active
        self._wake = asyncio.Event()
        self._client = AsyncClient(socket_path, client_name="taskflow-tui-logs", on_event=lambda _: self._wake.set())
        self._offsets = {"stdout": 0, "stderr": 0}
        self._partial = {"stdout": "", "stderr": ""}
        self._attempt: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"logs-{self.run_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing: whatever the reader task died of was reported when it died
                pass
        await self._client.close()

    async def _run(self) -> None:
        try:
            await self._client.connect()
            await self._client.subscribe([TOPIC_LOGS], run_id=self.run_id)
        except ClientError as exc:
            self._sink("stderr", [f"[taskflow] cannot follow logs: {exc}"])
            return
        while True:
            finished = await self._read_available()
            if finished and not self._is_active():
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.POLL_SECONDS)
            except TimeoutError:
                pass

    async def _read_available(self) -> bool:
        """Read both streams up to their current end; True when both reached EOF."""
        eof = True
        for stream in ("stdout", "stderr"):
            while True:
                try:
                    chunk = await self._client.call(
                        ReadLogs(run_id=self.run_id, stream=stream, offset=self._offsets[stream])  # type: ignore[arg-type]
                    )
                except ClientError as exc:
                    if "no attempt" in str(exc).lower() or exc.code == "not_found":
                        return False  # not started yet
                    raise
                if not self._take(stream, chunk):
                    continue
                if not chunk.data:
                    eof = eof and chunk.eof
                    break
        return eof

    def _take(self, stream: str, chunk: LogChunk) -> bool:
        """Consume a chunk; False when it must be read again (the attempt changed)."""
        if self._attempt is not None and chunk.attempt != self._attempt:
            # A retry started: its output files begin again at offset 0.
            self._offsets = {"stdout": 0, "stderr": 0}
            self._partial = {"stdout": "", "stderr": ""}
            self._attempt = chunk.attempt
            self._sink("stdout", [f"── attempt {chunk.attempt} ──"])
            return False
        self._attempt = chunk.attempt
        self._offsets[stream] = chunk.next_offset
        if not chunk.data:
            if chunk.eof and self._partial[stream]:
                self._sink(stream, [self._partial[stream]])
                self._partial[stream] = ""
            return True
        text = self._partial[stream] + chunk.data.decode("utf-8", "replace")
        lines = text.split("\n")
        self._partial[stream] = lines.pop()
        if lines:
            self._sink(stream, lines)
        return True
