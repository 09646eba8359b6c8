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

