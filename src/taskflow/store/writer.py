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
import sqlite3
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from taskflow.store.errors import StoreError

log = logging.getLogger("taskflow.store")

# (statement, key, row): rows with the same statement and key in one batch are written once,
# last one wins — right for upserts, where only the final state of a row matters.
Write = tuple[str, Hashable, tuple[Any, ...]]
_Intent = tuple[Sequence[Write], "asyncio.Future[None]", bool]  # rows, future, must land

# SQLite result codes of a store that cannot take writes *for now*: a full disk, an I/O
# error, a read-only remount, a lock held too long. Writes that record what already
# happened wait these out; a malformed row is not among them and fails at once.
_TRANSIENT = {5, 6, 8, 10, 13, 14}  # BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN
RETRY_FIRST, RETRY_MAX = 0.25, 5.0  # seconds between attempts at a refused must-land batch


def transient(exc: BaseException) -> bool:
    """Is ``exc`` a store that refuses writes for now (disk full, I/O, read-only)?"""
    cause = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ is not None else exc
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _TRANSIENT
        return "full" in str(cause) or "I/O" in str(cause) or "readonly" in str(cause)
    return isinstance(cause, OSError)


@dataclass
class WriterStats:
    """Counters for tests and the benchmark: how well writes are being grouped."""

    intents: int = 0  # submitted write requests
    batches: int = 0  # transactions attempted (one per drained queue)
    commits: int = 0  # transactions committed (each one fsync)
    failed_batches: int = 0
    retries: int = 0  # attempts at must-land writes the store refused before


class GroupCommitWriter:
    """Owns the write connection; see the module docstring for the batching rules."""

    def __init__(self, conn: aiosqlite.Connection, path: str, *, window: float = 0.0) -> None:
        self._conn = conn
        self._path = path
        self._window = window
        self._loop = asyncio.get_running_loop()
        self._queue: list[_Intent] = []
        self._held: list[_Intent] = []  # refused must-land intents, oldest first
        self._hold_waiters: list[asyncio.Future[None]] = []  # see settled()
        self._problem: str | None = None
        self._retry_delay = RETRY_FIRST
        self._retry_at = 0.0
        self._wakeup: asyncio.Future[None] | None = None
        self._closing = False
        self.stats = WriterStats()
        self._task = self._loop.create_task(self._run(), name="taskflow-store-writer")

    @property
    def backlog(self) -> int:
        """Must-land writes the store refused and that wait for another attempt."""
        return len(self._held)

    @property
    def problem(self) -> str | None:
        """Why writes are being held back (one sentence), or None when the store takes them."""
        return self._problem if self._held else None

    async def settled(self, fut: asyncio.Future[None], timeout: float) -> None:
        """Wait until ``fut`` has committed or failed, or its writes are held (the store
        refuses them for now and they will land later) — at most ``timeout`` seconds."""
        deadline = self._loop.time() + timeout
        while not fut.done() and not any(held[1] is fut for held in self._held):
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return
            changed = self._loop.create_future()
            self._hold_waiters.append(changed)
            try:
                await asyncio.wait([fut, changed], timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if changed in self._hold_waiters:
                    self._hold_waiters.remove(changed)

    def submit(self, writes: Sequence[Write], *, must_land: bool = False) -> asyncio.Future[None]:
        """Queue rows that must commit together; the future resolves once they have.

        ``must_land``: the rows record something that already happened (a run ended, an
        audited request was served). If the store refuses them for now (disk full, I/O
        error), they are kept in order and retried with backoff until they commit, instead
        of failing; everything else fails with the one-sentence ``StoreError``.
        """
        fut = self._loop.create_future()
        if self._closing:
            fut.set_exception(StoreError(f"state database {self._path} is closed"))
            return fut
        self._queue.append((writes, fut, must_land))
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
                if not self._held:
                    if self._closing:
                        return
                    await self._next_submit(None)
                    continue
                # Only held writes: their next attempt is due at _retry_at, or sooner when new
                # writes come (a trigger then gets its answer without waiting). Once closing,
                # at once: that last attempt fails whatever is still refused.
                delay = self._retry_at - time.monotonic()
                if delay > 0 and not self._closing and not await self._next_submit(delay):
                    continue
            elif self._window > 0 and not self._closing and not self._held:
                await asyncio.sleep(self._window)
            # Held writes go first: rows are upserts where the last one wins, so order matters.
            if self._held:
                self.stats.retries += 1
            intents, self._held, self._queue = self._held + self._queue, [], []
            try:
                await self._commit_batch(intents)
            except BaseException as exc:  # a bug here must not leave callers hanging forever
                self._fail(intents, exc)
                if not isinstance(exc, Exception):
                    raise

    async def _next_submit(self, timeout: float | None) -> bool:
        """Wait for a submit (or close) for at most ``timeout`` seconds; True if one came."""
        self._wakeup = self._loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._wakeup), timeout)
        except TimeoutError:
            return self._wakeup is None  # set_result raced the timeout
        finally:
            self._wakeup = None
        return True

    async def _commit_batch(self, intents: list[_Intent]) -> None:
        groups = _group(intents)
        self.stats.batches += 1
        if groups:
            try:
                await self._apply(groups)
            except Exception as exc:  # noqa: BLE001 - any failure of a batch rolls back and fails its writes, so none waits for ever
                self.stats.failed_batches += 1
                await self._rollback()
                if len(intents) > 1:
                    await self._commit_one_by_one(intents)
                else:
                    self._refuse(intents[0], exc)
                self._note_recovery()
                return
            self.stats.commits += 1
        for _, fut, _must in intents:
            if not fut.done():
                fut.set_result(None)
        self._note_recovery()

    async def _apply(self, groups: dict[str, dict[Hashable, tuple[Any, ...]]]) -> None:
        # The connection's isolation level is IMMEDIATE: sqlite3 opens the transaction itself
        # before the first write, which saves a hop to aiosqlite's thread per batch.
        conn = self._conn
        for statement, rows in groups.items():
            await conn.executemany(statement, rows.values())
        await conn.commit()

    async def _commit_one_by_one(self, intents: list[_Intent]) -> None:
        """Isolate the failing intent(s) of a batch so the others still commit."""
        held_before = len(self._held)
        for intent in intents:
            groups = _group([intent])
            fut = intent[1]
            if intent[2] and len(self._held) > held_before:
                self._held.append(intent)  # behind an earlier held write to the same rows
                continue
            try:
                if groups:
                    await self._apply(groups)
                    self.stats.commits += 1
            except Exception as exc:  # noqa: BLE001 - any failure of one write rolls back and refuses just that write
                await self._rollback()
                self._refuse(intent, exc)
                continue
            if not fut.done():
                fut.set_result(None)

    def _refuse(self, intent: _Intent, exc: BaseException) -> None:
        if intent[2] and transient(exc) and not self._closing:
            self._hold(intent, exc)
        else:
            self._fail([intent], exc)

    def _note_recovery(self) -> None:
        if not self._held and self._problem is not None:
            log.info("state database %s takes writes again; the held writes are saved", self._path)
            self._problem = None
            self._retry_delay = RETRY_FIRST

    def _hold(self, intent: _Intent, exc: BaseException) -> None:
        """Keep a refused must-land intent for the next attempt, with backoff."""
        first = not self._held
        self._held.append(intent)
        waiters, self._hold_waiters = self._hold_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        if first:
            problem = _sentence(self._path, exc)
            if problem != self._problem:
                log.error("%s; keeping the writes that record what already happened and "
                          "retrying them", problem)
            self._problem = problem
            self._retry_at = time.monotonic() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, RETRY_MAX)

    async def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                await self._conn.rollback()
        except Exception:  # the connection may be gone; the next BEGIN will say so
            log.exception("rollback of a failed batch on %s failed", self._path)

    def _fail(self, intents: list[_Intent], exc: BaseException) -> None:
        error = exc if isinstance(exc, StoreError) else StoreError(_sentence(self._path, exc))
        error.__cause__ = exc if error is not exc else None
        log.error("%s (%d write(s) not saved)", error, len(intents))
        for _, fut, _must in intents:
            if not fut.done():
                fut.set_exception(error)
                # Fire-and-forget callers never look; the log line above already told.
                fut.exception()


def _sentence(path: str, exc: BaseException) -> str:
    return str(exc) if isinstance(exc, StoreError) else f"could not write to state database {path}: {exc}"


def _group(intents: list[_Intent]) -> dict[str, dict[Hashable, tuple[Any, ...]]]:
    """Rows by statement, in first-seen order, de-duplicated by key."""
    groups: dict[str, dict[Hashable, tuple[Any, ...]]] = {}
    for writes, _, _must in intents:
        for statement, key, row in writes:
            rows = groups.get(statement)
            if rows is None:
                rows = groups[statement] = {}
            rows[key] = row
    return groups
