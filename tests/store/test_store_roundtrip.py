"""Every Struct comes back from the database exactly as it went in; queries filter and order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from taskflow.model import (
    Attempt,
    AuditEntry,
    BreakerState,
    BreakerStatus,
    ErrorType,
    Role,
    Run,
    RunState,
    SkipReason,
    TaskSpec,
    Trigger,
    new_ulid,
)
from taskflow.store import Store

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def full_run() -> Run:
    run_id = new_ulid()
    return Run(
        id=run_id,
        task="deploy/migrate",
        root_id=new_ulid(),
        parent_id=new_ulid(),
        state=RunState.FAILED,
        trigger=Trigger.ADHOC,
        priority=0,
        params={"name": "ops", "n": 3, "nested": {"list": [1, 2.5, None, "x"]}},
        created_at=T0,
        started_at=T0 + timedelta(microseconds=1),
        finished_at=T0 + timedelta(hours=2, microseconds=999999),
        not_before=T0 + timedelta(seconds=30),
        error_type=ErrorType.TIMEOUT,
        skip_reason=SkipReason.UPSTREAM,
        message="timed out after 30s — ünïcode",
        exit_code=-9,
        result={"rows": 12, "ok": False},
        attempts=3,
        progress=0.75,
        progress_message="75% copied",
        requested_by="alice",
        spec=msgspec.msgpack.encode(TaskSpec(name="adhoc", kind="command", command="true")),
    )


async def test_run_with_every_field_round_trips(store: Store) -> None:
    run = full_run()
    await store.save_runs([run])
    assert await store.get_run(run.id) == run
    assert await store.get_run("nope") is None


async def test_run_with_defaults_round_trips_and_upsert_updates(store: Store) -> None:
    run = Run(id=new_ulid(), task="hello", root_id="r", created_at=T0)
    await store.save_runs([run])
    stored = await store.get_run(run.id)
    assert stored == run and stored.params == {} and stored.result is None
    run.state = RunState.RUNNING
    run.started_at = T0 + timedelta(seconds=1)
    run.result = [1, 2]
    await store.save_runs([run])
    assert await store.get_run(run.id) == run
    assert await store.counts_by_state() == {"running": 1}


async def test_times_come_back_aware_utc_even_from_naive_or_other_zones(store: Store) -> None:
    from datetime import timezone

    plus2 = timezone(timedelta(hours=2))
    run = Run(id=new_ulid(), task="t", root_id="r", created_at=datetime(2026, 1, 1, 14, 0, tzinfo=plus2),
              started_at=datetime(2026, 1, 1, 12, 0, 1))  # fmt: skip  (naive = UTC)
    await store.save_runs([run])
    stored = await store.get_run(run.id)
    assert stored.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC
    assert stored.started_at == datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)


async def test_attempt_round_trips_and_upserts_on_run_and_number(store: Store) -> None:
    first = Attempt(run_id="r1", number=1, state=RunState.FAILED, pid=4242, pid_started_at=1.7e9 + 0.25,
                    started_at=T0, finished_at=T0 + timedelta(seconds=3), exit_code=None, signal=9,
                    error_type=ErrorType.SIGNAL, message="killed", peak_rss=123456789, cpu_seconds=1.5,
                    output_dir="/var/lib/taskflow/out/r1/1", output_bytes=2048, output_cut=10,
                    result={"partial": True})  # fmt: skip
    second = Attempt(run_id="r1", number=2, started_at=T0 + timedelta(seconds=5))
    await store.save_attempt(first)
    await store.save_attempt(second)
    assert await store.attempts("r1") == [first, second]
    second.state = RunState.SUCCEEDED
    second.exit_code = 0
    await store.save_attempt(second)
    assert await store.attempts("r1") == [first, second]
    assert await store.attempts("other") == []


async def test_breakers_task_states_schedules_meta_round_trip(store: Store) -> None:
    breaker = BreakerState(service="payments-api", status=BreakerStatus.HALF_OPEN, consecutive_failures=4,
                           opened_at=T0, half_open_at=T0 + timedelta(seconds=30), probe_run_id="p",
                           tripped_by="bob", updated_at=T0)  # fmt: skip
    closed = BreakerState(service="auth")
    await store.save_breaker(breaker)
    await store.save_breaker(closed)
    assert await store.breakers() == [closed, breaker]  # ordered by service
    breaker.status = BreakerStatus.CLOSED
    await store.save_breaker(breaker)
    assert (await store.breakers())[1] == breaker

    await store.set_task_state("nightly", False, "maintenance window", "alice")
    await store.set_task_state("hello", True, None, None)
    await store.set_task_state("nightly", True, None, "bob")
    assert await store.task_states() == {"hello": (True, None), "nightly": (True, None)}

    await store.save_schedule("nightly", T0, T0 + timedelta(days=1))
    await store.save_schedule("fresh", None, T0)
    assert await store.schedules() == {"fresh": (None, T0), "nightly": (T0, T0 + timedelta(days=1))}

    await store.set_meta("daemon_started_at", "2026-03-01T12:00:00Z")
    assert await store.get_meta("daemon_started_at") == "2026-03-01T12:00:00Z"
    assert await store.get_meta("missing") is None


async def test_audit_ids_increase_newest_first_and_survive_reopen(store: Store, tmp_path) -> None:
    entries = [
        AuditEntry(at=T0 + timedelta(seconds=i), user="alice", role=Role.OPERATOR, action="cancel",
                   args={"run": f"r{i}"}, outcome="ok" if i else "run r0 not found")
        for i in range(3)
    ]
    ids = [await store.append_audit(entry) for entry in entries]
    assert ids == sorted(ids) and len(set(ids)) == 3
    got = await store.audit(limit=2)
    assert [e.id for e in got] == ids[:0:-1]
    expected = msgspec.structs.replace(entries[2], id=ids[2])
    assert got[0] == expected
    await store.close()
    reopened = await Store.open(tmp_path / "state.db")
    try:
        new_id = await reopened.append_audit(entries[0])
        assert new_id > ids[-1]
    finally:
        await reopened.close()


async def test_run_tree_nests_children_in_creation_order_with_attempts(store: Store, make_run) -> None:
    root = make_run("nightly", state=RunState.RUNNING, at=T0)
    backup = make_run("nightly/backup", state=RunState.SUCCEEDED, at=T0 + timedelta(seconds=1), root=root, parent=root)
    verify = make_run("nightly/verify", state=RunState.RUNNING, at=T0 + timedelta(seconds=2), root=root, parent=root)
    leaf = make_run("nightly/verify/x", state=RunState.QUEUED, at=T0 + timedelta(seconds=3), root=root, parent=verify)
    other = make_run("other", at=T0)
    # Saved out of order, in two calls: the tree is rebuilt from the rows alone.
    await store.save_runs([leaf, verify])
    await store.save_runs([backup, root, other])
    await store.save_attempt(Attempt(run_id=backup.id, number=1, state=RunState.FAILED))
    await store.save_attempt(Attempt(run_id=backup.id, number=2, state=RunState.SUCCEEDED))
    tree = await store.run_tree(root.id)
    assert tree is not None and tree.run == root
    assert [c.run.id for c in tree.children] == [backup.id, verify.id]
    assert [a.number for a in tree.children[0].attempts] == [1, 2]
    assert [c.run for c in tree.children[1].children] == [leaf]
    assert [n.run.id for n in tree.walk()] == [root.id, backup.id, verify.id, leaf.id]
    assert await store.run_tree("missing") is None


async def test_list_runs_filters_and_pages_newest_first(store: Store, make_run) -> None:
    runs: list[Run] = []
    for i in range(6):
        root = make_run("nightly", state=RunState.FAILED if i % 2 else RunState.SUCCEEDED,
                        at=T0 + timedelta(minutes=i))  # fmt: skip
        child = make_run("nightly/backup", at=T0 + timedelta(minutes=i, seconds=1), root=root, parent=root)
        runs += [root, child]
    lookalike = make_run("nightlyx", at=T0 + timedelta(hours=1))  # not a descendant of nightly
    await store.save_runs(runs + [lookalike])

    everything = await store.list_runs()
    assert [r.id for r in everything] == sorted((r.id for r in runs + [lookalike]), reverse=True)

    tree = await store.list_runs(task="nightly")
    assert {r.task for r in tree} == {"nightly", "nightly/backup"} and len(tree) == 12
    roots = await store.list_runs(task="nightly", roots_only=True)
    assert len(roots) == 6 and all(r.parent_id is None for r in roots)
    assert [r.id for r in await store.list_runs(roots_only=True, limit=2)] == [lookalike.id, roots[0].id]
    failed = await store.list_runs(state=RunState.FAILED)
    assert len(failed) == 3 and all(r.state is RunState.FAILED for r in failed)

    page1 = await store.list_runs(task="nightly", limit=5)
    page2 = await store.list_runs(task="nightly", limit=5, before=page1[-1].id)
    page3 = await store.list_runs(task="nightly", limit=5, before=page2[-1].id)
    assert [r.id for r in page1 + page2 + page3] == [r.id for r in tree]


async def test_active_runs_last_runs_by_task_and_counts(store: Store, make_run) -> None:
    old = make_run("a", state=RunState.SUCCEEDED, at=T0)
    new = make_run("a", state=RunState.FAILED, at=T0 + timedelta(minutes=1))
    running = make_run("b", state=RunState.RUNNING, at=T0)
    queued = make_run("c", state=RunState.QUEUED, at=T0)
    retrying = make_run("c", state=RunState.RETRYING, at=T0 + timedelta(seconds=1))
    await store.save_runs([old, new, running, queued, retrying])
    assert {r.id for r in await store.active_runs()} == {running.id, queued.id, retrying.id}
    last = await store.last_runs_by_task()
    assert {task: run.id for task, run in last.items()} == {"a": new.id, "b": running.id, "c": retrying.id}
    assert await store.counts_by_state() == {"succeeded": 1, "failed": 1, "running": 1, "queued": 1, "retrying": 1}
