"""Start-up reads stay O(tasks), not O(runs): history is never loaded into memory."""

from __future__ import annotations

from datetime import timedelta

from taskflow.model import RunState
from tests.store.conftest import T0


async def test_last_runs_by_task_returns_only_the_newest_of_each_task(store, make_run):
    runs = [make_run(f"task{i % 7}", at=T0 + timedelta(seconds=i)) for i in range(700)]
    runs.append(make_run("task3", state=RunState.RUNNING, at=T0 + timedelta(seconds=900)))
    await store.save_runs(runs)
    last = await store.last_runs_by_task()
    assert sorted(last) == [f"task{i}" for i in range(7)]
    newest = {}
    for run in runs:
        newest[run.task] = run.id
    assert {task: run.id for task, run in last.items()} == newest
    assert last["task3"].state is RunState.RUNNING



async def _steps(store, read) -> int:
    """SQLite virtual-machine steps ``read`` costs: a count, not a time, so not noisy."""
    [conn] = store._readers._conns  # the store's one reader; a progress handler is configuration
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    await conn.set_progress_handler(count, 1)
    try:
        await read()
    finally:
        await conn.set_progress_handler(None, 1)
    return steps


async def test_start_up_status_and_listing_reads_cost_the_same_at_twenty_times_the_history(tmp_path, make_run):
    """What the daemon reads at start and what ``status`` and ``runs --limit 50`` read do not
    grow with history: the same work at 1,000 and at 20,000 finished runs."""
    from taskflow.store import Store

    store = await Store.open(tmp_path / "state.db", readers=1)
    reads = {
        "last_runs_by_task": store.last_runs_by_task,
        "active_runs": store.active_runs,
        "counts_by_state": store.counts_by_state,
        "list_runs(limit=50)": lambda: store.list_runs(limit=50, roots_only=True),
        "task_states": store.task_states,
    }
    try:
        async def fill(start: int, count: int) -> None:
            for at in range(start, start + count, 1000):
                await store.save_runs([make_run(f"task{i % 50}", at=T0 + timedelta(seconds=i))
                                       for i in range(at, at + 1000)])

        await fill(0, 1000)
        await store.save_runs([make_run("task7", state=RunState.RUNNING, at=T0 + timedelta(days=1))])
        small = {name: await _steps(store, read) for name, read in reads.items()}
        await fill(1000, 19_000)
        large = {name: await _steps(store, read) for name, read in reads.items()}
        assert await store.counts_by_state() == {"succeeded": 20_000, "running": 1}
    finally:
        await store.close()
    for name in reads:
        assert large[name] <= small[name] * 1.5 + 500, f"{name}: {small[name]} steps at 1,000 runs, {large[name]} at 20,000"
