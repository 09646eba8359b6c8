"""``Store``: the daemon's durable state in one SQLite file (WAL mode).

Writes go through one group-committing writer connection and return futures that resolve
once the batch holding them is durable (``synchronous=FULL``: the WAL is fsynced at every
commit). The engine awaits them where an acknowledgement must survive a crash — the intent
to start a run, every terminal state — and fires and forgets elsewhere. Reads use separate
``query_only`` connections that never block the writer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import aiosqlite

from taskflow.model import (
    Attempt,
    AuditEntry,
    BreakerState,
    RetentionConfig,
    Run,
    RunState,
    RunTree,
)
from taskflow.store import queries
from taskflow.store import retention as _retention
from taskflow.store.errors import StoreError
from taskflow.store.readers import ReaderPool
from taskflow.store.retention import Pruned
from taskflow.store.rows import (
    INSERT_AUDIT,
    UPSERT_ATTEMPT,
    UPSERT_BREAKER,
    UPSERT_META,
    UPSERT_RUN,
    UPSERT_SCHEDULE,
    UPSERT_TASK_STATE,
    OutputDirs,
    attempt_row,
    audit_row,
    breaker_row,
    run_row,
    to_ts,
)
from taskflow.store.schema import MIGRATIONS, Migration, prepare_database
from taskflow.store.writer import GroupCommitWriter, Write, WriterStats

log = logging.getLogger("taskflow.store")


class Store:
    """The state database. Open with ``await Store.open(path)``; close with ``await close()``."""

    def __init__(
        self, path: str, writer_conn: aiosqlite.Connection, writer: GroupCommitWriter,
        readers: ReaderPool, next_audit_id: int, dirs: OutputDirs,
    ) -> None:  # fmt: skip
        self.path = path
        self._writer_conn = writer_conn
        self._writer = writer
        self._readers = readers
        self._next_audit_id = next_audit_id
        self._closed = False
        self._dirs = dirs

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        readers: int = 1,
        commit_window: float = 0.0,
        migrations: Sequence[Migration] = MIGRATIONS,
        output_root: str | os.PathLike[str] | None = None,
    ) -> Store:
        """Open (creating or upgrading in place) the database at ``path``.

        ``commit_window`` (seconds) holds each batch open a little longer to gather more
        writes per fsync; 0 groups only what arrives while the previous commit is in flight,
        which already batches well under load without adding latency when idle.
        ``migrations`` is the schema history; tests pass a longer one to exercise upgrades.
        ``output_root`` is the folder of the attempts' output (default: ``output`` beside
        the database): attempts whose output is in the usual place there store no path.
        """
        path = os.fspath(path)
        root = os.fspath(output_root) if output_root is not None else default_output_root(path)
        await asyncio.to_thread(prepare_database, path, migrations)
        try:
            # IMMEDIATE: the writer's batches begin implicitly (see GroupCommitWriter._apply).
            conn = await aiosqlite.connect(path, isolation_level="IMMEDIATE", timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"state database {path} could not be opened: {exc}") from exc
        try:
            # FULL: every commit fsyncs the WAL, so an acknowledged write survives power loss.
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = OFF")
            pool = await ReaderPool.open(path, readers)
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"state database {path} could not be opened: {exc}") from exc
            raise
        try:
            await _check_writable(conn, path)
            next_id = await queries.next_audit_id(pool)
        except BaseException:
            await pool.close()
            await conn.close()
            raise
        writer = GroupCommitWriter(conn, path, window=commit_window)
        return cls(path, conn, writer, pool, next_id, OutputDirs(root))

    async def close(self) -> None:
        """Commit pending writes, checkpoint the WAL into the main file, close connections."""
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        try:
            await self._writer_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # readers elsewhere may hold it; the WAL stays valid
            log.warning("WAL checkpoint of %s on close failed: %s", self.path, exc)
        await self._readers.close()
        await self._writer_conn.close()

    @property
    def stats(self) -> WriterStats:
        """Write counters: ``commits`` far below ``intents`` means grouping works."""
        return self._writer.stats

    # --- writes ---------------------------------------------------------------------

    def save_runs(self, runs: Iterable[Run], *, new: bool = False) -> asyncio.Future[None]:
        """Upsert runs (a whole new tree commits atomically); resolves once durable.

        State changes of existing runs record what already happened, so a store that
        refuses them for now (disk full) keeps them and retries until they land; ``new``
        runs (a trigger) fail at once instead, so the caller hears "disk is full".
        """
        try:
            writes = [(UPSERT_RUN, run.id, run_row(run)) for run in runs]
        except Exception as exc:  # noqa: BLE001 - a run that cannot be encoded is refused with its reason, never raised into the engine
            return self._refused("runs", exc)
        return self._writer.submit(writes, must_land=not new)

    async def settled(self, fut: asyncio.Future[None], timeout: float = 5.0) -> None:
        """Wait for a write to commit, fail, or be held for later (disk full): a request
        that records something is answered once its record is safe in one of those ways."""
        await self._writer.settled(fut, timeout)
        if fut.done() and not fut.cancelled() and fut.exception() is not None:
            raise fut.exception()  # type: ignore[misc]

    @property
    def backlog(self) -> int:
        """Writes the store refused for now and retries (see ``GroupCommitWriter``)."""
        return self._writer.backlog

    @property
    def problem(self) -> str | None:
        """One sentence on why writes are held back, or None while the store takes them."""
        return self._writer.problem

    def save_attempt(self, attempt: Attempt) -> asyncio.Future[None]:
        """Upsert one attempt, keyed on (run id, number)."""
        try:
            row = attempt_row(attempt, self._dirs)
        except Exception as exc:  # noqa: BLE001 - an attempt that cannot be encoded is refused with its reason
            return self._refused("an attempt", exc)
        return self._writer.submit(((UPSERT_ATTEMPT, (attempt.run_id, attempt.number), row),), must_land=True)

    def set_task_state(
        self, task: str, enabled: bool, reason: str | None, by: str | None
    ) -> asyncio.Future[None]:
        """Remember that a task was enabled or disabled by hand (survives restarts)."""
        row = (task, int(enabled), reason, datetime.now(UTC).timestamp(), by)
        return self._writer.submit(((UPSERT_TASK_STATE, task, row),))  # refused whole on a full disk

    def save_breaker(self, state: BreakerState) -> asyncio.Future[None]:
        try:
            row = breaker_row(state)
        except Exception as exc:  # noqa: BLE001 - a breaker state that cannot be encoded is refused with its reason
            return self._refused("a breaker", exc)
        return self._writer.submit(((UPSERT_BREAKER, state.service, row),), must_land=True)

    def save_schedule(
        self, task: str, last_fire: datetime | None, next_fire: datetime | None
    ) -> asyncio.Future[None]:
        """Remember a schedule's last and next fire time, so missed fires are known after a restart."""
        try:
            row = (task, to_ts(last_fire), to_ts(next_fire))
        except Exception as exc:  # noqa: BLE001 - a schedule that cannot be encoded is refused with its reason
            return self._refused("a schedule", exc)
        return self._writer.submit(((UPSERT_SCHEDULE, task, row),), must_land=True)

    def set_meta(self, key: str, value: str | None) -> asyncio.Future[None]:
        """Daemon bookkeeping (e.g. start times) that outlives a restart."""
        return self._writer.submit(((UPSERT_META, key, (key, value)),), must_land=True)

    async def append_audit(self, entry: AuditEntry) -> int:
        """Record a mutating request durably; return its id."""
        audit_id = self._next_audit_id
        await self.record_audit(entry)
        return audit_id

    def record_audit(self, entry: AuditEntry) -> asyncio.Future[None]:
        """Queue an audit entry without waiting: kept and retried if the disk is full."""
        audit_id = self._next_audit_id
        self._next_audit_id += 1
        try:
            row = audit_row(entry, audit_id)
        except Exception as exc:  # noqa: BLE001 - an audit entry that cannot be encoded is refused with its reason
            return self._refused("an audit entry", exc)
        return self._writer.submit(((INSERT_AUDIT, audit_id, row),), must_land=True)

    async def flush(self) -> None:
        """Wait until every write submitted so far has committed (or failed)."""
        await asyncio.shield(self._writer.submit(()))

    def _refused(self, what: str, exc: Exception) -> asyncio.Future[None]:
        """A write that cannot even be turned into rows fails on its future, like a bad batch."""
        error = StoreError(f"cannot save {what} to state database {self.path}: {exc}")
        error.__cause__ = exc
        log.error("%s", error)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_exception(error)
        return fut

    # --- reads ----------------------------------------------------------------------

    async def get_run(self, run_id: str) -> Run | None:
        return await queries.get_run(self._readers, run_id)

    async def run_tree(self, root_id: str) -> RunTree | None:
        """A whole run tree with attempts; children ordered by creation."""
        return await queries.run_tree(self._readers, root_id, self._dirs)

    async def tree_skeleton(self, root_id: str) -> list[tuple[str, str | None, str, str | None]]:
        """``(id, parent_id, state, skip_reason)`` of every run of a tree, in creation order."""
        return await queries.tree_skeleton(self._readers, root_id)

    async def runs_with_attempts(self, run_ids: list[str]) -> list[RunTree]:
        """These runs, in this order, each with its attempts and no children."""
        return await queries.runs_with_attempts(self._readers, run_ids, self._dirs)

    async def list_runs(
        self,
        *,
        state: RunState | None = None,
        task: str | None = None,
        roots_only: bool = False,
        limit: int = 100,
        before: str | None = None,
    ) -> list[Run]:
        """Run history newest first; ``task`` also matches its descendants unless ``roots_only``."""
        return await queries.list_runs(
            self._readers, state=state, task=task, roots_only=roots_only, limit=limit, before=before
        )

    async def active_runs(self) -> list[Run]:
        """Every non-terminal run: what crash recovery must reconcile."""
        return await queries.active_runs(self._readers)

    async def attempts(self, run_id: str) -> list[Attempt]:
        return await queries.attempts(self._readers, run_id, self._dirs)

    async def last_runs_by_task(self) -> dict[str, Run]:
        return await queries.last_runs_by_task(self._readers)

    async def task_states(self) -> dict[str, tuple[bool, str | None]]:
        return await queries.task_states(self._readers)

    async def breakers(self) -> list[BreakerState]:
        return await queries.breakers(self._readers)

    async def schedules(self) -> dict[str, tuple[datetime | None, datetime | None]]:
        return await queries.schedules(self._readers)

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        """Audit entries, newest first."""
        return await queries.audit(self._readers, limit)

    async def counts_by_state(self) -> dict[str, int]:
        return await queries.counts_by_state(self._readers)

    async def get_meta(self, key: str) -> str | None:
        return await queries.get_meta(self._readers, key)

    # --- retention ------------------------------------------------------------------

    async def prune(
        self,
        retention: RetentionConfig,
        now: datetime | None = None,
        *,
        outputs_under: str | os.PathLike[str] | None = None,
    ) -> Pruned:
        """Delete finished root trees past retention with their output, and audit entries
        older than ``retention.audit_days``; return how many of each.

        ``outputs_under`` (the daemon's output folder) limits which directories may be
        removed, so a damaged row can never point ``rmtree`` somewhere else.
        """
        now = now or datetime.now(UTC)
        roots = await self._prune_trees(retention, now, outputs_under)
        return Pruned(roots=roots, audit_entries=await self._prune_audit(retention, now))

    async def _prune_trees(
        self, retention: RetentionConfig, now: datetime, outputs_under: str | os.PathLike[str] | None
    ) -> int:
        roots = await _retention.prunable_roots(self._readers, retention, now)
        if not roots:
            return 0
        dirs = await _retention.output_dirs(self._readers, roots, self._dirs)
        writes: list[Write] = _retention.tree_deletes(roots)
        await self._writer.submit(writes)
        under = None if outputs_under is None else os.fspath(outputs_under)
        await _retention.remove_output(dirs, under)
        return len(roots)

    async def _prune_audit(self, retention: RetentionConfig, now: datetime) -> int:
        """One transaction per chunk, so other writes get the writer in between."""
        cutoff = _retention.audit_cutoff(retention, now)
        if cutoff is None:
            return 0
        pruned = 0
        while True:
            ids = await _retention.old_audit_ids(self._readers, cutoff)
            if ids:
                await self._writer.submit(_retention.audit_deletes(ids))
            pruned += len(ids)
            if len(ids) < _retention.AUDIT_CHUNK:
                return pruned


def default_output_root(db_path: str) -> str:
    """Where attempts' output is unless the daemon says otherwise: ``output`` beside the file."""
    return os.path.join(os.path.dirname(os.path.abspath(db_path)), "output")


async def _check_writable(conn: aiosqlite.Connection, path: str) -> None:
    """Really take the write lock once: SQLite opens a read-only file (or one on a read-only
    filesystem) without complaint and only refuses the first write, long after start-up."""
    try:
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("CREATE TABLE main._taskflow_probe (x)")
        await conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise StoreError(f"state database {path} is not writable: {exc}") from exc
