"""Schedules fire by themselves and resume after a restart."""

from __future__ import annotations

import itertools
import time

from taskflow.protocol import ListRuns, ListTasks, ReadLogs


def _scheduled_runs(client) -> list:
    return [r for r in client.call(ListRuns(limit=500)) if r.trigger == "schedule"]


def test_interval_schedule_fires_and_resumes_after_restart(daemon):
    daemon.write_tasks('[tasks.tick]\ncommand = "true"\nschedule = { every = "1s" }\n')
    daemon.start()
    deadline = time.monotonic() + 15
    with daemon.client() as client:
        while time.monotonic() < deadline and len(_scheduled_runs(client)) < 2:
            time.sleep(0.2)
        fired = len(_scheduled_runs(client))
        [info] = client.call(ListTasks())
    assert fired >= 2
    assert info.next_run is not None and info.schedule == "every 1.0s"
    assert daemon.stop() == 0

    daemon.start()
    deadline = time.monotonic() + 15
    with daemon.client() as client:
        while time.monotonic() < deadline and len(_scheduled_runs(client)) <= fired:
            time.sleep(0.2)
        assert len(_scheduled_runs(client)) > fired


def test_disabled_task_does_not_fire(daemon):
    daemon.write_tasks('[tasks.tick]\ncommand = "true"\nschedule = { every = "1s" }\nenabled = false\n')
    daemon.start()
    time.sleep(2.5)
    with daemon.client() as client:
        assert _scheduled_runs(client) == []


def test_missed_all_fires_each_missed_slot_in_order_capped_at_max_missed(daemon):
    daemon.write_tasks(
        '[tasks.tick]\ncommand = "echo $TASKFLOW_SCHEDULED_AT; sleep 0.3"\n'
        'schedule = { every = "1s", missed = "all", max_missed = 3 }\n'
    )
    daemon.start()
    deadline = time.monotonic() + 15
    with daemon.client() as client:
        while time.monotonic() < deadline and not _scheduled_runs(client):
            time.sleep(0.1)
    assert daemon.stop() == 0
    time.sleep(5)  # at least 4 slots pass while the daemon is down
    restart = time.time()
    daemon.start()
    with daemon.client() as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runs = _scheduled_runs(client)
            catch_up = sorted((r for r in runs if r.created_at.timestamp() >= restart), key=lambda r: r.id)[:3]
            if len(catch_up) == 3 and all(r.state.terminal for r in catch_up):
                break
            time.sleep(0.2)
        last_before = max(r.scheduled_at for r in runs if r.created_at.timestamp() < restart)
    slots = [run.scheduled_at for run in catch_up]
    # The missed slots, oldest first, one second apart: only the newest max_missed = 3 of
    # the 4 or more missed while the daemon was down.
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(slots)] == [1.0, 1.0]
    assert (slots[0] - last_before).total_seconds() >= 2.0
    assert slots[-1].timestamp() <= restart + 1
    assert all(run.state == "succeeded" for run in catch_up)
    for earlier, later in itertools.pairwise(catch_up):  # one after another, each after the last
        assert later.after_run == earlier.id
        assert later.started_at >= earlier.finished_at


def test_every_scheduled_run_knows_its_slot(daemon):
    daemon.write_tasks('[tasks.tick]\ncommand = "echo slot=$TASKFLOW_SCHEDULED_AT"\nschedule = { every = "1s" }\n')
    daemon.start()
    deadline = time.monotonic() + 15
    with daemon.client() as client:
        while time.monotonic() < deadline and not [r for r in _scheduled_runs(client) if r.state.terminal]:
            time.sleep(0.1)
        run = next(r for r in _scheduled_runs(client) if r.state.terminal)
        chunk = client.call(ReadLogs(run_id=run.id, stream="stdout"))
    assert run.scheduled_at is not None and run.scheduled_at.microsecond == 0
    assert run.scheduled_at <= run.created_at
    assert chunk.data.decode().strip() == "slot=" + run.scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ")
