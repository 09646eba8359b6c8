"""``status`` counts history from the store and active runs from the engine."""

from __future__ import annotations

from taskflow.protocol import Status, TriggerTask


def test_status_counts_finished_runs_across_a_restart(daemon, wait_terminal):
    daemon.write_tasks('[tasks.ok]\ncommand = "true"\n[tasks.bad]\ncommand = "false"\n')
    daemon.start()
    with daemon.client() as client:
        for task in ("ok", "ok", "bad"):
            wait_terminal(client, client.call(TriggerTask(task=task)).id)
    assert daemon.stop() == 0
    daemon.start()
    with daemon.client() as client:
        status = client.call(Status())
    assert status.counts.get("succeeded") == 2
    assert status.counts.get("failed") == 1
    assert status.tasks == 2 and status.files == 1
