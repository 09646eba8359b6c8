"""The group-commit writer: concurrent writes share commits; failures stay with their batch."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from taskflow.model import Attempt, Run, RunState, new_ulid
from taskflow.store import Store, StoreError

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def run(task: str = "t") -> Run:
    run_id = new_ulid()
    return Run(id=run_id, task=task, root_id=run_id, created_at=T0)


async def test_concurrent_saves_share_far_fewer_commits(store: Store, tmp_path: Path) -> None:
    runs = [run() for _ in range(500)]
    before = store.stats.commits
    await asyncio.gather(*(store.save_runs([r]) for r in runs))
    commits = store.stats.commits - before
    assert 1 <= commits <= 50, commits
    assert sum((await store.counts_by_state()).values()) == 500
    # Committed means visible to a separate connection, not just to the store's own.
    with sqlite3.connect(tmp_path / "state.db") as raw:
        assert raw.execute("SELECT count(*) FROM runs").fetchone()[0] == 500


async def test_awaited_saves_commit_one_by_one(store: Store) -> None:
    before = store.stats.commits
    for _ in range(5):
        await store.save_runs([run()])
    assert store.stats.commits - before == 5


async def test_commit_window_groups_writes_spread_over_time(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "w.db", commit_window=0.05)
    try:
        futures = []
        for _ in range(10):
            futures.append(store.save_runs([run()]))
            await asyncio.sleep(0.001)  # writes trickle in while the window is open
        await asyncio.gather(*futures)
        assert store.stats.commits < 10
    finally:
        await store.close()


async def test_bad_write_fails_only_its_own_future_and_writer_goes_on(store: Store) -> None:
    good = [run() for _ in range(20)]
    bad = run()
    bad.task = None  # type: ignore[assignment]  # violates NOT NULL: a real constraint failure
    futures = [store.save_runs([r]) for r in good[:10]]
    bad_future = store.save_runs([bad])
    futures += [store.save_runs([r]) for r in good[10:]]
    with pytest.raises(StoreError, match="NOT NULL"):
        await bad_future
    await asyncio.gather(*futures)
    assert store.stats.failed_batches >= 1
    for r in good:
        assert await store.get_run(r.id) is not None
    assert await store.get_run(bad.id) is None
    later = run()
    await store.save_runs([later])
    assert await store.get_run(later.id) == later


async def test_a_tree_saved_together_commits_all_or_nothing(store: Store) -> None:
    root = run("tree")
    bad_child = Run(id=new_ulid(), task=None, root_id=root.id, parent_id=root.id, created_at=T0)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await store.save_runs([root, bad_child])
    assert await store.get_run(root.id) is None


async def test_disk_full_fails_the_batch_keeps_acknowledged_state_and_recovers(store: Store) -> None:
    acknowledged = [run() for _ in range(5)]
    await store.save_runs(acknowledged)
    # SQLite's page cap yields exactly the error a full disk does (SQLITE_FULL). The writer
    # connection is the store's own; setting a pragma on it is configuration, not a mock.
    pages = (await (await store._writer_conn.execute("PRAGMA page_count")).fetchone())[0]
    await store._writer_conn.execute(f"PRAGMA max_page_count = {pages}")
    big = [run() for _ in range(200)]
    for r in big:
        r.message = "x" * 2000
    futures = [store.save_runs([r]) for r in big]
    results = await asyncio.gather(*futures, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors and all(isinstance(e, StoreError) and "full" in str(e) for e in errors)
    for r in acknowledged:
        assert await store.get_run(r.id) == r
    await store._writer_conn.execute("PRAGMA max_page_count = 1073741823")
    after = run()
    await store.save_runs([after])
    assert await store.get_run(after.id) == after


async def test_close_commits_pending_fire_and_forget_writes(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    runs = [run() for _ in range(50)]
    for r in runs:
        store.save_runs([r])  # nobody awaits these
    store.save_attempt(Attempt(run_id=runs[0].id, number=1, state=RunState.SUCCEEDED))
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.save_runs([run()])
    reopened = await Store.open(tmp_path / "state.db")
    try:
        assert sum((await reopened.counts_by_state()).values()) == 50
        assert len(await reopened.attempts(runs[0].id)) == 1
    finally:
        await reopened.close()


async def test_flush_waits_for_earlier_writes(store: Store) -> None:
    runs = [run() for _ in range(30)]
    for r in runs:
        store.save_runs([r])
    await store.flush()
    assert sum((await store.counts_by_state()).values()) == 30


async def test_unencodable_params_fail_on_the_future_not_in_the_caller(store: Store) -> None:
    bad = run()
    bad.params = {"x": object()}
    future = store.save_runs([bad])
    with pytest.raises(StoreError, match="cannot save runs"):
        await future


async def test_readers_see_committed_data_while_a_write_transaction_is_open(store: Store, tmp_path: Path) -> None:
    first = run()
    await store.save_runs([first])
    # Another process holding a write lock must not block the store's readers (WAL).
    other = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE runs SET message = 'uncommitted' WHERE id = ?", (first.id,))
        got = await asyncio.wait_for(store.get_run(first.id), timeout=5)
        assert got is not None and got.message is None
        other.execute("ROLLBACK")
    finally:
        other.close()
