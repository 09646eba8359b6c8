"""Backfill runs across a daemon restart: the slots still run one after another, in order."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

from taskflow.protocol import Backfill, GetRun


def test_backfill_slots_keep_their_order_across_a_restart(daemon, wait_terminal):
    daemon.write_tasks('[tasks.slow]\ncommand = "sleep 4; echo $TASKFLOW_SCHEDULED_AT"\nschedule = "0 * * * *"\n')
    daemon.start()
    with daemon.client() as client:
        info = client.call(Backfill(task="slow", start=datetime(2026, 1, 1, 0), end=datetime(2026, 1, 1, 2)))
        ids = [run.id for run in info.runs]
        assert [run.scheduled_at.hour for run in info.runs] == [0, 1, 2]
        deadline = time.monotonic() + 10
        while client.call(GetRun(run_id=ids[0])).state != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert daemon.stop() == 0  # detaches: the first slot's process goes on
    daemon.start()
    with daemon.client() as client:
        assert client.call(GetRun(run_id=ids[1])).state == "pending"
        runs = [wait_terminal(client, run_id, timeout=30).run for run_id in ids]
    assert [run.state for run in runs] == ["succeeded"] * 3
    for earlier, later in itertools.pairwise(runs):
        assert later.after_run == earlier.id
        assert later.started_at >= earlier.finished_at
