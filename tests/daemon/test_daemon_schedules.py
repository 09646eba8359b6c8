"""Schedules fire by themselves and resume after a restart."""

from __future__ import annotations

import time

from taskflow.protocol import ListRuns, ListTasks


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
