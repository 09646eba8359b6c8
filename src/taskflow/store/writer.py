"""The single writer: group commit over one aiosqlite connection.

Callers submit *intents* (a few rows that must commit together) and get a future. One task
drains the queue: everything submitted while the previous commit was in flight (plus an
optional short window) becomes one transaction with one fsync. Rows are grouped by
statement and written with ``executemany``, so a batch of hundreds of transitions costs a
handful of hops to aiosqlite's thread instead of one per row. A failed batch is retried
intent by intent, so one bad row fails only its own caller, and the writer keeps going.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from taskflow.store.errors import StoreError

log = logging.getLogger("taskflow.store")

# (statement, key, row): rows with the same statement and key in one batch are written once,
# last one wins — right for upserts, where only the final state of a row matters.
Write = tuple[str, Hashable, tuple[Any, ...]]
_Intent = tuple[Sequence[Write], "asyncio.Future[None]"]


@dataclass
class WriterStats:
    """Counters for tests and the benchmark: how well writes are being grouped."""

    intents: int = 0  # submitted write requests
    batches: int = 0  # transactions attempted (one per drained queue)
    commits: int = 0  # transactions committed (each one fsync)
    failed_batches: int = 0


class GroupCommitWriter:
    """Owns the write connection; see the module docstring for the batching rules."""

    def __init__(self, conn: aiosqlite.Connection, path: str, *, window: float = 0.0) -> None:
        self._conn = conn
        self._path = path
        self._window = window
        self._loop = asyncio.get_running_loop()
        self._queue: list[_Intent] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._closing = False
        self.stats = WriterStats()
        self._task = self._loop.create_task(self._run(), name="taskflow-store-writer")

    def submit(self, writes: Sequence[Write]) -> asyncio.Future[None]:
        """Queue rows that must commit together; the future resolves once they have."""
        fut = self._loop.create_future()
        if self._closing:
            fut.set_exception(StoreError(f"state database {self._path} is closed"))
            return fut
        self._queue.append((writes, fut))
        self.stats.intents += 1
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set_result(None)
        return fut

    async def close(self) -> None:
        """Commit everything queued, then stop the writer task."""
        self._closing = True
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            wakeup.set_result(None)
        await self._task

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup = self._loop.create_future()
                await self._wakeup
                continue
            if self._window > 0 and not self._closing:
                await asyncio.sleep(self._window)
            intents, self._queue = self._queue, []
            try:
                await self._commit_batch(intents)
            except BaseException as exc:  # a bug here must not leave callers hanging forever
                self._fail(intents, exc)
                if not isinstance(exc, Exception):
                    raise

    async def _commit_batch(self, intents: list[_Intent]) -> None:
        groups = _group(intents)
        self.stats.batches += 1
        if groups:
            try:
                await self._apply(groups)
            except Exception as exc:
                self.stats.failed_batches += 1
                await self._rollback()
                if len(intents) > 1:
                    await self._commit_one_by_one(intents)
                else:
                    self._fail(intents, exc)
                return
            self.stats.commits += 1
        for _, fut in intents:
            if not fut.done():
                fut.set_result(None)

    async def _apply(self, groups: dict[str, dict[Hashable, tuple[Any, ...]]]) -> None:
        # The connection's isolation level is IMMEDIATE: sqlite3 opens the transaction itself
        # before the first write, which saves a hop to aiosqlite's thread per batch.
        conn = self._conn
        for statement, rows in groups.items():
            await conn.executemany(statement, rows.values())
        await conn.commit()

    async def _commit_one_by_one(self, intents: list[_Intent]) -> None:
        """Isolate the failing intent(s) of a batch so the others still commit."""
        for intent in intents:
            groups = _group([intent])
            fut = intent[1]
            try:
                if groups:
                    await self._apply(groups)
                    self.stats.commits += 1
            except Exception as exc:
                await self._rollback()
                self._fail([intent], exc)
                continue
            if not fut.done():
                fut.set_result(None)

    async def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                await self._conn.rollback()
        except Exception:  # the connection may be gone; the next BEGIN will say so
            log.exception("rollback of a failed batch on %s failed", self._path)

    def _fail(self, intents: list[_Intent], exc: BaseException) -> None:
        error = exc if isinstance(exc, StoreError) else StoreError(
            f"could not write to state database {self._path}: {exc}"
        )
        error.__cause__ = exc if error is not exc else None
        log.error("%s (%d write(s) not saved)", error, len(intents))
        for _, fut in intents:
            if not fut.done():
                fut.set_exception(error)
                # Fire-and-forget callers never look; the log line above already told.
                fut.exception()


def _group(intents: list[_Intent]) -> dict[str, dict[Hashable, tuple[Any, ...]]]:
    """Rows by statement, in first-seen order, de-duplicated by key."""
    groups: dict[str, dict[Hashable, tuple[Any, ...]]] = {}
    for writes, _ in intents:
        for statement, key, row in writes:
            rows = groups.get(statement)
            if rows is None:
                rows = groups[statement] = {}
            rows[key] = row
    return groups
