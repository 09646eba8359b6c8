"""Prometheus exposition on a localhost port, fed by real runs."""

from __future__ import annotations

import socket
import time
import urllib.request

from taskflow.protocol import TriggerTask


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_count_runs_by_task_and_state(daemon, wait_terminal):
    port = _free_port()
    config = daemon.workdir / "taskflow.toml"
    config.write_text(f"metrics_port = {port}\n")
    daemon.extra_args = ["--config", str(config)]
    daemon.write_tasks('[tasks.ok]\ncommand = "true"\n[tasks.bad]\ncommand = "exit 2"\n')
    daemon.start()
    with daemon.client() as client:
        for task in ("ok", "ok", "bad"):
            wait_terminal(client, client.call(TriggerTask(task=task)).id)
    deadline = time.monotonic() + 10
    while True:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        if 'taskflow_runs_total{state="failed",task="bad"} 1.0' in body or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert 'taskflow_runs_total{state="succeeded",task="ok"} 2.0' in body
    assert 'taskflow_runs_total{state="failed",task="bad"} 1.0' in body
    assert "taskflow_run_duration_seconds_bucket" in body
    assert "taskflow_running 0.0" in body
