"""The group-commit writer: concurrent writes share commits; failures stay with their batch."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from taskflow.model import Attempt, AuditEntry, Role, Run, RunState, new_ulid
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


async def _cap_pages(store: Store) -> None:
    # SQLite's page cap yields exactly the error a full disk does (SQLITE_FULL). The writer
    # connection is the store's own; setting a pragma on it is configuration, not a mock.
    pages = (await (await store._writer_conn.execute("PRAGMA page_count")).fetchone())[0]
    await store._writer_conn.execute(f"PRAGMA max_page_count = {pages}")


async def _uncap_pages(store: Store) -> None:
    await store._writer_conn.execute("PRAGMA max_page_count = 1073741823")


async def test_disk_full_refuses_new_runs_keeps_acknowledged_state_and_recovers(store: Store) -> None:
    acknowledged = [run() for _ in range(5)]
    await store.save_runs(acknowledged)
    await _cap_pages(store)
    big = [run() for _ in range(200)]
    for r in big:
        r.message = "x" * 2000
    futures = [store.save_runs([r], new=True) for r in big]
    results = await asyncio.gather(*futures, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors and all(isinstance(e, StoreError) and "full" in str(e) for e in errors)
    assert store.backlog == 0  # new runs are refused, not held
    for r in acknowledged:
        assert await store.get_run(r.id) == r
    await _uncap_pages(store)
    after = run()
    await store.save_runs([after], new=True)
    assert await store.get_run(after.id) == after


async def test_disk_full_holds_what_already_happened_in_order_until_it_lands(store: Store) -> None:
    """Terminal states and audit entries are never dropped: held, retried, landed in order."""
    runs = [run() for _ in range(20)]
    await store.save_runs(runs, new=True)
    await _cap_pages(store)
    futures = []
    for r in runs:
        r.message = "y" * 3000
        r.state = RunState.RUNNING
        futures.append(store.save_runs([r]))
    for r in runs:
        r.state = RunState.SUCCEEDED
        futures.append(store.save_runs([msgspec.structs.replace(r)]))
    futures.append(store.record_audit(AuditEntry(at=T0, user="ana", role=Role.OPERATOR, action="cancel", args={})))
    await asyncio.sleep(1.0)
    assert not any(f.done() for f in futures), "held writes must wait, not fail"
    assert store.backlog > 0 and "full" in (store.problem or "")
    trigger = run()
    trigger.message = "z" * 3000
    new = store.save_runs([trigger], new=True)  # a trigger meanwhile is refused at once
    with pytest.raises(StoreError, match="full"):
        await asyncio.wait_for(new, 10)
    await _uncap_pages(store)
    await asyncio.wait_for(asyncio.gather(*futures), 15)
    assert store.backlog == 0 and store.problem is None
    for r in runs:
        stored = await store.get_run(r.id)
        assert stored is not None and stored.state is RunState.SUCCEEDED  # the last write won
    assert len(await store.audit()) == 1


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
