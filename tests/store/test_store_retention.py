"""Retention prunes whole finished trees with their output, and never anything in flight;
audit entries go by age alone, and their ids are never handed out again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from taskflow.model import Attempt, AuditEntry, RetentionConfig, Role, Run, RunState
from taskflow.store import Pruned, Store
from taskflow.store.retention import AUDIT_CHUNK

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def save_tree(store: Store, make_run, out: Path, task: str, at: datetime,
                    state: RunState = RunState.SUCCEEDED, child_state: RunState | None = None) -> Run:  # fmt: skip
    """A root with one leaf child whose attempt wrote output under ``out``."""
    root = make_run(task, state=state, at=at)
    child = make_run(f"{task}/leaf", state=child_state or state, at=at + timedelta(seconds=1), root=root, parent=root)
    output = out / child.id / "1"
    output.mkdir(parents=True)
    (output / "stdout").write_text("hello\n")
    await store.save_runs([root, child])
    await store.save_attempt(Attempt(run_id=child.id, number=1, state=child.state, output_dir=str(output)))
    return root


async def test_prunes_trees_older_than_days_with_their_output(store: Store, make_run, tmp_path: Path) -> None:
    out = tmp_path / "output"
    old = await save_tree(store, make_run, out, "nightly", NOW - timedelta(days=40))
    recent = await save_tree(store, make_run, out, "nightly", NOW - timedelta(days=2))
    pruned = await store.prune(RetentionConfig(days=30, per_task=None), now=NOW, outputs_under=out)
    assert pruned == Pruned(roots=1, audit_entries=0)
    assert await store.run_tree(old.id) is None
    assert await store.list_runs(task="nightly") != []
    assert {r.root_id for r in await store.list_runs()} == {recent.id}
    remaining = list(out.glob("*/1"))
    assert len(remaining) == 1  # only the recent child's output folder is left
    tree = await store.run_tree(recent.id)
    assert tree is not None and Path(tree.children[0].attempts[0].output_dir).is_dir()


async def test_keeps_only_the_newest_per_task_roots(store: Store, make_run, tmp_path: Path) -> None:
    out = tmp_path / "output"
    a = [await save_tree(store, make_run, out, "a", NOW - timedelta(hours=10 - i)) for i in range(5)]
    b = [await save_tree(store, make_run, out, "b", NOW - timedelta(hours=10 - i)) for i in range(2)]
    pruned = await store.prune(RetentionConfig(days=None, per_task=2), now=NOW)
    assert pruned.roots == 3
    kept = {r.id for r in await store.list_runs(roots_only=True)}
    assert kept == {a[3].id, a[4].id, b[0].id, b[1].id}
    assert len(list(out.glob("*/1"))) == 4


async def test_never_prunes_active_trees(store: Store, make_run, tmp_path: Path) -> None:
    out = tmp_path / "output"
    ancient = NOW - timedelta(days=400)
    running = await save_tree(store, make_run, out, "x", ancient, state=RunState.RUNNING)
    # A terminal root with a child still in flight (e.g. adopted after a crash) stays too.
    odd = await save_tree(store, make_run, out, "x", ancient + timedelta(minutes=1),
                          state=RunState.FAILED, child_state=RunState.RUNNING)  # fmt: skip
    done = await save_tree(store, make_run, out, "x", ancient + timedelta(minutes=2))
    pruned = await store.prune(RetentionConfig(days=1, per_task=0), now=NOW)
    assert pruned.roots == 1
    assert await store.run_tree(done.id) is None
    assert await store.run_tree(running.id) is not None
    assert await store.run_tree(odd.id) is not None
    assert len(await store.active_runs()) == 3  # running root + its child, odd's child


async def test_nothing_to_do_and_keep_everything(store: Store, make_run, tmp_path: Path) -> None:
    out = tmp_path / "output"
    await save_tree(store, make_run, out, "x", NOW - timedelta(days=400))
    assert await store.prune(RetentionConfig(days=None, per_task=None), now=NOW) == (0, 0)
    assert await store.prune(RetentionConfig(days=1000, per_task=10), now=NOW) == (0, 0)
    assert len(await store.list_runs()) == 2


async def test_output_outside_the_allowed_folder_is_left_alone(store: Store, make_run, tmp_path: Path) -> None:
    out = tmp_path / "output"
    await save_tree(store, make_run, out, "x", NOW - timedelta(days=400))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert await store.prune(RetentionConfig(days=1), now=NOW, outputs_under=elsewhere) == (1, 0)
    assert len(list(out.glob("*/1"))) == 1  # rows gone, folder kept: it was not under `elsewhere`


def audit_entry(at: datetime, action: str = "cancel") -> AuditEntry:
    return AuditEntry(at=at, user="alice", role=Role.OPERATOR, action=action, args={"run": "r1"})


async def test_prunes_audit_entries_older_than_audit_days(store: Store) -> None:
    ages = (800, 366, 364, 1)  # days before NOW
    ids = [await store.append_audit(audit_entry(NOW - timedelta(days=age))) for age in ages]
    pruned = await store.prune(RetentionConfig(days=None, per_task=None), now=NOW)  # audit_days=365
    assert pruned == Pruned(roots=0, audit_entries=2)
    assert [e.id for e in await store.audit()] == ids[:1:-1]
    assert await store.prune(RetentionConfig(), now=NOW) == (0, 0)


async def test_audit_retention_is_independent_of_run_retention(store: Store, make_run, tmp_path: Path) -> None:
    await save_tree(store, make_run, tmp_path / "output", "x", NOW - timedelta(days=400))
    await store.append_audit(audit_entry(NOW - timedelta(days=400)))
    assert await store.prune(RetentionConfig(days=1, audit_days=None), now=NOW) == (1, 0)
    assert len(await store.audit()) == 1
    assert await store.prune(RetentionConfig(days=None, per_task=None, audit_days=1), now=NOW) == (0, 1)
    assert await store.audit() == []


async def test_audit_days_none_keeps_every_entry(store: Store) -> None:
    for age in (5000, 400, 1):
        await store.append_audit(audit_entry(NOW - timedelta(days=age)))
    assert await store.prune(RetentionConfig(audit_days=None), now=NOW) == (0, 0)
    assert len(await store.audit()) == 3


async def test_a_large_backlog_goes_in_bounded_transactions(store: Store) -> None:
    old = NOW - timedelta(days=400)
    count = 2 * AUDIT_CHUNK + 5
    # Appended concurrently so group commit writes them in a few transactions, not thousands.
    await asyncio.gather(*(store.append_audit(audit_entry(old + timedelta(seconds=i))) for i in range(count)))
    newest = await store.append_audit(audit_entry(NOW))
    commits = store.stats.commits
    assert await store.prune(RetentionConfig(), now=NOW) == (0, count)
    assert store.stats.commits - commits == 3  # two full chunks and the rest, one commit each
    assert [e.id for e in await store.audit()] == [newest]


async def test_audit_ids_are_never_reused_after_pruning_and_reopening(store: Store, tmp_path: Path) -> None:
    ids = [await store.append_audit(audit_entry(NOW - timedelta(days=400 - i))) for i in range(3)]
    assert await store.prune(RetentionConfig(), now=NOW) == (0, 3)  # every entry, the newest too
    assert await store.audit() == []
    after_prune = await store.append_audit(audit_entry(NOW))
    assert after_prune == ids[-1] + 1
    assert await store.prune(RetentionConfig(audit_days=0.5), now=NOW + timedelta(days=1)) == (0, 1)
    await store.close()
    reopened = await Store.open(tmp_path / "state.db")  # the table is empty: the next id comes from SQLite's sequence
    try:
        after_reopen = await reopened.append_audit(audit_entry(NOW))
        assert after_reopen == after_prune + 1
        assert [e.id for e in await reopened.audit()] == [after_reopen]
    finally:
        await reopened.close()
